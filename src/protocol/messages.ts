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

/** `cancelled`: stopped by the user or interrupted; Resume re-runs it (not the trial's fault). */
export const TrialState = z.enum(['queued', 'running', 'complete', 'failed', 'pruned', 'cancelled']);
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

/**
 * Per-job options. Paths are absolute or relative to the worker's working directory (the
 * client forks it in the caller's cwd). Hyperparameters stay a plain record here: the worker
 * merges and validates them against the study (unknown names and bad values → 'user' error).
 */
export const SplitJobOptions = z.object({
  /** Study file: split its data file into `.trialbook/<name>/split` (reused when unchanged). */
  study: z.string().min(1),
  /** Re-split even if an up-to-date split exists. */
  force: z.boolean().optional(),
});
export type SplitJobOptions = z.infer<typeof SplitJobOptions>;

export const TokenizeJobOptions = z.object({
  study: z.string().min(1),
  /** Defaults to the study's training.max_seq_len. */
  maxLen: z.number().int().min(3).max(4096).optional(),
});
export type TokenizeJobOptions = z.infer<typeof TokenizeJobOptions>;

export const LengthsJobOptions = z.object({
  study: z.string().min(1),
  /** Truncation counts are reported for each of these lengths. */
  maxLens: z.array(z.number().int().min(3)).optional(),
});
export type LengthsJobOptions = z.infer<typeof LengthsJobOptions>;

/** A study file as the process that loaded it parsed it: the worker never reads the file again. */
export const StudySnapshot = z.object({ file: z.string().min(1), spec: z.record(z.string(), z.unknown()) });
export type StudySnapshot = z.infer<typeof StudySnapshot>;

export const TrialJobOptions = z.object({
  study: StudySnapshot,
  /** The trial's full hyperparameters, resolved and checked by the caller (core/params.ts). */
  params: Params,
  /** Save the best epoch's model as a checkpoint folder here. */
  saveTo: z.string().optional(),
  /** Also score the test split with the best model (never used for selection). */
  evaluateTest: z.boolean().optional(),
  /** Per-epoch checkpoints for resume. */
  checkpointDir: z.string().optional(),
  resume: z.boolean().optional(),
  /** Backend preference ('tensorflow' | 'wasm' | 'cpu'); best available when absent. */
  backend: z.string().optional(),
  memoryBudgetMiB: z.number().positive().optional(),
});
export type TrialJobOptions = z.infer<typeof TrialJobOptions>;

/** A labelled file scored by a saved model, or a study's test split (`study` + no `input`). */
export const EvaluateJobOptions = z.object({
  model: z.string().min(1),
  input: z.string().optional(),
  study: z.string().optional(),
  split: z.enum(['val', 'test']).optional(),
  textColumn: z.string().optional(),
  labelColumn: z.string().optional(),
  maxLen: z.number().int().min(3).optional(),
  backend: z.string().optional(),
});
export type EvaluateJobOptions = z.infer<typeof EvaluateJobOptions>;

export const PredictJobOptions = z.object({
  model: z.string().min(1),
  input: z.string().min(1),
  /** Output file; `.jsonl` writes JSON lines, anything else TSV. */
  out: z.string().min(1),
  textColumn: z.string().optional(),
  maxLen: z.number().int().min(3).optional(),
  backend: z.string().optional(),
});
export type PredictJobOptions = z.infer<typeof PredictJobOptions>;

/** Masked-LM pre-training on unlabelled texts (`trialbook pretrain`), saved as an HF BERT folder with its MLM head. */
export const PretrainJobOptions = z.object({
  /** CSV/TSV with a text column, or a .txt file with one text per line. */
  input: z.string().min(1),
  textColumn: z.string().optional(),
  quoting: z.enum(['csv', 'none']).optional(),
  /** A preset (from scratch) or a model folder (continued). */
  model: z.string().min(1),
  /** The vocab.txt; a model folder's own when absent. */
  vocab: z.string().optional(),
  lowercase: z.boolean().optional(),
  stripAccents: z.boolean().optional(),
  out: z.string().min(1),
  params: z.object({
    learning_rate: z.number(),
    warmup_steps: z.number(),
    batch_size: z.number(),
    epochs: z.number(),
    max_seq_len: z.number(),
    seed: z.number(),
    mask_probability: z.number().optional(),
    weight_decay: z.number().optional(),
  }),
  precision: z.enum(['fp32', 'bf16', 'auto']).optional(),
  backend: z.string().optional(),
});
export type PretrainJobOptions = z.infer<typeof PretrainJobOptions>;

