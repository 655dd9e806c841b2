/**
 * `trialbook` command line. Each command lives in its own file under ./commands and registers
 * itself on the program; this file only wires them and turns errors into one clear line.
 */
import { Command, CommanderError } from 'commander';
import { isUserError } from '../core/errors';
import { checkDataBeforeTrials, makeObjective } from '../runner/objective-factory';
import { commands } from './commands';
import type { CommandContext } from './context';
import type { ObjectiveFactory } from './study-run';

export interface CliOptions {
  /** The objective trials run in (default: a worker process). */
  objective?: ObjectiveFactory;
  /** What is checked of a study's data before its first trial (default: the split is made or reused). */
  checkData?: CommandContext['checkData'];
}

export function buildProgram(o: CliOptions = {}): Command {
  const program = new Command();
  program
    .name('trialbook')
    .description('Split, tokenize, fine-tune and tune BERT-style text classifiers.')
    .version('0.1.0')
    // Before the commands register: they inherit both. Usage errors are printed by reportError, in one line.
    .exitOverride()
    .configureOutput({ outputError: () => undefined });
  const ctx = { objective: o.objective ?? makeObjective, checkData: o.checkData ?? checkDataBeforeTrials, program: () => buildProgram(o) };
  for (const register of commands) register(program, ctx);
  return program;
}

export async function main(argv: string[], o: CliOptions = {}): Promise<number> {
  const program = buildProgram(o);
  let command = 'trialbook';
  program.hook('preSubcommand', (_, sub) => {
    command = `trialbook ${sub.name()}`;
  });
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    return reportError(e, command);
  }
}

/**
 * Prints an error for a person: the message only; the stack only with TRIALBOOK_DEBUG=1. Usage
 * errors (unknown option, missing argument) are one line, exit code 2, like every user error.
 */
export function reportError(e: unknown, command = 'trialbook'): number {
  if (e instanceof CommanderError) {
    // Help and version: commander has printed them already.
    if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return e.exitCode === 0 ? 0 : 2;
    process.stderr.write(`trialbook: ${e.message.replace(/^error: /, '').replace(/\s*\n\s*/g, ' ')} (see ${command} --help)\n`);
    return 2;
  }
  if (isUserError(e)) {
    process.stderr.write(`trialbook: ${e.message}\n`);
    return 2;
  }
  const err = e as Error;
  process.stderr.write(`trialbook: internal error: ${err?.message ?? String(e)}\n`);
  if (process.env.TRIALBOOK_DEBUG) process.stderr.write(`${err?.stack ?? ''}\n`);
  else process.stderr.write('(set TRIALBOOK_DEBUG=1 to see the stack trace, and please report it)\n');
  return 1;
}

/**
 * Standard output that cannot be written (`> /dev/full`, a full disk): one line and exit 2; a
 * reader that went away (`| head`) ends the command quietly. Either way the exit handlers run,
 * so a study's lock is released and its journal is as the last fsync left it.
 */
function exitOnStdoutError(e: NodeJS.ErrnoException): void {
  if (e.code === 'EPIPE') process.exit(0);
  process.stderr.write(`trialbook: cannot write to standard output (${e.code ?? e.message}${e.code === 'ENOSPC' ? ': disk full' : ''}); stopped\n`);
  process.exit(2);
}

/** Entry used by bin/trialbook.js. */
export function run(argv: string[] = process.argv, o: CliOptions = {}): void {
  process.stdout.on('error', exitOnStdoutError);
  main(argv, o).then((code) => {
    process.exitCode = code;
  });
}
