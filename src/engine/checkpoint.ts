/**
 * Per-epoch checkpoints of a trial (trained parameters, AdamW moments, loop state), for resume.
 *
 * One checkpoint is one unit: the tensors go to files named after their epoch
 * (`checkpoint-<epoch>.safetensors`, and `best-<epoch>.safetensors` when the best snapshot
 * changed), then `checkpoint.json` names them with their sizes and SHA-256. That manifest is
 * written last, by an atomic rename, and the files it no longer names are removed only after it.
 * A process killed at any point (worker and tune together, the OOM killer, power loss) leaves the
 * previous epoch's checkpoint whole, never one epoch's weights beside another's state.
 */
import * as tf from '@tensorflow/tfjs';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../core/errors';
import { writeFileAtomic } from '../core/fsutil';
import { sha256 } from '../core/hash';
import type { Metric } from '../protocol/messages';
import type { AdamW } from './optimizer';
import { decodeSafetensors, encodeSafetensors, type NamedTensor } from './safetensors';

/** A tensor file of a checkpoint, as its manifest names it. */
export interface CheckpointFile {
  name: string;
  bytes: number;
  sha256: string;
}

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
  /**
   * What the checkpoint must be resumed with. Frozen trials: where the (untrained) body comes
   * from, so a resume rebuilds the same one. Pre-training: a fingerprint of its texts, model and
   * settings.
   */
  body?: string;
  /** The files of this checkpoint (absent in checkpoints written before they were named). */
  files?: { weights: CheckpointFile; best?: CheckpointFile };
  /**
   * Written inside an epoch (pre-training saves every few minutes): epoch `epoch` (0-based) is
   * under way, its first `stepInEpoch` steps done, with these summed losses. Absent: `epoch`
   * epochs are complete.
   */
  within?: { stepInEpoch: number; lossSum: number };
}

const MANIFEST = 'checkpoint.json';
/** Tensor files of checkpoints, this format's and the older fixed names alike. */
const TENSOR_FILE = /^(checkpoint|best)(-\d+)?(-s\d+)?\.safetensors$/;

/**
 * Saves the trained parameters (`params`: all of them, or only the head of a frozen trial, whose
 * body never changes) with their AdamW moments and, when it changed this epoch, the best snapshot;
 * then the manifest. Sets `state.files` to what it names.
 */
export function writeCheckpoint(dir: string, params: Map<string, tf.Variable>, opt: AdamW, state: CheckpointState, newBest?: Map<string, NamedTensor>): void {
  const tensors = new Map<string, NamedTensor>();
  for (const [n, v] of params) tensors.set(`param/${n}`, { shape: v.shape, data: v.dataSync() as Float32Array });
  for (const [n, v] of opt.m) tensors.set(`adam_m/${n}`, { shape: v.shape, data: v.dataSync() as Float32Array });
  for (const [n, v] of opt.v) tensors.set(`adam_v/${n}`, { shape: v.shape, data: v.dataSync() as Float32Array });
  // A file name is never rewritten: the manifest still names the last one until it is replaced.
  const weights = writeTensorFile(dir, `checkpoint-${state.epoch}${state.within ? `-s${state.globalStep}` : ''}.safetensors`, tensors);
  const best = newBest ? writeTensorFile(dir, `best-${state.epoch}.safetensors`, newBest) : state.files?.best;
  state.files = { weights, ...(best ? { best } : {}) };
  writeFileAtomic(join(dir, MANIFEST), JSON.stringify(state) + '\n');
  const named = new Set([weights.name, best?.name]);
  for (const f of readdirSync(dir)) if (TENSOR_FILE.test(f) && !named.has(f)) rmSync(join(dir, f), { force: true });
}

function writeTensorFile(dir: string, name: string, tensors: Map<string, NamedTensor>): CheckpointFile {
  const bytes = encodeSafetensors(tensors);
  writeFileAtomic(join(dir, name), bytes);
  return { name, bytes: bytes.length, sha256: sha256(bytes) };
}

