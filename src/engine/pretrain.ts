/**
 * Masked-LM pre-training of a BERT body on unlabelled texts, from scratch (a preset) or
 * continuing a model folder (domain-adaptive pre-training, Gururangan et al. 2020: "Don't Stop
 * Pretraining"). The result is a Hugging Face BERT folder with its masked-LM head
 * (BertForMaskedLM's `cls.predictions.*`), which a study then fine-tunes as its `model`.
 */
import * as tf from '@tensorflow/tfjs';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Rng } from '../core/rng';
import { UserError } from '../core/errors';
import { writeFileAtomic } from '../core/fsutil';
import { sha256 } from '../core/hash';
import type { EncodedSplit } from '../core/encoded';
import type { Metric } from '../protocol/messages';
import type { BertConfig, TrainHooks } from './types';
import { ensureBackend, type BackendInfo } from './backend';
import { isPreset, presetConfig, PRESETS } from './config';
import { BertClassifier, paramSpecs } from './model';
import { MLM_PREFIX, MlmHead, mlmHeadSpecs, seededMlmHead, storedMlmHead } from './mlm-head';
import { mlmStrategy } from './mlm-strategy';
import type { MaskingSpec } from './masking';
import { AdamW, clipScale, globalNorm, scheduledLr } from './optimizer';
import { activationBudgetMiB, MicroBatcher } from './memory';
import { checkSplit } from './data';
import { EngineError } from './errors';
import { initialiseMissing, mapCheckpoint, readModelFolder, transpose2d, WEIGHTS_FILE } from './weights';
import { writeSafetensors, type NamedTensor } from './safetensors';
import { shuffledOrder, stepRows } from './batch-order';
import { atPrecision, type Precision, type PrecisionSetting } from './precision';
import { checkpointState, readCheckpoint, writeCheckpoint, type CheckpointState } from './checkpoint';

/** The checkpoint folder inside the output folder while a run is under way. */
export const PRETRAIN_CHECKPOINT = 'pretrain-checkpoint';

/** What a checkpoint must have been made from to be continued: the texts, the model, the settings. */
function runFingerprint(input: PretrainInput, p: Required<PretrainParams>): string {
  const t = input.texts;
  const texts = sha256(new Uint8Array(t.ids.buffer, t.ids.byteOffset, t.ids.byteLength)) + sha256(new Uint8Array(t.lengths.buffer, t.lengths.byteOffset, t.lengths.byteLength));
  const model = isPreset(input.model) ? input.model : resolve(input.model);
  return sha256(JSON.stringify({ v: 1, texts, maxLen: t.maxLen, model, vocabSize: input.vocabSize, special: input.special, maskId: input.maskId, params: p }));
}

export interface PretrainParams {
  learning_rate: number;
  warmup_steps: number;
  batch_size: number;
  epochs: number;
  max_seq_len: number;
  seed: number;
  /** Share of each text's tokens to predict (BERT: 0.15). */
  mask_probability?: number;
  weight_decay?: number;
  max_grad_norm?: number;
}

export interface PretrainInput {
  /** A preset (from scratch) or a model folder (continued). */
  model: string;
  /** The vocab's size: a preset's vocab_size, and what a folder's config must say. */
  vocabSize: number;
  /** Tokenized texts (labels ignored); a twentieth (at most 2,000) is held out for validation. */
  texts: EncodedSplit;
  /** Ids that are never masked or drawn as random replacements, and [MASK]'s. */
  special: number[];
  maskId: number;
  params: PretrainParams;
  /** The model folder to write (the epoch with the best held-out masked-LM loss). */
  saveTo: string;
  vocabPath?: string;
  precision?: PrecisionSetting;
  memoryBudgetMiB?: number;
  logEverySteps?: number;
  /**
   * Seconds between checkpoints inside an epoch (default 600; every epoch's end saves one too).
   * A run stopped or killed continues from its last checkpoint when started again with the same
   * texts, model and settings; the checkpoint (`saveTo`/pretrain-checkpoint) is removed when the
   * run completes.
   */
  checkpointEverySeconds?: number;
}

export interface PretrainResult {
  curve: Metric[];
  bestValLoss: number;
  bestEpoch: number;
  train: number;
  val: number;
  backend: string;
  matmul?: string;
  precision: Precision;
  microBatch: number;
  peakRssMiB: number;
  savedTo: string;
}

