/**
 * One training run (a trial): full fine-tuning, or head-only on cached encoder features when
 * freeze_body is set. Everything random derives from (seed, epoch, step, example), so a run
 * repeats exactly and a resumed run continues as if it had never stopped.
 */
import * as tf from '@tensorflow/tfjs';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { Rng } from '../core/rng';
import { UserError } from '../core/errors';
import { writeFileAtomic } from '../core/fsutil';
import type { EncodedSplit } from '../core/encoded';
import type { Metric } from '../protocol/messages';
import type { BertConfig, TrainHooks, TrainInput, TrainParams, TrainResult } from './types';
import { ensureBackend } from './backend';
import { isPreset, presetConfig, PRESETS } from './config';
import { BertClassifier, initValues, paramSpecs, seededValues } from './model';
import { crossEntropy, DropoutRng } from './ops';
import { AdamW, clipScale, globalNorm, scheduledLr } from './optimizer';
import { pickMicroBatch } from './memory';
import { checkSplit, gatherBatch, longest, splitFingerprint, truncateSplit } from './data';
import { EngineError, looksLikeOom } from './errors';
import { mapCheckpoint, readModelFolder, saveModelFolder } from './weights';
import { readSafetensors, writeSafetensors, type NamedTensor } from './safetensors';
import { scoreRows, pooledFeatures } from './score';

const WASM_BUDGET_MIB = 1536;

/** Test hook: pretend allocation fails for micro-batches larger than this. */
export const faults = { failMicroAbove: Infinity };

export interface BuiltModel {
  /** Only the head when a frozen trial's features were all cached (see buildFrozenFromCache). */
  model: BertClassifier;
  config: BertConfig;
  /** Identifies the encoder weights, for the feature cache. */
  sourceKey: string;
  /** Names the encoder weights the same way on every machine (a frozen checkpoint records it). */
  bodyId: string;
  vocabPath?: string;
}

function checkParams(p: TrainParams): Required<TrainParams> {
  const bad: string[] = [];
  const num = (k: keyof TrainParams, ok: (v: number) => boolean, what: string) => {
    const v = p[k] as unknown;
    if (typeof v !== 'number' || !Number.isFinite(v) || !ok(v)) bad.push(`${k} must be ${what} (got ${JSON.stringify(v)})`);
  };
  num('learning_rate', (v) => v > 0, 'a positive number');
  num('warmup_steps', (v) => v >= 0 && Number.isInteger(v), 'an integer ≥ 0');
  num('dropout_rate', (v) => v >= 0 && v < 1, 'in [0, 1)');
  num('batch_size', (v) => v >= 1 && Number.isInteger(v), 'an integer ≥ 1');
  num('epochs', (v) => v >= 1 && Number.isInteger(v), 'an integer ≥ 1');
  num('max_seq_len', (v) => v >= 2 && Number.isInteger(v), 'an integer ≥ 2');
  num('seed', (v) => Number.isInteger(v), 'an integer');
  if (bad.length) throw new UserError(`trial parameters: ${bad.join('; ')}`, 'E_PARAMS');
  return {
    ...p,
    freeze_body: !!p.freeze_body,
    weight_decay: p.weight_decay ?? 0.01,
    max_grad_norm: p.max_grad_norm ?? 1.0,
    patience: p.patience ?? Infinity,
  };
}

/**
 * Names a preset's seeded weights. `init2`: the initial values' generator (Rng.fillNormal), so a
 * frozen checkpoint or a feature cache made from another generator's body is never taken for this one.
 */
function presetSourceKey(input: TrainInput, seed: number): string {
  return `preset:${input.model}:init2:v${input.vocabSize}:n${input.numLabels}:s${seed}`;
}

/** A preset's config with the study's encoder dropout. */
function presetModelConfig(input: TrainInput): BertConfig {
  return { ...presetConfig(input.model, input.vocabSize), ...input.encoderDropout };
}

