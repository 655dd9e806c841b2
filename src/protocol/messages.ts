/**
 * The one message protocol shared by the worker process, the extension host, the CLI and the
 * webview. Every message crossing a process or webview boundary is parsed with these schemas,
 * so a malformed message is rejected at the boundary instead of deep inside a handler.
 */
import { z } from 'zod';

export const ParamValue = z.union([z.number(), z.string(), z.boolean()]);
export type ParamValue = z.infer<typeof ParamValue>;
export const Params = z.record(z.string(), ParamValue);
export type Params = z.infer<typeof Params>;

export const TrialState = z.enum(['queued', 'running', 'complete', 'failed', 'pruned']);
export type TrialState = z.infer<typeof TrialState>;

/** One row of a learning curve: per epoch, or every K steps while an epoch runs (`step` set). */
export const Metric = z.object({
  epoch: z.number(),
  step: z.number().optional(),
  train_loss: z.number().nullable(),
  val_loss: z.number().nullable().optional(),
  val_accuracy: z.number().nullable().optional(),
  learning_rate: z.number().optional(),
  examples_per_sec: z.number().optional(),
  elapsed_s: z.number().optional(),
});
export type Metric = z.infer<typeof Metric>;

/** Heavy jobs the worker runs. `kind` picks the handler; the payload is the job's own options. */
export const Job = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('split'), options: z.record(z.string(), z.unknown()) }),
  z.object({ kind: z.literal('tokenize'), options: z.record(z.string(), z.unknown()) }),
  z.object({ kind: z.literal('lengths'), options: z.record(z.string(), z.unknown()) }),
  z.object({ kind: z.literal('trial'), options: z.record(z.string(), z.unknown()) }),
  z.object({ kind: z.literal('evaluate'), options: z.record(z.string(), z.unknown()) }),
  z.object({ kind: z.literal('echo'), options: z.record(z.string(), z.unknown()) }),
]);
export type Job = z.infer<typeof Job>;

/** Parent (CLI or extension) → worker. */
export const ToWorker = z.discriminatedUnion('type', [
  z.object({ type: z.literal('run'), id: z.string(), job: Job }),
  z.object({ type: z.literal('cancel'), id: z.string() }),
  z.object({ type: z.literal('shutdown') }),
]);
export type ToWorker = z.infer<typeof ToWorker>;

export const WorkerError = z.object({
  message: z.string(),
  /** 'user' = bad input the user can fix; 'oom', 'nan', 'cancelled', 'crash', 'internal'. */
  cause: z.enum(['user', 'oom', 'nan', 'cancelled', 'crash', 'internal']),
  detail: z.string().optional(),
});
export type WorkerError = z.infer<typeof WorkerError>;

/** Worker → parent. */
export const FromWorker = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ready'), pid: z.number(), backend: z.string().optional(), threads: z.number().optional() }),
  z.object({ type: z.literal('progress'), id: z.string(), done: z.number(), total: z.number().optional(), message: z.string().optional() }),
  z.object({ type: z.literal('metric'), id: z.string(), metric: Metric }),
  z.object({ type: z.literal('log'), id: z.string().optional(), level: z.enum(['debug', 'info', 'warn', 'error']), text: z.string() }),
  z.object({ type: z.literal('result'), id: z.string(), result: z.unknown() }),
  z.object({ type: z.literal('error'), id: z.string(), error: WorkerError }),
]);
export type FromWorker = z.infer<typeof FromWorker>;

/** A trial as the explorer, the dashboard and reports see it. */
export const TrialView = z.object({
  number: z.number(),
  state: TrialState,
  params: Params,
  value: z.number().nullable(),
  values: z.array(z.number()).optional(),
  bestEpoch: z.number().optional(),
  epochs: z.number().optional(),
  durationS: z.number().optional(),
  error: z.string().optional(),
  curve: z.array(Metric).optional(),
  bracket: z.string().optional(),
});
export type TrialView = z.infer<typeof TrialView>;

export const StudyView = z.object({
  name: z.string(),
  file: z.string(),
  objective: z.object({ metric: z.string(), direction: z.enum(['minimize', 'maximize']) }),
  tuner: z.string(),
  trials: z.array(TrialView),
  bestTrial: z.number().nullable(),
  seqlen: z.array(z.object({ maxLen: z.number(), mean: z.number().nullable(), std: z.number().nullable(), n: z.number() })).optional(),
  lengths: z.object({ histogram: z.array(z.tuple([z.number(), z.number()])), truncated: z.record(z.string(), z.number()) }).optional(),
});
export type StudyView = z.infer<typeof StudyView>;

/** Extension → webview. */
export const ToWebview = z.discriminatedUnion('type', [
  z.object({ type: z.literal('study'), study: StudyView }),
  z.object({ type: z.literal('metric'), trial: z.number(), metric: Metric }),
  z.object({ type: z.literal('requestChartPng'), chart: z.string(), requestId: z.string() }),
]);
export type ToWebview = z.infer<typeof ToWebview>;

/** Webview → extension. */
export const FromWebview = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ready') }),
  z.object({ type: z.literal('selectTrial'), trial: z.number() }),
  z.object({ type: z.literal('chartPng'), requestId: z.string(), chart: z.string(), dataUrl: z.string() }),
  z.object({ type: z.literal('rendered'), ms: z.number(), rows: z.number() }),
]);
export type FromWebview = z.infer<typeof FromWebview>;