function checkParams(p: PretrainParams): Required<PretrainParams> {
  const bad: string[] = [];
  const num = (k: keyof PretrainParams, ok: (v: number) => boolean, what: string) => {
    const v = p[k] as unknown;
    if (v !== undefined && (typeof v !== 'number' || !Number.isFinite(v) || !ok(v))) bad.push(`${k} must be ${what} (got ${JSON.stringify(v)})`);
  };
  num('learning_rate', (v) => v > 0, 'a positive number');
  num('warmup_steps', (v) => v >= 0 && Number.isInteger(v), 'an integer ≥ 0');
  num('batch_size', (v) => v >= 1 && Number.isInteger(v), 'an integer ≥ 1');
  num('epochs', (v) => v >= 1 && Number.isInteger(v), 'an integer ≥ 1');
  num('max_seq_len', (v) => v >= 3 && Number.isInteger(v), 'an integer ≥ 3');
  num('seed', (v) => Number.isInteger(v), 'an integer');
  num('mask_probability', (v) => v > 0 && v < 1, 'in (0, 1)');
  num('weight_decay', (v) => v >= 0, '≥ 0');
  num('max_grad_norm', (v) => v >= 0, '≥ 0');
  if (bad.length) throw new UserError(`pretraining parameters: ${bad.join('; ')}`, 'E_PARAMS');
  return { mask_probability: 0.15, weight_decay: 0.01, max_grad_norm: 1, ...p };
}

/**
 * Held-out texts: a seeded twentieth, at least one and at most 2,000. Texts with no token besides
 * [CLS] and [SEP] (empty lines) have nothing to predict and are left out.
 */
function holdOut(texts: EncodedSplit, seed: number): { train: EncodedSplit; val: EncodedSplit } {
  const order = Int32Array.from({ length: texts.count }, (_, i) => i).filter((r) => texts.lengths[r] > 2);
  if (order.length < 2) throw new UserError(`pretraining needs at least 2 texts with a token to predict (got ${order.length})`, 'E_DATA');
  new Rng((seed ^ 0x5eed) >>> 0).shuffle(order);
  const nVal = Math.min(2000, Math.max(1, Math.round(order.length / 20)));
  const pick = (rows: Int32Array): EncodedSplit => {
    const ids = new Int32Array(rows.length * texts.maxLen);
    rows.forEach((r, k) => ids.set(texts.ids.subarray(r * texts.maxLen, (r + 1) * texts.maxLen), k * texts.maxLen));
    return { maxLen: texts.maxLen, count: rows.length, ids, lengths: Uint16Array.from(rows, (r) => texts.lengths[r]), labels: new Int32Array(rows.length) };
  };
  return { val: pick(order.subarray(0, nVal)), train: pick(order.subarray(nVal)) };
}

interface Built {
  model: BertClassifier;
  head: MlmHead;
  config: BertConfig;
  vocabPath?: string;
}

/** The body and masked-LM head: seeded for a preset; a folder's, with a fresh head if it has none. */
function build(input: PretrainInput, seed: number, log: TrainHooks['onLog']): Built {
  if (isPreset(input.model)) {
    const config = presetConfig(input.model, input.vocabSize);
    return { model: BertClassifier.fromSeed(config, 2, seed), head: new MlmHead(config, seededMlmHead(config, seed)), config, vocabPath: input.vocabPath };
  }
  const dir = resolve(input.model);
  if (!existsSync(dir)) throw new UserError(`model "${input.model}": neither a preset (${Object.keys(PRESETS).join(', ')}) nor an existing folder`, 'E_NOT_FOUND');
  const mf = readModelFolder(dir);
  if (input.vocabSize !== mf.config.vocab_size) {
    throw new UserError(`${join(dir, 'config.json')}: vocab_size ${mf.config.vocab_size} does not match the vocab (${input.vocabSize} tokens); pretrain with the model's vocab.txt`, 'E_VOCAB');
  }
  for (const note of mf.notes) log?.('info', note);
  const { file, tensors } = mf.weights;
  const loaded = mapCheckpoint(file, tensors, mf.config, 2, true);
  // The classifier is never trained or saved here (a pooler the folder lacks is, for fine-tuning).
  initialiseMissing(file, { ...loaded, headMissing: false }, mf.config, 2, seed, log);
  let head = storedMlmHead(tensors, mf.config);
  if (!head) {
    log?.('info', `${file}: no masked-LM head (${MLM_PREFIX}*); starting a new one`);
    head = seededMlmHead(mf.config, seed);
  }
  return { model: new BertClassifier(mf.config, 2, loaded.values), head: new MlmHead(mf.config, head), config: mf.config, vocabPath: input.vocabPath ?? mf.vocabPath };
}

