import { readFileSync } from 'node:fs';
import { constants } from 'node:os';

/** Is process `pid` on this host still running? (A lock's holder, a temporary file's writer.) */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
  // A killed process not yet reaped by its parent (zombie) still answers signal 0.
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true;
  }
}

/**
 * Exit code of a process a signal stopped: 128 + the signal's number, as a shell reports a
 * process that signal ended (Ctrl-C 130, SIGTERM 143), so a scheduler can tell it from success.
 */
export function signalExitCode(sig: NodeJS.Signals): number {
  return 128 + constants.signals[sig];
}
