/**
 * Runs the bundled CLI (bin/trialbook.js → dist/cli.js) as a child process: `tune`/`seqlen` with `--json` for the
 * long runs, `report` for exports. JSON lines on stdout become events; stderr lines go to the
 * log. Stop sends SIGINT, which the CLI turns into "cancel the running trial, keep the journal";
 * if it has not exited after a grace period it is killed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { childRuntime } from './settings';

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Last stderr lines (the CLI prints `trialbook: <message>` on a user error). */
  stderr: string[];
}

export interface CliRunOptions {
  extensionPath: string;
  args: string[];
  cwd: string;
  onJson?(event: Record<string, unknown>): void;
  onText?(line: string): void;
  onStderr?(line: string): void;
  env?: NodeJS.ProcessEnv;
}

export class CliProcess {
  readonly child: ChildProcess;
  readonly done: Promise<CliResult>;
  private stopping = false;
  private killTimer: NodeJS.Timeout | undefined;

  constructor(opts: CliRunOptions) {
    const rt = childRuntime();
    // The launcher runs dist/cli.js (which only exports run()); it ships in the VSIX.
    const cli = join(opts.extensionPath, 'bin', 'trialbook.js');
    this.child = spawn(rt.node, [cli, ...opts.args], { cwd: opts.cwd, env: { ...rt.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    const stderr: string[] = [];
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      if (line.startsWith('{')) {
        try {
          opts.onJson?.(JSON.parse(line) as Record<string, unknown>);
          return;
        } catch {
          // not JSON after all: fall through to text
        }
      }
      opts.onText?.(line);
    });
    createInterface({ input: this.child.stderr! }).on('line', (line) => {
      stderr.push(line);
      if (stderr.length > 40) stderr.shift();
      opts.onStderr?.(line);
    });
    this.done = new Promise((resolve) => {
      this.child.on('error', (e) => {
        stderr.push(`could not start ${rt.node}: ${e.message}`);
        resolve({ code: null, signal: null, stderr });
      });
      this.child.on('close', (code, signal) => {
        if (this.killTimer) clearTimeout(this.killTimer);
        resolve({ code, signal, stderr });
      });
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get isStopping(): boolean {
    return this.stopping;
  }

  /** Graceful stop (the CLI cancels the running trial and closes the journal), then a kill. */
  stop(graceMs = 20_000): void {
    if (this.stopping || this.child.exitCode !== null) return;
    this.stopping = true;
    this.child.kill('SIGINT');
    this.killTimer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
  }
}

/** A user-facing message from a failed CLI run: its `trialbook: …` lines, else the tail. */
export function cliError(r: CliResult): string {
  const mine = r.stderr.filter((l) => l.startsWith('trialbook:') || l.startsWith('  '));
  const text = (mine.length ? mine : r.stderr.slice(-5)).join('\n').replace(/^trialbook: /, '');
  return text || `exit code ${r.code ?? r.signal}`;
}

export function studyCwd(studyFile: string): string {
  return dirname(studyFile);
}