/** Writes a BertForMaskedLM folder: the body (pooler included, for fine-tuning) and the head; the decoder stays tied to the word embeddings. */
function saveMlmFolder(dir: string, config: BertConfig, body: Map<string, Float32Array>, head: Map<string, Float32Array>, vocabPath: string | undefined): void {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw new UserError(`${dir}: cannot create the model folder (${(e as NodeJS.ErrnoException).code ?? e})`, 'E_IO');
  }
  const tensors = new Map<string, NamedTensor>();
  const specs = [...paramSpecs(config, 2).filter((s) => !s.head), ...mlmHeadSpecs(config)];
  for (const s of specs) {
    const v = body.get(s.name) ?? head.get(s.name)!;
    tensors.set(s.name, s.kernel ? { shape: [s.shape[1], s.shape[0]], data: transpose2d(v, s.shape[0], s.shape[1]) } : { shape: s.shape, data: v });
  }
  writeSafetensors(join(dir, WEIGHTS_FILE), tensors, { format: 'pt' });
  writeFileAtomic(join(dir, 'config.json'), JSON.stringify({ architectures: ['BertForMaskedLM'], model_type: 'bert', ...config }, null, 2) + '\n');
  if (vocabPath && existsSync(vocabPath)) writeFileAtomic(join(dir, 'vocab.txt'), readFileSync(vocabPath));
}

export async function pretrainModel(input: PretrainInput, hooks: TrainHooks = {}): Promise<PretrainResult> {
  const backend = await ensureBackend();
  return atPrecision(input.precision, backend, hooks.onLog, () => pretrain(input, hooks, backend));
}

