/**
 * Full fine-tuning: every parameter trains, each optimizer step micro-batched to fit memory at
 * its own padded length, halving the micro-batch when an allocation fails.
 */
import * as tf from '@tensorflow/tfjs';
import type { EncodedSplit } from '../core/encoded';
import type { TrainParams } from './types';
import type { BertClassifier } from './model';
import { DropoutRng } from './ops';
import { gatherBatch, longest } from './data';
import { looksLikeOom } from '../core/errors';
import { EngineError } from './errors';
import { MicroBatcher } from './memory';
import { scoreRows, type PassOptions } from './score';
import { accumulateGrads, lossAndAccuracy, varNameMap, type Strategy } from './strategy';

export function fullStrategy(model: BertClassifier, train: EncodedSplit, val: EncodedSplit, p: TrainParams, passes: PassOptions): Strategy {
  const { log, beforePass } = passes;
  const trainable = model.vars;
  const varList = [...trainable.values()];
  const byVarName = varNameMap(trainable);
  const micro = new MicroBatcher(model.config, passes.budgetMiB);
  const cap = train.maxLen;
  return {
    trainable,
    encoderRan: true,
    microBatch: () => micro.reported(p.batch_size, cap).microBatch,
    accumulationSteps: () => micro.reported(p.batch_size, cap).accumulationSteps,
    grads(rows, step, divisor) {
      // One sequence length for the whole optimizer batch (its rows are of similar length:
      // batch-order.ts), so how it is cut into micro-batches changes nothing but float rounding.
      const len = longest(train, rows, cap);
      for (;;) {
        const size = micro.size(rows.length, len);
        const acc = new Map<string, tf.Tensor>();
        let loss: tf.Scalar | undefined;
        try {
          for (let i = 0; i < rows.length; i += size) {
            const chunk = rows.slice(i, i + size);
            beforePass?.(chunk.length, len);
            const out = tf.tidy(() => {
              const { labels, ...batch } = gatherBatch(train, chunk, len);
              const rng = p.dropout_rate > 0 || model.config.hidden_dropout_prob > 0 || model.config.attention_probs_dropout_prob > 0 ? DropoutRng.forStep(p.seed, step, chunk) : undefined;
              return tf.variableGrads(() => model.loss(batch, labels, p.dropout_rate, divisor, rng), varList);
            });
            accumulateGrads(acc, out.grads, byVarName);
            if (loss) {
              const l2 = tf.add(loss, out.value) as tf.Scalar;
              loss.dispose();
              out.value.dispose();
              loss = l2;
            } else loss = out.value;
          }
          micro.ran(rows.length, size);
          return { loss: loss!, grads: acc };
        } catch (e) {
          for (const g of acc.values()) g.dispose();
          loss?.dispose();
          if (!looksLikeOom(e)) throw e;
          if (size === 1) throw new EngineError(`out of memory even with micro-batch 1 at sequence length ${len} (${(e as Error).message}); lower max_seq_len or use a smaller model`, 'oom');
          micro.failed(size, len);
          log?.('warn', `allocation failed with micro-batch ${size} at sequence length ${len} (${(e as Error).message}); retrying with ${micro.size(rows.length, len)}`);
        }
      }
    },
    validate() {
      const probs = scoreRows(model, val, passes);
      return lossAndAccuracy(probs, val.labels, model.numLabels);
    },
    dispose() {},
  };
}