/** The runtime training would use (`trialbook runtime`, the editor's Select Runtime). */
export const RuntimeJobOptions = z.object({ backend: z.string().optional() });
export type RuntimeJobOptions = z.infer<typeof RuntimeJobOptions>;

/** Heavy jobs the worker runs. `kind` picks the handler; the payload is the job's own options. */
export const Job = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('split'), options: SplitJobOptions }),
  z.object({ kind: z.literal('tokenize'), options: TokenizeJobOptions }),
  z.object({ kind: z.literal('lengths'), options: LengthsJobOptions }),
  z.object({ kind: z.literal('trial'), options: TrialJobOptions }),
  z.object({ kind: z.literal('evaluate'), options: EvaluateJobOptions }),
  z.object({ kind: z.literal('predict'), options: PredictJobOptions }),
  z.object({ kind: z.literal('pretrain'), options: PretrainJobOptions }),
  z.object({ kind: z.literal('runtime'), options: RuntimeJobOptions }),
]);
export type Job = z.infer<typeof Job>;
/** What a caller builds (defaults not yet applied). */
export type JobInput = z.input<typeof Job>;
export type JobKind = Job['kind'];

/** Parent (CLI or extension) → a worker that runs `job`s (the tests' worker runs one more kind). */
export const toWorker = <J extends z.ZodType>(job: J) =>
  z.discriminatedUnion('type', [z.object({ type: z.literal('run'), id: z.string(), job }), z.object({ type: z.literal('cancel'), id: z.string() }), z.object({ type: z.literal('shutdown') })]);
export const ToWorker = toWorker(Job);
export type ToWorker = z.infer<typeof ToWorker>;

export const WorkerError = z.object({
  message: z.string(),
  /** 'user': bad input the user can fix; 'environment': the machine (disk full, I/O error, a file gone); 'oom', 'nan', 'cancelled', 'crash', 'internal'. */
  cause: z.enum(['user', 'environment', 'oom', 'nan', 'cancelled', 'crash', 'internal']),
  detail: z.string().optional(),
});
export type WorkerError = z.infer<typeof WorkerError>;

/** Worker → parent. */
export const FromWorker = z.discriminatedUnion('type', [
  /** Sent at start (pid only) and again once the engine backend is initialised (lazily, on the first job that needs it). */
  z.object({ type: z.literal('ready'), pid: z.number(), backend: z.string().optional(), threads: z.number().optional(), runtime: z.string().optional() }),
  z.object({ type: z.literal('progress'), id: z.string(), done: z.number(), total: z.number().optional(), message: z.string().optional() }),
  z.object({ type: z.literal('metric'), id: z.string(), metric: Metric }),
  z.object({ type: z.literal('log'), id: z.string().optional(), level: z.enum(['debug', 'info', 'warn', 'error']), text: z.string() }),
  /**
   * `rssMiB`: the worker's resident memory when the job ended. `memoryUnchanged`: the job left
   * the worker's memory as it found it (a head-only trial on cached features), so it does not
   * count toward recycling the worker.
   */
  z.object({ type: z.literal('result'), id: z.string(), result: z.unknown(), rssMiB: z.number().optional(), memoryUnchanged: z.boolean().optional() }),
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
  /** Validation loss and accuracy at the best epoch (whichever the objective is). */
  valLoss: z.number().optional(),
  valAccuracy: z.number().optional(),
  epochs: z.number().optional(),
  durationS: z.number().optional(),
  error: z.string().optional(),
  curve: z.array(Metric).optional(),
  bracket: z.string().optional(),
  /** A promoted trial (Hyperband, ASHA): the trial whose checkpoint it continued, and up to which epoch. */
  resumeFrom: z.number().optional(),
  inheritedEpochs: z.number().optional(),
  /** A sequence-length run: its max_seq_len and repeat. */
  seqlen: z.object({ maxLen: z.number(), repeat: z.number() }).optional(),
});
export type TrialView = z.infer<typeof TrialView>;

/** One hyperparameter of the search space, as the charts need it (log axes, category order). */
export const SpaceDim = z.object({
  type: z.enum(['float', 'int', 'choice', 'bool', 'fixed']),
  low: z.number().optional(),
  high: z.number().optional(),
  log: z.boolean().optional(),
  values: z.array(ParamValue).optional(),
});
export type SpaceDim = z.infer<typeof SpaceDim>;