async function pretrain(input: PretrainInput, hooks: TrainHooks, backend: BackendInfo): Promise<Omit<PretrainResult, 'precision'>> {
  const started = performance.now();
  const p = checkParams(input.params);
  const log = hooks.onLog;
  const { train, val } = holdOut(input.texts, p.seed);
  const built = build(input, p.seed, log);
  const { model, head, config } = built;
  try {
    checkSplit('texts', input.texts, config.vocab_size, 2, config.max_position_embeddings);
    const spec: MaskingSpec = { special: new Set(input.special), maskId: input.maskId, vocabSize: config.vocab_size, probability: p.mask_probability };
    const budget = activationBudgetMiB(backend.name, config, input.memoryBudgetMiB);
    const strategy = mlmStrategy(model, head, train, val, p.seed, spec, new MicroBatcher(config, budget), p.batch_size);
    const opt = new AdamW(strategy.trainable, { weightDecay: p.weight_decay });
    try {
      const stepsPerEpoch = Math.ceil(train.count / p.batch_size);
      const totalSteps = stepsPerEpoch * p.epochs;
      const ckDir = join(input.saveTo, PRETRAIN_CHECKPOINT);
      const fingerprint = runFingerprint(input, p);
      const found = checkpointState(ckDir);
      if (found && found.body !== fingerprint) {
        throw new UserError(`${ckDir}: a checkpoint of another pretraining run (other texts, model or settings); delete it to start over, or write to another --out`, 'E_CHECKPOINT');
      }
      // Masking, dropout and order are functions of (seed, epoch, step): a resumed run repeats
      // exactly what the uninterrupted one would have done.
      const resumed = found ? readCheckpoint(ckDir, strategy.trainable, opt, { frozen: false, body: fingerprint })!.state : undefined;
      const curve: Metric[] = resumed?.curve ?? [];
      let best = { loss: resumed?.bestValLoss ?? Infinity, epoch: resumed?.bestEpoch ?? 0 };
      let step = resumed?.globalStep ?? 0;
      const firstEpoch = resumed?.epoch ?? 0;
      if (resumed) log?.('info', `continuing from ${ckDir}: epoch ${firstEpoch + 1}, step ${step}`);
      const saveEveryMs = (input.checkpointEverySeconds ?? 600) * 1000;
      let savedAt = performance.now();
      const checkpoint = (epochsDone: number, within?: CheckpointState['within']) => {
        const state: CheckpointState = { version: 1, epoch: epochsDone, globalStep: step, adamT: opt.t, bestValLoss: Number.isFinite(best.loss) ? best.loss : null, bestValAccuracy: null, bestEpoch: best.epoch, badEpochs: 0, curve, seed: p.seed, frozen: false, body: fingerprint, ...(within ? { within } : {}) };
        mkdirSync(ckDir, { recursive: true });
        writeCheckpoint(ckDir, strategy.trainable, opt, state);
        savedAt = performance.now();
      };
      let peakRss = process.memoryUsage.rss();
      for (let epoch = firstEpoch; epoch < p.epochs; epoch++) {
        const epochStart = performance.now();
        const order = shuffledOrder(train, p.batch_size, p.seed, epoch);
        const within = epoch === firstEpoch ? resumed?.within : undefined;
        let lossSum = within?.lossSum ?? 0;
        let lr = 0;
        const firstStep = within?.stepInEpoch ?? 0;
        for (let s = firstStep; s < stepsPerEpoch; s++) {
          await new Promise<void>((r) => setImmediate(r));
          if (hooks.shouldStop?.()) {
            // Stopped on purpose: keep what this epoch has done so far for the next start.
            if (s > firstStep) checkpoint(epoch, { stepInEpoch: s, lossSum });
            throw new EngineError(`pretraining cancelled at epoch ${epoch + 1}, step ${step}; starting it again with the same texts and settings continues from here`, 'cancelled');
          }
          const rows = stepRows(order, s, p.batch_size);
          lr = scheduledLr(p.learning_rate, step, p.warmup_steps, totalSteps);
          const { loss, grads } = strategy.grads(rows, step, rows.length);
          if (grads.size === 0) {
            // Nothing to predict in this batch (texts of special tokens only): no update.
            loss.dispose();
            step++;
            continue;
          }
          const norm = globalNorm(grads.values());
          const [lossV, normV] = tf.tidy(() => tf.stack([loss, norm]).dataSync());
          tf.dispose([loss, norm]);
          if (!Number.isFinite(lossV) || !Number.isFinite(normV)) {
            tf.dispose([...grads.values()]);
            throw new EngineError(`pretraining diverged (loss ${lossV}) at epoch ${epoch + 1}, step ${step + 1}: try a lower learning_rate than ${p.learning_rate}`, 'nan');
          }
          opt.apply(grads, lr, clipScale(normV, p.max_grad_norm));
          tf.dispose([...grads.values()]);
          step++;
          lossSum += lossV;
          if ((s & 15) === 0) peakRss = Math.max(peakRss, process.memoryUsage.rss());
          if (input.logEverySteps && step % input.logEverySteps === 0 && s < stepsPerEpoch - 1) {
            hooks.onMetric?.({ epoch: epoch + 1, step, train_loss: lossSum / (s + 1), val_loss: null, val_accuracy: null, learning_rate: lr, examples_per_sec: ((s + 1 - firstStep) * p.batch_size) / ((performance.now() - epochStart) / 1000), elapsed_s: (performance.now() - started) / 1000 });
          }
          if (s < stepsPerEpoch - 1 && performance.now() - savedAt >= saveEveryMs) checkpoint(epoch, { stepInEpoch: s + 1, lossSum });
        }
        const secs = (performance.now() - epochStart) / 1000;
        const v = strategy.validate();
        const metric: Metric = { epoch: epoch + 1, step, train_loss: lossSum / stepsPerEpoch, val_loss: v.loss, val_accuracy: v.accuracy, learning_rate: lr, examples_per_sec: (train.count * (stepsPerEpoch - firstStep)) / stepsPerEpoch / secs, elapsed_s: (performance.now() - started) / 1000 };
        curve.push(metric);
        hooks.onMetric?.(metric);
        if (v.loss < best.loss) {
          best = { loss: v.loss, epoch: epoch + 1 };
          saveMlmFolder(input.saveTo, config, model.snapshot(), head.snapshot(), built.vocabPath);
        }
        if (epoch < p.epochs - 1) checkpoint(epoch + 1);
        peakRss = Math.max(peakRss, process.memoryUsage.rss());
      }
      if (!existsSync(join(input.saveTo, WEIGHTS_FILE))) saveMlmFolder(input.saveTo, config, model.snapshot(), head.snapshot(), built.vocabPath);
      rmSync(ckDir, { recursive: true, force: true });
      return { curve, bestValLoss: best.loss, bestEpoch: best.epoch, train: train.count, val: val.count, backend: backend.name, ...(backend.matmul ? { matmul: backend.matmul } : {}), microBatch: strategy.microBatch(), peakRssMiB: Math.round(peakRss / 1048576), savedTo: resolve(input.saveTo) };
    } finally {
      opt.dispose();
    }
  } finally {
    model.dispose();
    head.dispose();
  }
}

