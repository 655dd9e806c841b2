/** Head-only training (freeze_body): the encoder runs once per split, the head trains on its pooled features. */
import * as tf from '@tensorflow/tfjs';
import type { EncodedSplit } from '../core/encoded';
import type { TrainParams } from './types';
import { crossEntropy, DropoutRng } from './ops';
import { FeatureCache } from './feature-cache';
import type { BuiltModel } from './build';
import type { PassOptions } from './score';
import { lossAndAccuracy, varNameMap, type Strategy } from './strategy';

export function frozenStrategy(built: BuiltModel, train: EncodedSplit, val: EncodedSplit, p: TrainParams, cache: FeatureCache, passes: PassOptions): Strategy {
  const model = built.model;
  const H = model.config.hidden_size;
  const ftrain = cache.featuresOf(FeatureCache.key(built.sourceKey, train), model, train, passes);
  const fval = cache.featuresOf(FeatureCache.key(built.sourceKey, val), model, val, passes);
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
