/**
 * `trialbook` command line. Each command lives in its own file under ./commands and registers
 * itself on the program; this file only wires them and turns errors into one clear line.
 */
import { Command, CommanderError } from 'commander';
import { isUserError } from '../core/errors';
import { makeObjective } from '../runner/objective-factory';
import { commands } from './commands';
import type { ObjectiveFactory } from './study-run';

export interface CliOptions {
  /** The objective trials run in (default: a worker process). */
  objective?: ObjectiveFactory;
}

export function buildProgram(o: CliOptions = {}): Command {
  const program = new Command();
  program
    .name('trialbook')
    .description('Split, tokenize, fine-tune and tune BERT-style text classifiers.')
    .version('0.1.0')
    .showHelpAfterError('(run with --help for usage)');
  const ctx = { objective: o.objective ?? makeObjective, program: () => buildProgram(o) };
  for (const register of commands) register(program, ctx);
  return program;
}

export async function main(argv: string[], o: CliOptions = {}): Promise<number> {
  const program = buildProgram(o);
  program.exitOverride();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    return reportError(e);
  }
}

/** Prints an error for a person: the message only; the stack only with TRIALBOOK_DEBUG=1. */
export function reportError(e: unknown): number {
  if (e instanceof CommanderError) {
    // commander has already printed its message (unknown option, --help, --version).
    return e.exitCode;
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

/** Entry used by bin/trialbook.js. */
export function run(argv: string[] = process.argv, o: CliOptions = {}): void {
  main(argv, o).then((code) => {
    process.exitCode = code;
  });
}
