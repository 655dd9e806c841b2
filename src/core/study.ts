/**
 * The study file (`NAME.trialbook.json`): one JSON document naming the data, tokenizer, model,
 * search space, tuner, budget and notes file. Validated with zod; the same schema generates the
 * JSON Schema the editor uses for completion. Relative paths are relative to the study file.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import { UserError } from './errors';
import { closest } from './did-you-mean';
import { assertReadableFile } from './fsutil';
import { DEFAULTS, HYPERPARAMETER_NAMES, HYPERPARAMETERS } from './params';
import { parseRatios } from './ratios';

const Scalar = z.union([z.number(), z.string(), z.boolean()]);

/** Which way each objective metric improves. */
const DIRECTION = { val_loss: 'minimize', val_accuracy: 'maximize' } as const;

export const DimensionSpec = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('float'), low: z.number(), high: z.number(), log: z.boolean().optional() }),
  z.strictObject({ type: z.literal('int'), low: z.number().int(), high: z.number().int(), step: z.number().int().positive().optional(), log: z.boolean().optional() }),
  z.strictObject({ type: z.literal('choice'), values: z.array(Scalar).min(1) }),
  z.strictObject({ type: z.literal('bool') }),
  z.strictObject({ type: z.literal('fixed'), value: Scalar }),
]);
export type DimensionSpec = z.infer<typeof DimensionSpec>;

export const TunerSpec = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('random') }),
  z.strictObject({ type: z.literal('grid') }),
  z.strictObject({
    type: z.literal('hyperband'),
    max_epochs: z.number().int().min(1).default(27),
    factor: z.number().int().min(2).default(3),
    hyperband_iterations: z.number().int().min(1).default(1),
  }),
  z.strictObject({
    type: z.literal('bayesian'),
    initial_points: z.number().int().min(1).default(5),
    acquisition: z.enum(['ei', 'ucb']).default('ei'),
    beta: z.number().positive().default(2.6),
  }),
  z.strictObject({ type: z.literal('tpe'), initial_points: z.number().int().min(1).default(10), candidates: z.number().int().min(1).default(24) }),
  z.strictObject({
    type: z.literal('asha'),
    min_epochs: z.number().int().min(1).default(1),
    max_epochs: z.number().int().min(1).default(27),
    factor: z.number().int().min(2).default(3),
  }),
]);
export type TunerSpec = z.infer<typeof TunerSpec>;

/** Matmul precisions a study (or `trialbook pretrain`) can ask for; see engine/precision.ts. */
export const PRECISIONS = ['fp32', 'bf16', 'auto'] as const;

