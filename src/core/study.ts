/**
 * The study file (`NAME.trialbook.json`): one JSON document naming the data, tokenizer, model,
 * search space, tuner, budget and notes file. Validated with zod; the same schema generates the
 * JSON Schema the editor uses for completion. Relative paths are relative to the study file.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import { UserError } from './errors';
import { assertReadableFile } from './fsutil';
import type { Dimension, SearchSpace } from '../tuners/types';

const Scalar = z.union([z.number(), z.string(), z.boolean()]);

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

export const StudySpec = z.strictObject({
  $schema: z.string().optional(),
  name: z.string().min(1).regex(/^[A-Za-z0-9._-]+$/, 'use letters, digits, dot, dash or underscore'),
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
  training: z.strictObject({
    epochs: z.number().int().min(1).default(3),
    max_seq_len: z.number().int().min(3).max(512).default(128),
    patience: z.number().int().min(1).default(2),
    weight_decay: z.number().min(0).default(0.01),
    max_grad_norm: z.number().positive().default(1.0),
    memoryBudgetMiB: z.number().positive().default(4096),
    logEverySteps: z.number().int().min(1).default(20),
  }).prefault({}),
  objective: z.strictObject({
    metric: z.enum(['val_loss', 'val_accuracy']).default('val_loss'),
    direction: z.enum(['minimize', 'maximize']).default('minimize'),
  }).prefault({}),
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
    lengths: z.array(z.number().int().min(3).max(512)).min(1).default([64, 128, 256, 512]),
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

/** Search space as the tuners take it (ordered list of named dimensions). */
export function toSearchSpace(space: Record<string, DimensionSpec>): SearchSpace {
  return Object.entries(space).map(([name, d]) => ({ name, ...d }) as Dimension);
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
  if (!r.success) {
    const lines = r.error.issues.slice(0, 8).map((i) => {
      const path = i.path.length ? i.path.map(String).join('.') : '(top level)';
      return `  ${path}: ${i.message}`;
    });
    throw new UserError(`${file}: invalid study file\n${lines.join('\n')}`, 'E_STUDY');
  }
  const s = r.data;
  for (const [name, d] of Object.entries(s.searchSpace)) {
    if ((d.type === 'float' || d.type === 'int') && !(d.low < d.high)) {
      throw new UserError(`${file}: searchSpace.${name}: low (${d.low}) must be below high (${d.high})`, 'E_STUDY');
    }
    if ((d.type === 'float' || d.type === 'int') && d.log && d.low <= 0) {
      throw new UserError(`${file}: searchSpace.${name}: a log scale needs low > 0`, 'E_STUDY');
    }
  }
  const sum = s.data.ratios[0] + s.data.ratios[1] + s.data.ratios[2];
  if (Math.abs(sum - 1) > 1e-6 && Math.abs(sum - 10) > 1e-6) {
    // 8:1:1 written as [8,1,1] is normalised by the splitter; anything else is a mistake.
  }
  return s;
}

export function loadStudy(path: string): LoadedStudy {
  const file = resolve(path);
  assertReadableFile(file, 'study file');
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new UserError(`${file}: not valid JSON (${(e as Error).message})`, 'E_STUDY');
  }
  const study = parseStudy(json, file);
  const dir = dirname(file);
  return { study, file, dir, resolve: (p: string) => resolve(dir, p) };
}

/** Folder for a study's local state: split cache, encoded cache, journal, checkpoints. */
export function studyStateDir(loaded: LoadedStudy): string {
  return resolve(loaded.dir, '.trialbook', loaded.study.name);
}