/** A preset from a seed, or a folder's weights (with a fresh head if the folder has none). */
export function buildModel(input: TrainInput, seed: number, log: TrainHooks['onLog']): BuiltModel {
  if (isPreset(input.model)) {
    if (!(input.vocabSize > 0)) throw new UserError(`model "${input.model}": vocabSize must be given for a preset`, 'E_VOCAB');
    const config = presetModelConfig(input);
    const sourceKey = presetSourceKey(input, seed);
    return { model: BertClassifier.fromSeed(config, input.numLabels, seed), config, sourceKey, bodyId: sourceKey, vocabPath: input.vocabPath };
  }
  const dir = resolve(input.model);
  if (!existsSync(dir)) throw new UserError(`model "${input.model}": neither a preset (${Object.keys(PRESETS).join(', ')}) nor an existing folder`, 'E_NOT_FOUND');
  const mf = readModelFolder(dir);
  // Dropout changes neither the weights nor inference, so the cache keys below stay valid.
  mf.config = { ...mf.config, ...input.encoderDropout };
  if (input.vocabSize > 0 && input.vocabSize !== mf.config.vocab_size) {
    throw new UserError(`${join(dir, 'config.json')}: vocab_size ${mf.config.vocab_size} does not match the data's vocab (${input.vocabSize} tokens); tokenize with the model's vocab.txt`, 'E_VOCAB');
  }
  const loaded = mapCheckpoint(mf.weightsFile, mf.weights, mf.config, input.numLabels, true);
  if (loaded.headMissing) {
    log?.('info', `${mf.weightsFile}: no classifier for ${input.numLabels} labels; initialising a new head`);
    const rng = new Rng(seed);
    for (const spec of paramSpecs(mf.config, input.numLabels)) if (spec.head) loaded.values.set(spec.name, initValues(spec, rng));
  }
  const st = statSync(mf.weightsFile);
  return {
    model: new BertClassifier(mf.config, input.numLabels, loaded.values),
    config: mf.config,
    sourceKey: `dir:${dir}:${st.size}:${st.mtimeMs}:n${input.numLabels}:s${loaded.headMissing ? seed : 'saved'}`,
    bodyId: `model folder ${basename(dir)} (${st.size} bytes of weights)`,
    vocabPath: input.vocabPath ?? mf.vocabPath,
  };
}

/** What differs between full fine-tuning and head-only training. */
interface Strategy {
  trainable: Map<string, tf.Variable>;
  /** Loss (summed over rows, divided by `divisor`) and its gradients, accumulated over micro-batches. */
  grads(rows: number[], step: number, divisor: number): { loss: tf.Scalar; grads: Map<string, tf.Tensor> };
  validate(): { loss: number; accuracy: number };
  microBatch(): number;
  accumulationSteps(batch: number): number;
  /** Whether the encoder ran at all: false for a frozen trial whose features were all cached. */
  readonly encoderRan: boolean;
  dispose(): void;
}

/** Rows of `order` for optimizer step `s`. */
function stepRows(order: Int32Array, s: number, batch: number): number[] {
  return Array.from(order.subarray(s * batch, Math.min(order.length, (s + 1) * batch)));
}

/**
 * Seeded per-epoch order in which each optimizer batch holds rows of similar length: shuffle,
 * sort windows of 50 batches by length, then shuffle the batches. Batches are trimmed to their
 * longest row, so this cuts padding work several-fold on real text (NSMC: median 19 tokens).
 */
function shuffledOrder(split: EncodedSplit, batch: number, seed: number, epoch: number): Int32Array {
  const n = split.count;
  const rng = new Rng((seed * 7919 + epoch * 104729 + 1) >>> 0);
  const order = Int32Array.from({ length: n }, (_, i) => i);
  rng.shuffle(order);
  const window = batch * 50;
  for (let w = 0; w < n; w += window) {
    const part = order.subarray(w, Math.min(n, w + window));
    part.sort((a, b) => split.lengths[a] - split.lengths[b] || a - b);
  }
  const batches = Math.ceil(n / batch);
  // Keep the (possibly short) last batch last so every other batch is full.
  const full = Math.floor(n / batch);
  const perm = Int32Array.from({ length: full }, (_, i) => i);
  rng.shuffle(perm);
  const out = new Int32Array(n);
  let o = 0;
  for (let k = 0; k < batches; k++) {
    const b = k < full ? perm[k] : k;
    const rows = order.subarray(b * batch, Math.min(n, (b + 1) * batch));
    out.set(rows, o);
    o += rows.length;
  }
  return out;
}