export const StudySpec = z.strictObject({
  $schema: z.string().optional(),
  // The name is a folder under .trialbook/: "." and ".." would put the study's state elsewhere.
  name: z
    .string()
    .min(1)
    .regex(/^[A-Za-z0-9._-]+$/, 'use letters, digits, dot, dash or underscore')
    .refine((n) => !/^\.+$/.test(n), 'a name of dots only would name a folder outside .trialbook/; use letters or digits too'),
  data: z.strictObject({
    file: z.string().min(1),
    textColumn: z.string().min(1),
    labelColumn: z.string().min(1),
    ratios: z.tuple([z.number().positive(), z.number().positive(), z.number().positive()]).default([0.8, 0.1, 0.1]),
    seed: z.number().int().default(42),
    dedupe: z.boolean().default(true),
    skipBadRows: z.boolean().default(false),
    /** Where the split is cached; default `.trialbook/<name>/split` beside the study file. */
    splitDir: z.string().optional(),
  }),
  tokenizer: z.strictObject({
    vocab: z.string().min(1),
    lowercase: z.boolean().default(false),
    stripAccents: z.boolean().default(false),
  }),
  /** Preset (`tiny`, `mini`, `small`) trained from scratch, or a folder with config.json + model.safetensors. */
  model: z.string().min(1).default('tiny'),
  /**
   * The encoder's own dropout, overriding the preset's or the folder's config.json (0.1 in
   * BERT): a small model trained from scratch can gain from more. Frozen trials are not affected.
   */
  encoderDropout: z
    .strictObject({
      hidden_dropout_prob: z.number().min(0).max(0.9).optional(),
      attention_probs_dropout_prob: z.number().min(0).max(0.9).optional(),
    })
    .optional(),
  /**
   * Matmul precision: fp32; bf16 (bf16 matmul inputs, fp32 accumulation and weights: about twice
   * the speed on CPUs with AVX512-BF16 or AMX, through oneDNN); auto (bf16 where the CPU has it).
   */
  precision: z.enum(PRECISIONS).default('fp32'),
  training: z.strictObject({
    epochs: HYPERPARAMETERS.epochs.default(DEFAULTS.epochs),
    max_seq_len: HYPERPARAMETERS.max_seq_len.default(DEFAULTS.max_seq_len),
    patience: HYPERPARAMETERS.patience.default(DEFAULTS.patience),
    weight_decay: HYPERPARAMETERS.weight_decay.default(DEFAULTS.weight_decay),
    max_grad_norm: HYPERPARAMETERS.max_grad_norm.default(DEFAULTS.max_grad_norm),
    memoryBudgetMiB: z.number().positive().default(4096),
    logEverySteps: z.number().int().min(1).default(20),
  }).prefault({}),
  /** The direction follows from the metric (as Keras Tuner infers it); a contrary one is refused. */
  objective: z
    .strictObject({
      metric: z.enum(['val_loss', 'val_accuracy']).default('val_loss'),
      direction: z.enum(['minimize', 'maximize']).optional(),
    })
    .prefault({})
    .refine((o) => o.direction === undefined || o.direction === DIRECTION[o.metric], {
      path: ['direction'],
      error: (i) => {
        const metric = (i.input as { metric: keyof typeof DIRECTION }).metric;
        return `${metric} is ${DIRECTION[metric]}d: remove the direction or set it to "${DIRECTION[metric]}"`;
      },
    })
    .transform((o) => ({ metric: o.metric, direction: DIRECTION[o.metric] })),
  searchSpace: z.record(z.string(), DimensionSpec),
  tuner: TunerSpec,
  budget: z.strictObject({
    maxTrials: z.number().int().min(1).default(20),
    repeats: z.number().int().min(1).default(1),
    max_retries_per_trial: z.number().int().min(0).default(1),
    max_consecutive_failed_trials: z.number().int().min(1).default(3),
    parallel: z.number().int().min(1).default(1),
  }).prefault({}),
  seqlen: z.strictObject({
    lengths: z.array(HYPERPARAMETERS.max_seq_len).min(1).default([64, 128, 256, 512]),
    repeats: z.number().int().min(2).default(5),
  }).prefault({}),
  /** `journal` (local, default) or a `postgresql://` URL. */
  storage: z.string().default('journal'),
  notes: z.string().optional(),
});
export type Study = z.infer<typeof StudySpec>;
export type StudyInput = z.input<typeof StudySpec>;

/** The search space of our users' workflow (their Keras Tuner log), with batch size added. */
export function defaultSearchSpace(): Record<string, DimensionSpec> {
  return {
    learning_rate: { type: 'float', low: 5e-6, high: 1e-4, log: true },
    warmup_steps: { type: 'choice', values: [500, 1000, 1500, 2000] },
    freeze_body: { type: 'bool' },
    dropout_rate: { type: 'float', low: 0, high: 0.5 },
    batch_size: { type: 'choice', values: [32, 64, 128, 256, 512] },
  };
}

export interface LoadedStudy {
  study: Study;
  /** Absolute path of the study file. */
  file: string;
  /** Folder the study's relative paths are resolved against. */
  dir: string;
  /** Resolves a path written in the study file. */
  resolve(p: string): string;
}

/** Validates a parsed study object; errors name the file and the key path. */
export function parseStudy(value: unknown, file: string): Study {
  const r = StudySpec.safeParse(value);
  if (!r.success) throw studyError(file, r.error.issues.flatMap((i) => describeIssue(i, value)));
  const problems = [...semanticProblems(r.data), ...searchSpaceProblems(r.data.searchSpace)];
  if (problems.length) throw studyError(file, problems);
  return r.data;
}

/**
 * One problem: `FILE: key.path: message`. Several: a first line, then one `  key.path: message`
 * line each (the editor places each line on its key).
 */
