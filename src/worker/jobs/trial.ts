/**
 * `trial` job: one training run of a study, as the caller resolved it (the study as it loaded
 * it, the trial's full hyperparameters): split (reused when unchanged) → encoded dataset (cached
 * per max_len) → engine trainModel.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { writeFileAtomic } from '../../core/fsutil';
import type { TrainParams } from '../../core/params';
import { studyFromSpec, studyStateDir } from '../../core/study';
import { evaluateModel, FeatureCache, trainModel } from '../../engine';
import { describeBackend } from '../../engine/backend';
import { isPreset } from '../../engine/config';
import type { TrialJobOptions } from '../../protocol/messages';
import type { JobContext } from '../context';
import { encodedStudySplits } from '../data';
import { CancelledError } from '../errors';
import { readTokenizerConfig, TOKENIZER_CONFIG, tokenizerConfigJson } from '../../core/tokenizer';
import type { TrialJobResult } from './trial-types';

/**
 * The current study's feature cache: it outlives a trial, so a worker kept for the next
 * head-only trial (memoryUnchanged) reads the features from memory; another study replaces it.
 */
let studyFeatures: FeatureCache | undefined;

function featureCacheFor(dir: string): FeatureCache {
  if (studyFeatures?.dir !== dir) studyFeatures = new FeatureCache(dir);
  return studyFeatures;
}

export async function trialJob(o: TrialJobOptions, ctx: JobContext): Promise<TrialJobResult> {
  const loaded = studyFromSpec(o.study.file, o.study.spec);
  const { study } = loaded;
  const params = o.params as unknown as TrainParams;
  const vocabPath = loaded.resolve(study.tokenizer.vocab);
  if (!isPreset(study.model)) warnTokenizerMismatch(loaded.resolve(study.model), study.tokenizer, ctx);
  const ds = await encodedStudySplits(loaded, params.max_seq_len, vocabPath, ctx);
  ctx.checkCancelled();
  const backend = await ctx.backend(o.backend);
  ctx.progress(0, params.epochs, `training on ${describeBackend(backend)}`);
  // Scoring the test split needs the best model on disk, even when the caller did not ask to keep it.
  const saveBestTo = o.saveTo ? resolve(o.saveTo) : o.evaluateTest ? join(studyStateDir(loaded), 'last-trial-model') : undefined;
  const r = await trainModel(
    {
      model: isPreset(study.model) ? study.model : loaded.resolve(study.model),
      encoderDropout: study.encoderDropout,
      precision: study.precision,
      vocabSize: ds.vocabSize,
      numLabels: ds.labels.length,
      train: ds.train,
      val: ds.val,
      params,
      memoryBudgetMiB: o.memoryBudgetMiB ?? study.training.memoryBudgetMiB,
      checkpointDir: o.checkpointDir ? resolve(o.checkpointDir) : undefined,
      // One feature cache per study: frozen trials of the same body and max_len share their
      // encoder features, on disk across workers and in memory within one.
      featureCache: featureCacheFor(join(studyStateDir(loaded), 'features')),
      resume: o.resume,
      logEverySteps: study.training.logEverySteps,
      saveBestTo,
      vocabPath,
      labelNames: ds.labels,
    },
    {
      onMetric: (m) => {
        ctx.metric(m);
        if (m.val_loss !== null && m.val_loss !== undefined) ctx.progress(m.epoch, params.epochs, `epoch ${m.epoch}/${params.epochs}`);
      },
      onLog: (level, text) => ctx.log(level, text),
      shouldStop: () => ctx.cancelled(),
    },
  );
  if (ctx.cancelled()) throw new CancelledError('trial cancelled');
  // A head-only trial on cached features keeps the worker's memory flat, so the worker stays for
  // the next trial: a fresh process would cost more than such a trial itself.
  if (!r.encoderRan) ctx.memoryUnchanged();
  // The tokenizer flags travel with the model, so evaluate/predict tokenize as training did.
  if (saveBestTo && existsSync(join(saveBestTo, 'model.safetensors'))) {
    writeFileAtomic(join(saveBestTo, TOKENIZER_CONFIG), tokenizerConfigJson({ lowercase: study.tokenizer.lowercase, stripAccents: study.tokenizer.stripAccents, maxLen: params.max_seq_len }));
  }
  const result: TrialJobResult = { ...r, labels: ds.labels };
  if (o.saveTo) result.savedTo = saveBestTo;
  if (o.evaluateTest && saveBestTo) {
    ctx.progress(0, ds.test.count, 'scoring the test split');
    result.test = await evaluateModel(saveBestTo, ds.test);
  }
  return result;
}

/** A pretrained folder's tokenizer_config.json that the study's tokenizer flags contradict: ids would differ from the model's own. */
function warnTokenizerMismatch(modelDir: string, t: { lowercase: boolean; stripAccents: boolean }, ctx: JobContext): void {
  if (!existsSync(join(modelDir, TOKENIZER_CONFIG))) return;
  const { flags, source } = readTokenizerConfig(modelDir);
  if (flags.lowercase !== t.lowercase || flags.stripAccents !== t.stripAccents) {
    ctx.log('warn', `${source}, but the study tokenizes with lowercase ${t.lowercase}, stripAccents ${t.stripAccents}: set the study's tokenizer flags to match, or the ids differ from the model's pretraining`);
  }
}