function lossAndAccuracy(probs: Float32Array, labels: Int32Array, c: number): { loss: number; accuracy: number } {
  let loss = 0;
  let correct = 0;
  for (let i = 0; i < labels.length; i++) {
    const row = probs.subarray(i * c, (i + 1) * c);
    loss -= Math.log(Math.max(row[labels[i]], 1e-12));
    let best = 0;
    for (let j = 1; j < c; j++) if (row[j] > row[best]) best = j;
    if (best === labels[i]) correct++;
  }
  return { loss: loss / labels.length, accuracy: correct / labels.length };
}

function varNameMap(vars: Map<string, tf.Variable>): Map<string, string> {
  const m = new Map<string, string>();
  for (const [n, v] of vars) m.set(v.name, n);
  return m;
}

function fullStrategy(model: BertClassifier, train: EncodedSplit, val: EncodedSplit, p: Required<TrainParams>, initialMicro: number, log: TrainHooks['onLog']): Strategy {
  const trainable = model.vars;
  const varList = [...trainable.values()];
  const byVarName = varNameMap(trainable);
  let micro = initialMicro;
  const cap = train.maxLen;
  return {
    trainable,
    encoderRan: true,
    microBatch: () => micro,
    accumulationSteps: (batch) => Math.ceil(batch / micro),
    grads(rows, step, divisor) {
      // One sequence length for the whole optimizer batch, so micro-batching changes nothing.
      const len = longest(train, rows, cap);
      for (;;) {
        const acc = new Map<string, tf.Tensor>();
        let loss: tf.Scalar | undefined;
        try {
          for (let i = 0; i < rows.length; i += micro) {
            const chunk = rows.slice(i, i + micro);
            if (chunk.length > faults.failMicroAbove) throw new RangeError('Array buffer allocation failed (simulated)');
            const out = tf.tidy(() => {
              const { ids, labels } = gatherBatch(train, chunk, len);
              const rng = p.dropout_rate > 0 || model.config.hidden_dropout_prob > 0 || model.config.attention_probs_dropout_prob > 0 ? DropoutRng.forStep(p.seed, step, chunk) : undefined;
              return tf.variableGrads(() => model.loss(ids, labels, p.dropout_rate, divisor, rng), varList);
            });
            for (const [vn, g] of Object.entries(out.grads)) {
              const n = byVarName.get(vn)!;
              const prev = acc.get(n);
              if (prev) {
                acc.set(n, tf.add(prev, g));
                prev.dispose();
                g.dispose();
              } else acc.set(n, g);
            }
            if (loss) {
              const l2 = tf.add(loss, out.value) as tf.Scalar;
              loss.dispose();
              out.value.dispose();
              loss = l2;
            } else loss = out.value;
          }
          return { loss: loss!, grads: acc };
        } catch (e) {
          for (const g of acc.values()) g.dispose();
          loss?.dispose();
          if (!looksLikeOom(e)) throw e;
          if (micro === 1) throw new EngineError(`out of memory even with micro-batch 1 at sequence length ${len}; lower max_seq_len or use a smaller model`, 'oom');
          const next = Math.max(1, Math.floor(micro / 2));
          log?.('warn', `allocation failed with micro-batch ${micro} (${(e as Error).message}); retrying with ${next}`);
          micro = next;
        }
      }
    },
    validate() {
      const probs = scoreRows(model, val, Math.max(micro, 32));
      return lossAndAccuracy(probs, val.labels, model.numLabels);
    },
    dispose() {},
  };
}

/**
 * Pooled encoder features of a frozen body, by (body, split, max_len): in memory for this
 * process, and on disk in `dir` (a study keeps one folder for all its trials, so a trial in a
 * fresh worker process reuses what an earlier trial computed).
 */
const featureCache = new Map<string, Float32Array>();
/** Bounds the memory cache of a worker kept across head-only trials (KR-BERT base, 16k rows: 49 MiB an entry). */
const FEATURE_CACHE_BYTES = 256 * 1048576;