function studyError(file: string, problems: string[]): UserError {
  if (problems.length === 1) return new UserError(`${file}: ${problems[0]}`, 'E_STUDY');
  const shown = problems.slice(0, 8).map((p) => `  ${p}`);
  if (problems.length > 8) shown.push(`  … and ${problems.length - 8} more`);
  return new UserError(`${file}: invalid study file (${problems.length} problems)\n${shown.join('\n')}`, 'E_STUDY');
}

/** Checks zod cannot express per key: ranges, ratios, epochs. */
function semanticProblems(s: Study): string[] {
  const out: string[] = [];
  for (const [name, d] of Object.entries(s.searchSpace)) {
    if ((d.type === 'float' || d.type === 'int') && !(d.low < d.high)) out.push(`searchSpace.${name}: low (${d.low}) must be below high (${d.high})`);
    if ((d.type === 'float' || d.type === 'int') && d.log && d.low <= 0) out.push(`searchSpace.${name}: a log scale needs low > 0`);
  }
  try {
    parseRatios(s.data.ratios, 'data.ratios');
  } catch (e) {
    out.push((e as Error).message);
  }
  if (s.tuner.type === 'asha' && s.tuner.min_epochs > s.tuner.max_epochs) {
    out.push(`tuner.min_epochs: ${s.tuner.min_epochs} must not exceed tuner.max_epochs (${s.tuner.max_epochs})`);
  }
  return out;
}

/** Why `value` is not a valid value of hyperparameter `name` (undefined when it is). */
function hyperparameterProblem(name: string, value: unknown): string | undefined {
  const r = (HYPERPARAMETERS as Record<string, z.ZodType>)[name]!.safeParse(value);
  if (r.success) return undefined;
  const issue = r.error.issues[0];
  if (typeof value === 'string' && issue?.code === 'invalid_type' && Number.isFinite(Number(value))) return `${JSON.stringify(value)} is text; write the number ${value} without quotes`;
  return `${JSON.stringify(value)}: ${(issue?.message ?? 'invalid value').replace(/^Invalid input: /, '').replace(/^Too (small|big): /, '')}`;
}

/**
 * Search-space keys that are not hyperparameters, and values outside a hyperparameter's range:
 * found when the study loads, before a trial is spent on them.
 */
function searchSpaceProblems(space: Study['searchSpace']): string[] {
  const out: string[] = [];
  for (const [name, d] of Object.entries(space)) {
    const at = `searchSpace.${name}`;
    const schema = Object.prototype.hasOwnProperty.call(HYPERPARAMETERS, name) ? (HYPERPARAMETERS as Record<string, z.ZodType>)[name] : undefined;
    if (!schema) {
      const hint = closest(name, HYPERPARAMETER_NAMES);
      out.push(`${at}: not a hyperparameter${hint ? ` (did you mean ${hint}?)` : ''}; known: ${HYPERPARAMETER_NAMES.join(', ')}`);
      continue;
    }
    const check = (where: string, v: unknown): void => {
      const p = hyperparameterProblem(name, v);
      if (p) out.push(`${at}.${where}: ${p}`);
    };
    if (d.type === 'float' || d.type === 'int') {
      check('low', d.low);
      check('high', d.high);
      // A whole-number hyperparameter sampled as a float gets fractions.
      if (d.type === 'float' && schema instanceof z.ZodNumber && schema.isInt) {
        out.push(`${at}.type: ${name} takes whole numbers; use "int" or "choice"`);
      }
    } else if (d.type === 'choice') d.values.forEach((v, i) => check(`values.${i}`, v));
    else if (d.type === 'fixed') check('value', d.value);
    else if (hyperparameterProblem(name, true) || hyperparameterProblem(name, false)) out.push(`${at}.type: ${name} is not true/false; use "float", "int" or "choice"`);
  }
  return out;
}

const keyPath = (path: readonly PropertyKey[]): string => (path.length ? path.map(String).join('.') : '(top level)');

