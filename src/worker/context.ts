/** What a job handler gets from the worker: a way to report, and to learn it was cancelled. */
import type { Metric } from '../protocol/messages';
import type { WorkerBackend } from './backend';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface JobContext {
  readonly id: string;
  progress(done: number, total?: number, message?: string): void;
  metric(m: Metric): void;
  log(level: LogLevel, text: string): void;
  /** True once the parent asked to cancel this job; jobs poll it between steps. */
  cancelled(): boolean;
  /** Throws CancelledError when cancelled: call it between stages. */
  checkCancelled(): void;
  /** Initialises the engine backend once per worker (lazily: split/tokenize jobs never pay). */
  backend(preference?: string): Promise<WorkerBackend>;
  /** Declares that this job left the worker's memory as it found it: it does not count toward recycling. */
  memoryUnchanged(): void;
}

export type JobHandler<O, R> = (options: O, ctx: JobContext) => Promise<R>;