export function clearFeatureCache(): void {
  featureCache.clear();
}

function featureKey(sourceKey: string, split: EncodedSplit): string {
  return `${sourceKey}|${splitFingerprint(split)}|${split.maxLen}`;
}

function featureFile(dir: string, key: string): string {
  return join(dir, `features-${hashKey(key)}.safetensors`);
}

/** Keeps `feats` in memory, dropping the oldest entries beyond the byte bound (but never the newest). */
function remember(key: string, feats: Float32Array): Float32Array {
  featureCache.delete(key);
  featureCache.set(key, feats);
  let bytes = 0;
  for (const f of featureCache.values()) bytes += f.byteLength;
  for (const [k, f] of featureCache) {
    if (bytes <= FEATURE_CACHE_BYTES || k === key) break;
    featureCache.delete(k);
    bytes -= f.byteLength;
  }
  return feats;
}

/** Cached features for `key` ([count, hidden]), from memory or disk; undefined when there are none. */
function cachedFeatures(key: string, dir: string | undefined, count: number, hidden: number, log: TrainHooks['onLog']): Float32Array | undefined {
  const hit = featureCache.get(key);
  if (hit) return remember(key, hit);
  if (!dir) return undefined;
  const file = featureFile(dir, key);
  if (!existsSync(file)) return undefined;
  try {
    const t = readSafetensors(file).get('features');
    if (t && t.shape[0] === count && t.shape[1] === hidden) {
      log?.('debug', `feature cache hit: ${file}`);
      return remember(key, t.data);
    }
    log?.('warn', `${file}: feature cache of another shape; recomputing`);
  } catch {
    log?.('warn', `${file}: unreadable feature cache; recomputing`);
  }
  return undefined;
}

function featuresOf(key: string, model: BertClassifier, split: EncodedSplit, dir: string | undefined, log: TrainHooks['onLog']): { feats: Float32Array; computed: boolean } {
  const hidden = model.config.hidden_size;
  const hit = cachedFeatures(key, dir, split.count, hidden, log);
  if (hit) return { feats: hit, computed: false };
  const feats = pooledFeatures(model, split, 64);
  if (dir) {
    // A cache that cannot be written costs later trials time, never this trial its result.
    try {
      const file = featureFile(dir, key);
      mkdirSync(dir, { recursive: true });
      writeSafetensors(file, new Map([['features', { shape: [split.count, hidden], data: feats }]]), { key });
      log?.('debug', `feature cache written: ${file}`);
    } catch (e) {
      log?.('warn', `${dir}: cannot write the feature cache (${(e as Error).message}); later frozen trials recompute the features`);
    }
  }
  return { feats: remember(key, feats), computed: true };
}

function hashKey(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return (h >>> 0).toString(16).padStart(8, '0');
}

/**
 * A frozen preset trial whose train and val features are all cached needs no encoder: only the
 * head is built, with the values a full build would give it (tiny's body costs about half of
 * such a trial to build). Undefined when anything is missing; the caller then builds the whole model.
 */
function buildFrozenFromCache(input: TrainInput, seed: number, train: EncodedSplit, val: EncodedSplit, dir: string | undefined, log: TrainHooks['onLog']): BuiltModel | undefined {
  if (!isPreset(input.model) || !(input.vocabSize > 0)) return undefined;
  const config = presetModelConfig(input);
  const sourceKey = presetSourceKey(input, seed);
  const H = config.hidden_size;
  if (!cachedFeatures(featureKey(sourceKey, train), dir, train.count, H, log) || !cachedFeatures(featureKey(sourceKey, val), dir, val.count, H, log)) return undefined;
  log?.('debug', 'encoder features cached for train and val: building the head only');
  return { model: BertClassifier.fromSeed(config, input.numLabels, seed, true), config, sourceKey, bodyId: sourceKey, vocabPath: input.vocabPath };
}

