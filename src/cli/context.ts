/** What every command gets from the program that registers it; tests and the demo swap parts. */
import type { Command } from 'commander';
import type { LoadedStudy } from '../core/study';
import type { ObjectiveFactory } from './study-run';

export interface CommandContext {
  /** The objective trials run in: a worker process (the tests' own CLI passes a cheap one). */
  objective: ObjectiveFactory;
  /** Checks the study's data before its first trial (the tests' cheap objective reads none). */
  checkData(loaded: LoadedStudy): void;
  /** A fresh program with every command, for a command that runs others (demo). */
  program(): Command;
}

export type RegisterCommand = (program: Command, ctx: CommandContext) => void;