/** A tensor file the manifest names, checked against its size and hash; older checkpoints name none (`legacy`). */
function readTensorFile(dir: string, ref: CheckpointFile | undefined, legacy: string): Map<string, NamedTensor> | undefined {
  const path = join(dir, ref?.name ?? legacy);
  if (!ref) return existsSync(path) ? decodeSafetensors(path, readFileSync(path)) : undefined;
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (e) {
    throw new UserError(`${path}: named by ${MANIFEST} but cannot be read (${(e as NodeJS.ErrnoException).code ?? e}); the checkpoint is damaged — delete ${dir} to start over`, 'E_CHECKPOINT');
  }
  if (buf.length !== ref.bytes || sha256(buf) !== ref.sha256) {
    throw new UserError(`${path}: does not match ${MANIFEST} (${buf.length} bytes, ${ref.bytes} expected, or another SHA-256); the checkpoint is damaged — delete ${dir} to start over`, 'E_CHECKPOINT');
  }
  return decodeSafetensors(path, buf);
}

export interface ResumedCheckpoint {
  state: CheckpointState;
  /** The best snapshot as of that epoch (trained parameters by name). */
  best?: Map<string, Float32Array>;
}

/** The manifest of the checkpoint in `dir`, or undefined when there is none. */
export function checkpointState(dir: string): CheckpointState | undefined {
  const sp = join(dir, MANIFEST);
  if (!existsSync(sp)) return undefined;
  try {
    return JSON.parse(readFileSync(sp, 'utf8')) as CheckpointState;
  } catch (e) {
    throw new UserError(`${sp}: not valid JSON (${(e as Error).message}); delete it to start over`, 'E_CHECKPOINT');
  }
}

/** Loads a checkpoint into `params` and `opt`, after checking it was made the way this trial trains (`expect`). */
export function readCheckpoint(dir: string, params: Map<string, tf.Variable>, opt: AdamW, expect: Pick<CheckpointState, 'frozen' | 'body'>): ResumedCheckpoint | undefined {
  const sp = join(dir, MANIFEST);
  const state = checkpointState(dir);
  if (!state) return undefined;
  // (A frozen checkpoint from before `body` was recorded holds every parameter: still fine.)
  if (Boolean(state.frozen) !== expect.frozen || (state.body !== undefined && state.body !== expect.body)) {
    const what = (frozen: boolean, b: string | undefined) => (frozen ? `head-only training on ${b ?? 'a frozen body'}` : 'full fine-tuning');
    throw new UserError(`${sp}: the checkpoint comes from ${what(Boolean(state.frozen), state.body)}, but this trial is ${what(expect.frozen, expect.body)}; delete it to start over`, 'E_CHECKPOINT');
  }
  const t = readTensorFile(dir, state.files?.weights, 'checkpoint.safetensors');
  if (!t) throw new UserError(`${join(dir, 'checkpoint.safetensors')}: missing beside ${MANIFEST}; the checkpoint is damaged — delete ${dir} to start over`, 'E_CHECKPOINT');
  const setAll = (prefix: string, vars: Map<string, tf.Variable>) => {
    for (const [n, v] of vars) {
      const x = t.get(`${prefix}/${n}`);
      if (!x || x.data.length !== v.size) throw new UserError(`${join(dir, state.files?.weights.name ?? 'checkpoint.safetensors')}: ${prefix}/${n} is missing or has the wrong size; the checkpoint belongs to another model — delete it to start over`, 'E_CHECKPOINT');
      tf.tidy(() => v.assign(tf.tensor(x.data, v.shape)));
    }
  };
  setAll('param', params);
  setAll('adam_m', opt.m);
  setAll('adam_v', opt.v);
  opt.t = state.adamT;
  const best = readTensorFile(dir, state.files?.best, 'best.safetensors');
  return { state, ...(best ? { best: new Map([...best].map(([n, x]) => [n, x.data])) } : {}) };
}