function frozenStrategy(built: BuiltModel, train: EncodedSplit, val: EncodedSplit, p: Required<TrainParams>, featuresDir: string | undefined, log: TrainHooks['onLog']): Strategy {
  const model = built.model;
  const H = model.config.hidden_size;
  const ftrain = featuresOf(featureKey(built.sourceKey, train), model, train, featuresDir, log);
  const fval = featuresOf(featureKey(built.sourceKey, val), model, val, featuresDir, log);
  const trainT = tf.tensor2d(ftrain.feats, [train.count, H]);
  const valT = tf.tensor2d(fval.feats, [val.count, H]);
  const trainable = new Map([...model.vars].filter(([n]) => n.startsWith('classifier.')));
  const varList = [...trainable.values()];
  const byVarName = varNameMap(trainable);
  return {
    trainable,
    encoderRan: ftrain.computed || fval.computed,
    microBatch: () => p.batch_size,
    accumulationSteps: () => 1,
    grads(rows, step, divisor) {
      const out = tf.tidy(() => {
        const x = tf.gather(trainT, tf.tensor1d(rows, 'int32')) as tf.Tensor2D;
        const labels = new Int32Array(rows.map((r) => train.labels[r]));
        const rng = p.dropout_rate > 0 ? DropoutRng.forStep(p.seed, step, rows) : undefined;
        return tf.variableGrads(() => crossEntropy(model.head(x, p.dropout_rate, rng), labels, divisor), varList);
      });
      const grads = new Map<string, tf.Tensor>();
      for (const [vn, g] of Object.entries(out.grads)) grads.set(byVarName.get(vn)!, g);
      return { loss: out.value, grads };
    },
    validate() {
      const probs = tf.tidy(() => tf.softmax(model.head(valT, 0)).dataSync() as Float32Array);
      return lossAndAccuracy(probs, val.labels, model.numLabels);
    },
    dispose() {
      trainT.dispose();
      valT.dispose();
    },
  };
}

