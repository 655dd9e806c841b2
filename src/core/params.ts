/**
 * A trial's hyperparameters: every name the engine understands, its valid range and its
 * default, in one place (the study file's `training` section takes its defaults from here too).
 * A trial's full set is resolved once, in the process that starts it: the defaults, then the
 * study's `training`, then the search space's fixed values, then the given params (a tuner's
 * suggestion or `train --params`); a typo or a bad value fails there, naming it.
 */
import { z } from 'zod';
import { UserError } from './errors';
import { closest } from './did-you-mean';

const int = (min: number, max: number) => z.number().int().min(min).max(max);
const bool = z.union([z.boolean(), z.literal(0), z.literal(1), z.enum(['true', 'false'])]).transform((v) => v === true || v === 1 || v === 'true');

/** Every hyperparameter the engine understands, with its valid range. */
export const HYPERPARAMETERS = {
  learning_rate: z.number().gt(0),
  warmup_steps: int(0, 10_000_000),
  freeze_body: bool,
  dropout_rate: z.number().min(0).max(0.9),
  batch_size: int(1, 65_536),
  epochs: int(1, 10_000),
  max_seq_len: int(3, 512),
  seed: z.number().int(),
  weight_decay: z.number().min(0).max(1),
  max_grad_norm: z.number().positive(),
  /** Early stopping on val loss: epochs without improvement before stopping. */
  patience: int(1, 10_000),
};

export type HyperparameterName = keyof typeof HYPERPARAMETERS;
export const HYPERPARAMETER_NAMES = Object.keys(HYPERPARAMETERS) as HyperparameterName[];

/** The full hyperparameters of one training run, as the engine takes them. */
export type TrainParams = { [K in HyperparameterName]: z.output<(typeof HYPERPARAMETERS)[K]> };

/** Used when neither the study nor the caller gives a value (BERT fine-tuning's usual start). */
export const DEFAULTS: Omit<TrainParams, 'seed'> = {
  learning_rate: 5e-5,
  warmup_steps: 0,
  freeze_body: false,
  dropout_rate: 0.1,
  batch_size: 32,
  epochs: 3,
  max_seq_len: 128,
  patience: 2,
  weight_decay: 0.01,
  max_grad_norm: 1.0,
};

/** What resolution reads of a study: the seed, the training section, fixed search-space values. */
export interface ParamsSource {
  data: { seed: number };
  training: Partial<Record<HyperparameterName, unknown>>;
  searchSpace: Record<string, { type: string; value?: unknown }>;
}

export interface ResolvedParams {
  params: TrainParams;
  /** Where each value came from: 'default' | 'study.training' | 'searchSpace' | 'params'. */
  source: Record<string, string>;
}

/** Checks params: known names, right types, valid ranges. `where` names their origin in messages (e.g. "--params"). */
export function checkParams(given: unknown, where: string): Partial<TrainParams> {
  if (!given || typeof given !== 'object' || Array.isArray(given)) throw new UserError(`${where}: expected a JSON object of hyperparameters, e.g. {"learning_rate":5e-5,"epochs":1}`, 'E_PARAMS');
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(given)) {
    const schema = (HYPERPARAMETERS as Record<string, z.ZodType>)[name];
    if (!schema) {
      const close = closest(name, HYPERPARAMETER_NAMES);
      throw new UserError(`${where}: "${name}" is not a hyperparameter${close ? ` (did you mean "${close}"?)` : ''}; known: ${HYPERPARAMETER_NAMES.join(', ')}`, 'E_PARAMS');
    }
    const r = schema.safeParse(value);
    if (!r.success) throw new UserError(`${where}: ${name} = ${JSON.stringify(value)}: ${r.error.issues[0]?.message ?? 'invalid value'}`, 'E_PARAMS');
    out[name] = r.data;
  }
  return out as Partial<TrainParams>;
}

/** Parses the JSON text of `--params`. */
export function parseParamsJson(text: string, where = '--params'): Partial<TrainParams> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new UserError(`${where}: not valid JSON (${(e as Error).message}); example: '{"learning_rate":5e-5,"epochs":1}'`, 'E_PARAMS');
  }
  return checkParams(value, where);
}

/** A trial's full hyperparameters from the study and the given ones (see the top of this file), named `where` in errors. */
export function resolveParams(study: ParamsSource, file: string, given: Record<string, unknown>, where = 'params'): ResolvedParams {
  const source: Record<string, string> = {};
  const merged: Record<string, unknown> = {};
  const put = (values: Record<string, unknown>, from: string) => {
    for (const [k, v] of Object.entries(values)) {
      if (v === undefined) continue;
      merged[k] = v;
      source[k] = from;
    }
  };
  put({ ...DEFAULTS, seed: study.data.seed }, 'default');
  const training = Object.fromEntries(Object.entries(study.training).filter(([k]) => k in HYPERPARAMETERS));
  put(checkParams(training, `${file}: training`), 'study.training');
  const fixed: Record<string, unknown> = {};
  for (const [name, d] of Object.entries(study.searchSpace)) if (d.type === 'fixed') fixed[name] = d.value;
  put(checkParams(fixed, `${file}: searchSpace`), 'searchSpace');
  put(checkParams(given, where), 'params');
  return { params: merged as TrainParams, source };
}
