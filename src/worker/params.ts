/**
 * A trial's hyperparameters: the study's training defaults, then the search space's fixed
 * values, then the caller's params (a tuner's suggestion or `train --params`). Names and
 * values are checked here, so a typo fails at once with a message naming it, not after an epoch.
 */
import { z } from 'zod';
import { UserError } from '../core/errors';
import { HYPERPARAMETER_NAMES, HYPERPARAMETERS } from '../core/hyperparameters';
import type { Study } from '../core/study';
import type { TrainParams } from '../engine/types';
import type { Params } from '../protocol/messages';

// The engine's hyperparameters are the ones core knows (study files are checked against them too).
HYPERPARAMETERS satisfies Record<keyof TrainParams, z.ZodType>;

/** Used when neither the study nor the caller gives a value (BERT fine-tuning's usual start). */
const BUILT_IN: Pick<TrainParams, 'learning_rate' | 'warmup_steps' | 'freeze_body' | 'dropout_rate' | 'batch_size'> = {
  learning_rate: 5e-5,
  warmup_steps: 0,
  freeze_body: false,
  dropout_rate: 0.1,
  batch_size: 32,
};

export interface MergedParams {
  params: TrainParams;
  /** Where each value came from: 'default' | 'study.training' | 'searchSpace' | 'params'. */
  source: Record<string, string>;
}

/**
 * Checks caller params: known names, right types, valid ranges. `where` names the origin in
 * messages (e.g. "--params").
 */
export function checkParams(given: unknown, where: string): Partial<TrainParams> {
  if (!given || typeof given !== 'object' || Array.isArray(given)) throw new UserError(`${where}: expected a JSON object of hyperparameters, e.g. {"learning_rate":5e-5,"epochs":1}`, 'E_PARAMS');
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(given)) {
    const schema = (HYPERPARAMETERS as Record<string, z.ZodType>)[name];
    if (!schema) {
      const close = nearest(name);
      throw new UserError(`${where}: "${name}" is not a hyperparameter${close ? ` (did you mean "${close}"?)` : ''}; known: ${HYPERPARAMETER_NAMES.join(', ')}`, 'E_PARAMS');
    }
    const r = schema.safeParse(value);
    if (!r.success) throw new UserError(`${where}: ${name} = ${JSON.stringify(value)}: ${r.error.issues[0]?.message ?? 'invalid value'}`, 'E_PARAMS');
    out[name] = r.data;
  }
  return out as Partial<TrainParams>;
}

/** The known name within two edits of a misspelt one (case, dashes and underscores ignored). */
function nearest(name: string): string | undefined {
  const norm = (s: string) => s.toLowerCase().replace(/[_-]/g, '');
  let best: string | undefined;
  let bestD = 3;
  for (const n of HYPERPARAMETER_NAMES) {
    const d = editDistance(norm(name), norm(n));
    if (d < bestD) [best, bestD] = [n, d];
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length];
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

export function mergeParams(study: Study, file: string, given: Params | Partial<TrainParams>): MergedParams {
  const source: Record<string, string> = {};
  const merged: Record<string, unknown> = {};
  const put = (values: Record<string, unknown>, from: string) => {
    for (const [k, v] of Object.entries(values)) {
      if (v === undefined) continue;
      merged[k] = v;
      source[k] = from;
    }
  };
  put({ ...BUILT_IN, seed: study.data.seed }, 'default');
  const t = study.training;
  put({ epochs: t.epochs, max_seq_len: t.max_seq_len, patience: t.patience, weight_decay: t.weight_decay, max_grad_norm: t.max_grad_norm }, 'study.training');
  const fixed: Record<string, unknown> = {};
  for (const [name, d] of Object.entries(study.searchSpace)) if (d.type === 'fixed') fixed[name] = d.value;
  put(checkParams(fixed, `${file}: searchSpace`), 'searchSpace');
  put(checkParams(given, 'params'), 'params');
  return { params: merged as unknown as TrainParams, source };
}