const MeanStd = z.object({ mean: z.number().nullable(), std: z.number().nullable() });

export const StudyView = z.object({
  name: z.string(),
  file: z.string(),
  objective: z.object({ metric: z.string(), direction: z.enum(['minimize', 'maximize']) }),
  tuner: z.string(),
  trials: z.array(TrialView),
  bestTrial: z.number().nullable(),
  /** The search space (log scales, choices), the configured max_seq_len and the train split's size when split. */
  space: z.record(z.string(), SpaceDim).optional(),
  maxSeqLen: z.number().optional(),
  trainRows: z.number().optional(),
  /** The runtime the latest finished trial trained on, e.g. "wasm (matmuls on OpenBLAS 0.3.21, 2 threads)". */
  runtime: z.string().optional(),
  seqlen: z
    .array(
      z.object({
        maxLen: z.number(),
        mean: z.number().nullable(),
        std: z.number().nullable(),
        n: z.number(),
        accuracy: MeanStd.optional(),
        secondsPerEpoch: MeanStd.optional(),
        /** Welch's t-test of val loss against the best length. */
        pValue: z.number().nullable().optional(),
        error: z.string().optional(),
      }),
    )
    .optional(),
  /** The max_len the sequence-length study recommends (lowest mean val loss), null before any run completes. */
  seqlenBest: z.number().nullable().optional(),
  seqlenRecommendation: z.string().optional(),
  /** The sequence-length study's runs (the table lists them beside the tuning trials). */
  seqlenRuns: z.array(TrialView).optional(),
  /** Hyperparameter importance, or why there is none yet (too few trials). */
  importance: z
    .object({
      method: z.string(),
      on: z.string(),
      values: z.array(z.object({ name: z.string(), share: z.number() })).nullable(),
      why: z.string().optional(),
    })
    .optional(),
  lengths: z
    .object({
      histogram: z.array(z.tuple([z.number(), z.number()])),
      truncated: z.record(z.string(), z.number()),
      /** Bucket width; the last bucket may hold everything above its lower bound (`overflowFrom`). */
      width: z.number().optional(),
      overflowFrom: z.number().optional(),
      stats: z.object({ count: z.number(), mean: z.number(), p50: z.number(), p95: z.number(), p99: z.number(), max: z.number() }).optional(),
    })
    .optional(),
  /** A study shared through PostgreSQL, shown read-only: where (password hidden) and the connection. */
  shared: z
    .object({
      where: z.string(),
      status: z.enum(['connecting', 'live', 'offline']),
      /** The study is in the database (false until a worker creates it). */
      exists: z.boolean(),
      /** Workers running trials now. */
      workers: z.number(),
      /** Offline: why (one line, password hidden). */
      message: z.string().optional(),
      /** Last successful read (ms since the epoch). */
      readAt: z.number().optional(),
    })
    .optional(),
});
export type StudyView = z.infer<typeof StudyView>;

/** Extension → webview. */
export const ToWebview = z.discriminatedUnion('type', [
  z.object({ type: z.literal('study'), study: StudyView }),
  /** Importance, computed after the study was shown (it takes a moment on large studies). */
  z.object({ type: z.literal('importance'), importance: StudyView.shape.importance.unwrap() }),
  z.object({ type: z.literal('metric'), trial: z.number(), metric: Metric }),
  z.object({ type: z.literal('requestChartPng'), chart: z.string(), requestId: z.string() }),
  /** Select a trial (explorer "Show Curves"): its row is highlighted and its curves drawn. */
  z.object({ type: z.literal('showTrial'), trial: z.number() }),
  /** Bring a view to the front (e.g. the token lengths just measured). */
  z.object({ type: z.literal('showView'), view: z.string() }),
]);
export type ToWebview = z.infer<typeof ToWebview>;

/** Webview → extension. */
export const FromWebview = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ready') }),
  /** The trials picked in the table (the first is the one whose curves lead). */
  z.object({ type: z.literal('selectTrial'), trial: z.number(), trials: z.array(z.number()).optional() }),
  z.object({ type: z.literal('chartPng'), requestId: z.string(), chart: z.string(), dataUrl: z.string() }),
  /** First paint: `ms` from the study's arrival to the painted frame, `sinceStart` from the script's start. */
  z.object({ type: z.literal('rendered'), ms: z.number(), sinceStart: z.number().optional(), rows: z.number() }),
]);
export type FromWebview = z.infer<typeof FromWebview>;
