/** Per-epoch checkpoints of a trial (trained parameters, AdamW moments, loop state), for resume. */
import * as tf from '@tensorflow/tfjs';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../core/errors';
import { writeFileAtomic } from '../core/fsutil';
import type { Metric } from '../protocol/messages';
import type { AdamW } from './optimizer';
import { readSafetensors, writeSafetensors, type NamedTensor } from './safetensors';

export interface CheckpointState {
  version: 1;
  epoch: number;
  globalStep: number;
  adamT: number;
  bestValLoss: number | null;
  bestValAccuracy: number | null;
  bestEpoch: number;
  badEpochs: number;
  curve: Metric[];
  seed: number;
  frozen: boolean;
  /** Frozen trials: where the (untrained) body comes from, so a resume rebuilds the same one. */
  body?: string;
}

/**
 * Saves the trained parameters (`params`: all of them, or only the head of a frozen trial, whose
 * body never changes) with their AdamW moments, then the state.
 */
export function writeCheckpoint(dir: string, params: Map<string, tf.Variable>, opt: AdamW, state: CheckpointState): void {
  const tensors = new Map<string, NamedTensor>();
  for (const [n, v] of params) tensors.set(`param/${n}`, { shape: v.shape, data: v.dataSync() as Float32Array });
  for (const [n, v] of opt.m) tensors.set(`adam_m/${n}`, { shape: v.shape, data: v.dataSync() as Float32Array });
  for (const [n, v] of opt.v) tensors.set(`adam_v/${n}`, { shape: v.shape, data: v.dataSync() as Float32Array });
  // Weights first, state last: state.json names the epoch only once its tensors are on disk.
  writeSafetensors(join(dir, 'checkpoint.safetensors'), tensors);
  writeFileAtomic(join(dir, 'checkpoint.json'), JSON.stringify(state) + '\n');
}

/** Loads a checkpoint into `params` and `opt`, after checking it was made the way this trial trains (`expect`). */
export function readCheckpoint(dir: string, params: Map<string, tf.Variable>, opt: AdamW, expect: Pick<CheckpointState, 'frozen' | 'body'>): CheckpointState | undefined {
  const sp = join(dir, 'checkpoint.json');
  if (!existsSync(sp)) return undefined;
  let state: CheckpointState;
  try {
    state = JSON.parse(readFileSync(sp, 'utf8')) as CheckpointState;
  } catch (e) {
    throw new UserError(`${sp}: not valid JSON (${(e as Error).message}); delete it to start over`, 'E_CHECKPOINT');
  }
  // (A frozen checkpoint from before `body` was recorded holds every parameter: still fine.)
  if (Boolean(state.frozen) !== expect.frozen || (state.body !== undefined && state.body !== expect.body)) {
    const what = (frozen: boolean, b: string | undefined) => (frozen ? `head-only training on ${b ?? 'a frozen body'}` : 'full fine-tuning');
    throw new UserError(`${sp}: the checkpoint comes from ${what(Boolean(state.frozen), state.body)}, but this trial is ${what(expect.frozen, expect.body)}; delete it to start over`, 'E_CHECKPOINT');
  }
  const file = join(dir, 'checkpoint.safetensors');
  const t = readSafetensors(file);
  const setAll = (prefix: string, vars: Map<string, tf.Variable>) => {
    for (const [n, v] of vars) {
      const x = t.get(`${prefix}/${n}`);
      if (!x || x.data.length !== v.size) throw new UserError(`${file}: ${prefix}/${n} is missing or has the wrong size; the checkpoint belongs to another model — delete it to start over`, 'E_CHECKPOINT');
      tf.tidy(() => v.assign(tf.tensor(x.data, v.shape)));
    }
  };
  setAll('param', params);
  setAll('adam_m', opt.m);
  setAll('adam_v', opt.v);
  opt.t = state.adamT;
  return state;
}
