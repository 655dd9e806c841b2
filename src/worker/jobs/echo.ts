/**
 * TEST-ONLY job. Echoes its value and, on request, streams metrics, sends a malformed message,
 * ignores cancel, fails in a chosen way or dies, so the client's cancel/kill/crash paths can be
 * tested against a real child process without training anything.
 */
import { UserError } from '../../core/errors';
import type { EchoJobOptions } from '../../protocol/messages';
import type { JobContext } from '../context';
import { CancelledError } from '../errors';

const held: Buffer[] = [];

export interface EchoResult {
  value: unknown;
  metricsSent: number;
  pid: number;
}

export async function echoJob(o: EchoJobOptions, ctx: JobContext): Promise<EchoResult> {
  if (o.malformed) ctx.sendRaw({ type: 'metric', id: ctx.id, metric: { epoch: 'not a number' } });
  for (const line of o.logs ?? []) ctx.log('info', line);
  if (o.holdMiB) {
    const b = Buffer.alloc(Math.round(o.holdMiB * 1024 * 1024), 1);
    held.push(b);
  }
  let sent = 0;
  for (let i = 0; i < o.metrics; i++) {
    if (!o.ignoreCancel && ctx.cancelled()) throw new CancelledError(`echo cancelled after ${sent} metrics`);
    if (o.delayMs) await new Promise((r) => setTimeout(r, o.delayMs));
    ctx.metric({ epoch: i + 1, train_loss: 1 / (i + 1), val_loss: 1 / (i + 2), val_accuracy: i / (i + 1) });
    ctx.progress(i + 1, o.metrics);
    sent++;
  }
  if (!o.ignoreCancel && ctx.cancelled()) throw new CancelledError(`echo cancelled after ${sent} metrics`);
  switch (o.fail) {
    case 'user':
      throw new UserError('echo.tsv:3: label "maybe" is not one of 0, 1');
    case 'nan':
      throw Object.assign(new Error('training loss became NaN at step 7; lower the learning rate'), { cause: 'nan' });
    case 'oom':
      throw new Error('Array buffer allocation failed');
    case 'internal':
      throw new TypeError('echo: deliberate internal failure');
    case 'uncaught':
      // Thrown outside the job's promise chain: only the process-level handler sees it.
      setTimeout(() => {
        throw new Error('echo: deliberate uncaught exception');
      }, 0);
      await new Promise(() => {});
      break;
    case 'heap': {
      // Grows the JS heap until V8 gives up (the client runs the worker with a small heap limit).
      const hog: number[][] = [];
      for (;;) hog.push(new Array(1 << 16).fill(hog.length));
    }
    case 'exit':
      process.exit(3);
    // eslint-disable-next-line no-fallthrough
    case 'spin':
      // Blocks the event loop: the worker cannot even read the cancel message.
      for (;;) {
        /* spin */
      }
    default:
      break;
  }
  if (o.ignoreCancel && ctx.cancelled()) await new Promise(() => {});
  return { value: o.value, metricsSent: sent, pid: process.pid };
}