/** Turns a zod issue into `key.path: message` lines in the words a study author needs. */
function describeIssue(issue: z.core.$ZodIssue, value: unknown): string[] {
  const at = keyPath(issue.path);
  switch (issue.code) {
    case 'unrecognized_keys': {
      const known = knownKeys(issue.path, value);
      return issue.keys.map((k) => {
        const hint = closest(k, known);
        return `${keyPath([...issue.path, k])}: unknown key${hint ? ` (did you mean ${hint}?)` : known.length ? ` (allowed here: ${known.join(', ')})` : ''}`;
      });
    }
    case 'invalid_union': {
      const options = (issue as { options?: unknown[] }).options;
      if (!options) break;
      const got = valueAt(value, issue.path);
      const names = options.map(String);
      const hint = typeof got === 'string' ? closest(got, names) : undefined;
      return [`${at}: ${JSON.stringify(got) ?? 'missing'} is not one of ${names.join(', ')}${hint ? ` (did you mean ${hint}?)` : ''}`];
    }
    case 'invalid_type': {
      const got = valueAt(value, issue.path);
      if (got === undefined) return [`${at}: required key is missing (expected ${issue.expected})`];
      if (issue.expected === 'int') return [`${at}: expected a whole number, received ${JSON.stringify(got)}`];
      return [`${at}: expected ${issue.expected}, received ${got === null ? 'null' : Array.isArray(got) ? 'array' : typeof got}`];
    }
    case 'invalid_value':
      return [`${at}: ${JSON.stringify(valueAt(value, issue.path))} is not allowed; expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`];
  }
  return [`${at}: ${issue.message.replace(/^Invalid input: /, '').replace(/^Too (small|big): /, '')}`];
}

function valueAt(value: unknown, path: readonly PropertyKey[]): unknown {
  let v = value;
  for (const k of path) v = v !== null && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[k] : undefined;
  return v;
}

/** Keys the schema allows for the object at `path` (discriminated unions: the option the value names). */
function knownKeys(path: readonly PropertyKey[], value: unknown): string[] {
  let schema: z.core.$ZodType | undefined = StudySpec;
  const unwrap = (s: z.core.$ZodType | undefined): z.core.$ZodType | undefined => {
    while (s && ['default', 'prefault', 'optional', 'nullable'].includes(s._zod.def.type)) s = (s._zod.def as unknown as { innerType: z.core.$ZodType }).innerType;
    if (s && s._zod.def.type === 'union') {
      const disc = (s._zod.def as { discriminator?: string }).discriminator;
      const wanted = disc ? (valueAt(value, path.slice(0, depth)) as Record<string, unknown> | undefined)?.[disc] : undefined;
      const options = (s._zod.def as unknown as { options: z.core.$ZodType[] }).options;
      s = options.find((o) => {
        const lit = (o._zod.def as { shape?: Record<string, z.core.$ZodType> }).shape?.[disc ?? ''];
        return lit && (lit._zod.def as { values?: unknown[] }).values?.includes(wanted);
      });
    }
    return s;
  };
  let depth = 0;
  schema = unwrap(schema);
  for (const k of path) {
    depth++;
    const def = schema?._zod.def as { type: string; shape?: Record<string, z.core.$ZodType>; valueType?: z.core.$ZodType } | undefined;
    schema = unwrap(def?.type === 'object' ? def.shape?.[String(k)] : def?.type === 'record' ? def.valueType : undefined);
  }
  const shape = (schema?._zod.def as { shape?: Record<string, unknown> } | undefined)?.shape;
  return shape ? Object.keys(shape) : [];
}

/** A study as parsed by another process (a trial job's snapshot), without reading its file. */
export function studyFromSpec(file: string, spec: unknown): LoadedStudy {
  const dir = dirname(file);
  return { study: parseStudy(spec, file), file, dir, resolve: (p: string) => resolve(dir, p) };
}

export function loadStudy(path: string): LoadedStudy {
  const file = resolve(path);
  assertReadableFile(file, 'study file');
  let json: unknown;
  try {
    // Editors on Windows may save a UTF-8 BOM; it is not part of the JSON.
    json = JSON.parse(readFileSync(file, 'utf8').replace(/^\uFEFF/, ''));
  } catch (e) {
    throw new UserError(`${file}: not valid JSON (${(e as Error).message})`, 'E_STUDY');
  }
  return studyFromSpec(file, json);
}

/** Folder for a study's local state: split cache, encoded cache, journal, checkpoints. */
export function studyStateDir(loaded: LoadedStudy): string {
  return resolve(loaded.dir, '.trialbook', loaded.study.name);
}
