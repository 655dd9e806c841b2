/**
 * The tests' `echo` job, run by the tests' worker (testing/worker.ts). It echoes its value and,
 * on request, streams metrics, sends a malformed message, ignores cancel, fails in a chosen way
 * or dies, so the client's cancel/kill/crash paths are tested against a real child process
 * without training anything.
 */
import { z } from 'zod';
import { UserError } from '../src/core/errors';
import { Job, type JobInput, type JobKind } from '../src/protocol/messages';
import type { JobContext } from '../src/worker/context';
import { CancelledError } from '../src/worker/errors';

export const EchoJobOptions = z.object({
  value: z.unknown().optional(),
  /** Emit this many metrics, `delayMs` apart. */
  metrics: z.number().int().min(0).default(0),
  delayMs: z.number().min(0).default(0),
  logs: z.array(z.string()).optional(),
  /** Keep going when cancelled, so the client has to kill the worker. */
  ignoreCancel: z.boolean().optional(),
  /** Send one message the parent must reject before the real ones. */
  malformed: z.boolean().optional(),
  /** Fail on purpose: throw an error of that kind, throw outside the job, exit, spin forever, or fill the V8 heap. */
  fail: z.enum(['user', 'nan', 'oom', 'internal', 'uncaught', 'exit', 'spin', 'heap']).optional(),
  /** Allocate this many MiB (kept until the worker exits) — memory/recycling tests. */
  holdMiB: z.number().min(0).optional(),
});
export type EchoJobOptions = z.infer<typeof EchoJobOptions>;


/** The jobs the tests' worker runs: every real one, and echo. */
export const TestJob = z.discriminatedUnion('kind', [...Job.options, z.object({ kind: z.literal('echo'), options: EchoJobOptions })]);
export type TestJob = z.infer<typeof TestJob>;

/** An echo job as a client request (the real protocol does not know the kind). */
export function echo(options: z.input<typeof EchoJobOptions> = {}): JobInput {
  return { kind: 'echo', options } as unknown as JobInput;
}

/** The echo kind, where a client takes job kinds (recycleKinds). */
export const ECHO = 'echo' as JobKind;

const held: Buffer[] = [];

export interface EchoResult {
  value: unknown;
  metricsSent: number;
  pid: number;
}

export async function echoJob(o: EchoJobOptions, ctx: JobContext): Promise<EchoResult> {
  if (o.malformed) process.send!({ type: 'metric', id: ctx.id, metric: { epoch: 'not a number' } });
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