interface CheckpointState {
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
function writeCheckpoint(dir: string, params: Map<string, tf.Variable>, opt: AdamW, state: CheckpointState): void {
  const tensors = new Map<string, NamedTensor>();
  for (const [n, v] of params) tensors.set(`param/${n}`, { shape: v.shape, data: v.dataSync() as Float32Array });
  for (const [n, v] of opt.m) tensors.set(`adam_m/${n}`, { shape: v.shape, data: v.dataSync() as Float32Array });
  for (const [n, v] of opt.v) tensors.set(`adam_v/${n}`, { shape: v.shape, data: v.dataSync() as Float32Array });
  // Weights first, state last: state.json names the epoch only once its tensors are on disk.
  writeSafetensors(join(dir, 'checkpoint.safetensors'), tensors);
  writeFileAtomic(join(dir, 'checkpoint.json'), JSON.stringify(state) + '\n');
}

/** Loads a checkpoint into `params` and `opt`, after checking it was made the way this trial trains (`expect`). */
function readCheckpoint(dir: string, params: Map<string, tf.Variable>, opt: AdamW, expect: Pick<CheckpointState, 'frozen' | 'body'>): CheckpointState | undefined {
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

/** Fails before any epoch is spent when an output folder cannot be written. */
function assertWritableFolder(dir: string): void {
  writeFileAtomic(join(dir, '.trialbook-write-probe'), 'ok');
  rmSync(join(dir, '.trialbook-write-probe'), { force: true });
}

export async function trainModel(input: TrainInput, hooks: TrainHooks = {}): Promise<TrainResult> {
  const started = performance.now();
  const backend = await ensureBackend();
  const p = checkParams(input.params);
  const log = hooks.onLog;
  if (!(input.numLabels >= 2)) throw new UserError(`numLabels must be at least 2 (got ${input.numLabels})`, 'E_DATA');
  const train = truncateSplit(input.train, p.max_seq_len);
  const val = truncateSplit(input.val, p.max_seq_len);
  const featuresDir = input.featuresDir ?? input.checkpointDir;
  const built = (p.freeze_body && buildFrozenFromCache(input, p.seed, train, val, featuresDir, log)) || buildModel(input, p.seed, log);
  const { model, config } = built;
  let strategy: Strategy | undefined;
  let opt: AdamW | undefined;
  try {
    checkSplit('train', train, config.vocab_size, input.numLabels, config.max_position_embeddings);
    checkSplit('val', val, config.vocab_size, input.numLabels, config.max_position_embeddings);
    if (input.saveBestTo) assertWritableFolder(input.saveBestTo);
    if (input.checkpointDir) assertWritableFolder(input.checkpointDir);
    // The wasm heap tops out at 4 GiB and an allocation failure there aborts the module (no
    // recoverable error), so the activation budget stays well inside it on wasm.
    const budget = backend.name === 'wasm' ? Math.min(input.memoryBudgetMiB ?? WASM_BUDGET_MIB, WASM_BUDGET_MIB) : input.memoryBudgetMiB;
    const plan = pickMicroBatch(config, train.maxLen, p.batch_size, budget);
    strategy = p.freeze_body ? frozenStrategy(built, train, val, p, featuresDir, log) : fullStrategy(model, train, val, p, plan.microBatch, log);
    opt = new AdamW(strategy.trainable, { weightDecay: p.weight_decay });
    const stepsPerEpoch = Math.ceil(train.count / p.batch_size);
    const totalSteps = stepsPerEpoch * p.epochs;
    const labels = input.labelNames ?? Array.from({ length: input.numLabels }, (_, i) => String(i));

    const body = p.freeze_body ? built.bodyId : undefined;
    let state: CheckpointState = { version: 1, epoch: 0, globalStep: 0, adamT: 0, bestValLoss: null, bestValAccuracy: null, bestEpoch: 0, badEpochs: 0, curve: [], seed: p.seed, frozen: p.freeze_body, ...(body ? { body } : {}) };
    // What checkpoints and the best snapshot hold: a frozen trial's body is rebuilt from its
    // source, so only the head is written (KB, where the whole model can be hundreds of MB).
    const stored = strategy.trainable;
    // A head-only model regenerates its (untrained, seeded) body only when a save needs it.
    let body0: Map<string, Float32Array> | undefined;
    const bodyValues = () => (body0 ??= model.headOnly ? seededValues(config, input.numLabels, p.seed) : model.snapshot());
    const fullWeights = (trained: Map<string, Float32Array>) => (p.freeze_body ? new Map([...bodyValues(), ...trained]) : trained);
    let best: Map<string, Float32Array> | undefined;
    if (input.resume && input.checkpointDir) {
      const resumed = readCheckpoint(input.checkpointDir, stored, opt, { frozen: p.freeze_body, body });
      if (resumed) {
        state = resumed;
        const bp = join(input.checkpointDir, 'best.safetensors');
        if (existsSync(bp)) best = new Map([...readSafetensors(bp)].map(([n, t]) => [n, t.data]));
        log?.('info', `resuming after epoch ${state.epoch} (step ${state.globalStep})`);
      } else log?.('info', `no checkpoint in ${input.checkpointDir}; starting from epoch 1`);
    }

    let peakRss = process.memoryUsage.rss();
    const epochSeconds: number[] = [];
    let stoppedEarly = false;
    const emit = (m: Metric) => {
      hooks.onMetric?.(m);
    };
    for (let epoch = state.epoch; epoch < p.epochs; epoch++) {
      const epochStart = performance.now();
      const order = shuffledOrder(train, p.batch_size, p.seed, epoch);
      let lossSum = 0;
      let seen = 0;
      let windowLoss = 0;
      let windowSteps = 0;
      let lr = 0;
      for (let s = 0; s < stepsPerEpoch; s++) {
        // Yield so IPC messages (cancel) are handled between steps.
        await new Promise<void>((r) => setImmediate(r));
        if (hooks.shouldStop?.()) throw new EngineError(`training cancelled at epoch ${epoch + 1}, step ${state.globalStep}`, 'cancelled');
        const rows = stepRows(order, s, p.batch_size);
        lr = scheduledLr(p.learning_rate, state.globalStep, p.warmup_steps, totalSteps);
        const { loss, grads } = strategy.grads(rows, state.globalStep, rows.length);
        const norm = globalNorm(grads.values());
        const [lossV, normV] = tf.tidy(() => tf.stack([loss, norm]).dataSync());
        loss.dispose();
        norm.dispose();
        if (!Number.isFinite(lossV) || !Number.isFinite(normV)) {
          for (const g of grads.values()) g.dispose();
          throw new EngineError(`training loss diverged (loss ${lossV}, gradient norm ${normV}) at epoch ${epoch + 1}, step ${state.globalStep + 1}: learning_rate ${p.learning_rate} is probably too high; try a lower one (e.g. ${p.learning_rate / 10})`, 'nan');
        }
        opt.apply(grads, lr, clipScale(normV, p.max_grad_norm));
        for (const g of grads.values()) g.dispose();
        state.globalStep++;
        lossSum += lossV * rows.length;
        seen += rows.length;
        windowLoss += lossV;
        windowSteps++;
        // Sampled: reading RSS is a syscall, about 10% of a head-only step.
        if ((s & 15) === 0) peakRss = Math.max(peakRss, process.memoryUsage.rss());
        if (input.logEverySteps && state.globalStep % input.logEverySteps === 0 && s < stepsPerEpoch - 1) {
          const secs = (performance.now() - epochStart) / 1000;
          emit({ epoch: epoch + 1, step: state.globalStep, train_loss: windowLoss / windowSteps, val_loss: null, val_accuracy: null, learning_rate: lr, examples_per_sec: seen / secs, elapsed_s: (performance.now() - started) / 1000 });
          windowLoss = 0;
          windowSteps = 0;
        }
      }
      const trainSecs = (performance.now() - epochStart) / 1000;
      const v = strategy.validate();
      const metric: Metric = { epoch: epoch + 1, step: state.globalStep, train_loss: lossSum / seen, val_loss: v.loss, val_accuracy: v.accuracy, learning_rate: lr, examples_per_sec: seen / trainSecs, elapsed_s: (performance.now() - started) / 1000 };
      state.curve.push(metric);
      emit(metric);
      epochSeconds.push((performance.now() - epochStart) / 1000);
      if (state.bestValLoss === null || v.loss < state.bestValLoss) {
        state.bestValLoss = v.loss;
        state.bestValAccuracy = v.accuracy;
        state.bestEpoch = epoch + 1;
        state.badEpochs = 0;
        best = model.snapshot(stored);
        if (input.saveBestTo) saveModelFolder(input.saveBestTo, config, fullWeights(best), input.numLabels, { labels, maxLen: train.maxLen }, built.vocabPath);
        if (input.checkpointDir) writeSafetensors(join(input.checkpointDir, 'best.safetensors'), new Map([...best].map(([n, d]) => [n, { shape: model.vars.get(n)!.shape, data: d }])));
      } else state.badEpochs++;
      state.epoch = epoch + 1;
      state.adamT = opt.t;
      if (input.checkpointDir) writeCheckpoint(input.checkpointDir, stored, opt, state);
      peakRss = Math.max(peakRss, process.memoryUsage.rss());
      if (state.badEpochs >= p.patience && epoch + 1 < p.epochs) {
        log?.('info', `early stopping after epoch ${epoch + 1}: val loss has not improved for ${state.badEpochs} epochs`);
        stoppedEarly = true;
        break;
      }
    }
    if (best && input.saveBestTo && !existsSync(join(input.saveBestTo, 'model.safetensors'))) {
      saveModelFolder(input.saveBestTo, config, fullWeights(best), input.numLabels, { labels, maxLen: train.maxLen }, built.vocabPath);
    }
    return {
      bestValLoss: state.bestValLoss ?? NaN,
      bestValAccuracy: state.bestValAccuracy ?? NaN,
      bestEpoch: state.bestEpoch,
      epochsRun: state.curve.length,
      curve: state.curve,
      backend: backend.name,
      ...(backend.matmul ? { matmul: backend.matmul } : {}),
      microBatch: strategy.microBatch(),
      accumulationSteps: strategy.accumulationSteps(p.batch_size),
      secondsPerEpoch: epochSeconds.length ? epochSeconds.reduce((a, b) => a + b, 0) / epochSeconds.length : 0,
      peakRssMiB: Math.round(peakRss / 1048576),
      stoppedEarly,
      encoderRan: strategy.encoderRan,
    };
  } finally {
    strategy?.dispose();
    opt?.dispose();
    model.dispose();
  }
}
