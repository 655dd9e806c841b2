/**
 * What a run of trials tells its caller: `tune`, `worker` and `seqlen`, on a local or a shared
 * study, emit the same events (one JSON line each with `--json`), and the extension parses
 * every line with `RunEvent` before it reads one.
 */
import { z } from 'zod';
import { Metric, Params } from './messages';

/**
 * Why a trial failed, as the journal's `failed.reason` stores it. `user`: bad input (data,
 * checkpoint); `environment`: the machine (disk full, I/O error, a file gone); `interrupted`
 * and `heartbeat lost`: the process or machine running it went away.
 */
export const FailureReason = z.enum(['error', 'nan', 'oom', 'crash', 'user', 'environment', 'cancelled', 'interrupted', 'heartbeat lost']);
export type FailureReason = z.infer<typeof FailureReason>;

export const StopReason = z.enum(['done', 'cancelled', 'failures']);
export type StopReason = z.infer<typeof StopReason>;

const trial = z.number().int();

/**
 * Where an attempt's starting weights came from: its own earlier checkpoint ('own'), the
 * checkpoint of the trial it was promoted from (`from`) found on this machine ('local') or
 * fetched from the shared database ('database'), or nothing: trained from scratch for the whole
 * budget ('none', with the reason). Recorded for every promoted trial, so no fallback is silent;
 * the journal stores it as it is.
 */
export const CheckpointOrigin = z.object({
  source: z.enum(['own', 'local', 'database', 'none']),
  attempt: z.number().optional(),
  /** The trial whose checkpoint was continued (promotions). */
  from: z.number().optional(),
  /** Last epoch in that checkpoint, when known: training continued at epoch + 1. */
  epoch: z.number().optional(),
  /** Fetched from the database: size and time taken. */
  bytes: z.number().optional(),
  ms: z.number().optional(),
  /** Why there was no checkpoint to continue. */
  reason: z.string().optional(),
});
export type CheckpointOrigin = z.infer<typeof CheckpointOrigin>;

export const RunEvent = z.discriminatedUnion('type', [
  /** Trials whose process (local) or machine (shared: no heartbeat) went away, marked failed to be re-run. */
  z.object({ type: z.literal('recovered'), trials: z.array(trial), reason: FailureReason.extract(['interrupted', 'heartbeat lost']) }),
  /** `index`: the trial's place among this run's trials, of `total` when the budget says. */
  z.object({ type: z.literal('trial-started'), trial, worker: z.string(), params: Params, attempt: z.number(), resume: z.boolean(), epochs: z.number(), index: z.number(), total: z.number().optional(), tag: z.record(z.string(), z.unknown()).optional() }),
  /** Where an attempt's starting weights came from, for a trial of `epochs`. */
  CheckpointOrigin.extend({ type: z.literal('checkpoint'), trial, epochs: z.number() }),
  z.object({ type: z.literal('checkpoint-stored'), trial, attempt: z.number(), bytes: z.number(), files: z.number(), ms: z.number() }),
  z.object({ type: z.literal('checkpoints-dropped'), trials: z.array(trial), count: z.number() }),
  z.object({ type: z.literal('metric'), trial, metric: Metric }),
  z.object({ type: z.literal('log'), trial: trial.optional(), level: z.enum(['debug', 'info', 'warn', 'error']), text: z.string() }),
  z.object({ type: z.literal('trial-finished'), trial, value: z.number(), result: z.record(z.string(), z.unknown()), best: z.object({ trial, value: z.number() }) }),
  z.object({ type: z.literal('trial-failed'), trial, reason: FailureReason, message: z.string(), willRetry: z.boolean() }),
  /** Shared study: another worker took the trial over while this one was unreachable. */
  z.object({ type: z.literal('taken-over'), trial }),
  /** Shared study: nothing to claim until trials running elsewhere end. */
  z.object({ type: z.literal('waiting'), running: z.number() }),
  z.object({ type: z.literal('stopped'), reason: StopReason, message: z.string() }),
  /** The command's closing counts (each command adds its own fields). */
  z.looseObject({ type: z.literal('summary') }),
]);
export type RunEvent = z.infer<typeof RunEvent>;
