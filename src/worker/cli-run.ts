/**
 * Runs one job in a worker on behalf of a CLI command: Ctrl-C (or SIGTERM) cancels the job
 * cleanly (the worker stops within one step), a second Ctrl-C stops waiting, and the process
 * exits 130 / 143. Failures become one line for a person, never a stack.
 */
import { UserError } from '../core/errors';
import { signalExitCode } from '../core/process';
import type { JobInput } from '../protocol/messages';
import { WorkerClient, type JobHandlers, type WorkerClientOptions } from './client';
import { isWorkerJobError } from './errors';

export interface CliJobOutcome<T> {
  ok: boolean;
  result?: T;
  /** Exit code to use when !ok. */
  code: number;
}

export async function runJobFromCli<T>(job: JobInput, handlers: JobHandlers, clientOptions: WorkerClientOptions = {}): Promise<CliJobOutcome<T>> {
  const client = new WorkerClient({
    execPath: process.env.TRIALBOOK_WORKER_NODE || undefined,
    ...clientOptions,
  });
  let signalled: NodeJS.Signals | undefined;
  let run: ReturnType<WorkerClient['run']> | undefined;
  const onSignal = (sig: NodeJS.Signals) => {
    if (signalled) {
      // Second Ctrl-C: stop waiting for a clean stop.
      process.stderr.write('trialbook: stopping the worker now\n');
      void client.close();
      process.exit(signalExitCode(sig));
    }
    signalled = sig;
    process.stderr.write('\ntrialbook: cancelling (Ctrl-C again to stop at once)…\n');
    if (run) client.cancel(run.id);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    run = client.run<T>(job, handlers);
    const result = (await run) as T;
    if (signalled) return cancelled(signalled);
    return { ok: true, result, code: 0 };
  } catch (e) {
    if (!isWorkerJobError(e)) throw e;
    // After Ctrl-C, a worker that died of the same signal was also cancelled, not crashed.
    if (signalled && (e.cause === 'cancelled' || e.cause === 'crash')) return cancelled(signalled);
    if (e.cause === 'user' || e.cause === 'environment') throw new UserError(e.message, 'E_JOB');
    const label = e.cause === 'internal' ? 'failed' : `failed (${e.cause})`;
    process.stderr.write(`trialbook: ${job.kind} ${label}: ${e.message}\n`);
    if (e.cause === 'internal') process.stderr.write('(set TRIALBOOK_DEBUG=1 to see the worker stack trace, and please report it)\n');
    return { ok: false, code: 1 };
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await client.close();
  }
}

function cancelled(sig: NodeJS.Signals): CliJobOutcome<never> {
  process.stderr.write('trialbook: cancelled\n');
  return { ok: false, code: signalExitCode(sig) };
}
