/**
 * One training run (a trial): full fine-tuning, or head-only on cached encoder features when
 * freeze_body is set. Everything random derives from (seed, epoch, step, example), so a run
 * repeats exactly and a resumed run continues as if it had never stopped. The loop lives here;
 * model build, the two strategies, the feature cache and checkpoints each have their module.
 */
import * as tf from '@tensorflow/tfjs';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../core/errors';
import { writeFileAtomic } from '../core/fsutil';
import type { Metric } from '../protocol/messages';
import type { TrainHooks, TrainResult } from './types';
import type { TrainInput } from './train-input';
import { ensureBackend, type BackendInfo } from './backend';
import { atPrecision } from './precision';
import { seededValues } from './model';
import { AdamW, clipScale, globalNorm, scheduledLr } from './optimizer';
import { activationBudgetMiB } from './memory';
import { checkSplit, truncateSplit } from './data';
import { EngineError } from './errors';
import { saveModelFolder } from './weights';
import { buildFrozenFromCache, buildModel } from './build';
import { FeatureCache } from './feature-cache';
import { fullStrategy } from './full-strategy';
import { frozenStrategy } from './frozen-strategy';
import type { Strategy } from './strategy';
import { readCheckpoint, writeCheckpoint, type CheckpointState } from './checkpoint';
import { shuffledOrder, stepRows } from './batch-order';

/** Fails before any epoch is spent when an output folder cannot be written. */
function assertWritableFolder(dir: string): void {
  writeFileAtomic(join(dir, '.trialbook-write-probe'), 'ok');
  rmSync(join(dir, '.trialbook-write-probe'), { force: true });
}

export async function trainModel(input: TrainInput, hooks: TrainHooks = {}): Promise<TrainResult> {
  const backend = await ensureBackend();
  return atPrecision(input.precision, backend, hooks.onLog, () => train(input, hooks, backend));
}

/** The run itself, at the matmul precision trainModel set. */
async function train(input: TrainInput, hooks: TrainHooks, backend: BackendInfo): Promise<Omit<TrainResult, 'precision'>> {
  const started = performance.now();
  const p = input.params;
  const log = hooks.onLog;
  if (!(input.numLabels >= 2)) throw new UserError(`numLabels must be at least 2 (got ${input.numLabels})`, 'E_DATA');
  const train = truncateSplit(input.train, p.max_seq_len);
  const val = truncateSplit(input.val, p.max_seq_len);
  const features = input.featureCache ?? new FeatureCache(input.checkpointDir);
  const built = (p.freeze_body && buildFrozenFromCache(input, p.seed, train, val, features, log)) || buildModel(input, p.seed, log);
  const { model, config } = built;
  // The trial's dropout_rate is the head's dropout (Hugging Face's classifier_dropout): it replaces
  // config.json's, and the saved config records it, so HF fine-tunes the saved model the same way.
  if (config.classifier_dropout != null && config.classifier_dropout !== p.dropout_rate) log?.('info', `classifier_dropout ${config.classifier_dropout} from config.json is replaced by the trial's dropout_rate ${p.dropout_rate}`);
  const savedConfig = { ...config, classifier_dropout: p.dropout_rate };
  let strategy: Strategy | undefined;
  let opt: AdamW | undefined;
  try {
    checkSplit('train', train, config.vocab_size, input.numLabels, config.max_position_embeddings);
    checkSplit('val', val, config.vocab_size, input.numLabels, config.max_position_embeddings);
    if (input.saveBestTo) assertWritableFolder(input.saveBestTo);
    if (input.checkpointDir) assertWritableFolder(input.checkpointDir);
    const budget = activationBudgetMiB(backend.name, config, input.memoryBudgetMiB);
    const passes = { budgetMiB: budget, log, beforePass: hooks.beforePass };
    strategy = p.freeze_body ? frozenStrategy(built, train, val, p, features, passes) : fullStrategy(model, train, val, p, passes);
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
        state = resumed.state;
        best = resumed.best;
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
      let improved = false;
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
        improved = true;
        if (input.saveBestTo) saveModelFolder(input.saveBestTo, savedConfig, fullWeights(best), input.numLabels, { labels, maxLen: train.maxLen }, built.vocabPath);
      } else state.badEpochs++;
      state.epoch = epoch + 1;
      state.adamT = opt.t;
      if (input.checkpointDir) {
        const newBest = improved && best ? new Map([...best].map(([n, d]) => [n, { shape: model.vars.get(n)!.shape, data: d }])) : undefined;
        writeCheckpoint(input.checkpointDir, stored, opt, state, newBest);
      }
      peakRss = Math.max(peakRss, process.memoryUsage.rss());
      if (state.badEpochs >= p.patience && epoch + 1 < p.epochs) {
        log?.('info', `early stopping after epoch ${epoch + 1}: val loss has not improved for ${state.badEpochs} epochs`);
        stoppedEarly = true;
        break;
      }
    }
    if (best && input.saveBestTo && !existsSync(join(input.saveBestTo, 'model.safetensors'))) {
      saveModelFolder(input.saveBestTo, savedConfig, fullWeights(best), input.numLabels, { labels, maxLen: train.maxLen }, built.vocabPath);
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
      accumulationSteps: strategy.accumulationSteps(),
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
