/** Full fine-tuning: every parameter trains, micro-batched to fit memory, halving the micro-batch when an allocation fails. */
import * as tf from '@tensorflow/tfjs';
import type { EncodedSplit } from '../core/encoded';
import type { TrainHooks, TrainParams } from './types';
import type { BertClassifier } from './model';
import { DropoutRng } from './ops';
import { gatherBatch, longest } from './data';
import { looksLikeOom } from '../core/errors';
import { EngineError } from './errors';
import { faults } from './memory';
import { scoreRows } from './score';
import { lossAndAccuracy, varNameMap, type Strategy } from './strategy';

export function fullStrategy(model: BertClassifier, train: EncodedSplit, val: EncodedSplit, p: TrainParams, initialMicro: number, budgetMiB: number, log: TrainHooks['onLog']): Strategy {
  const trainable = model.vars;
  const varList = [...trainable.values()];
  const byVarName = varNameMap(trainable);
  let micro = initialMicro;
  // Micro-batches of the largest optimizer step so far: what accumulation really took.
  let accumulation = 0;
  const cap = train.maxLen;
  return {
    trainable,
    encoderRan: true,
    microBatch: () => micro,
    accumulationSteps: () => accumulation,
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
              const { labels, ...batch } = gatherBatch(train, chunk, len);
              const rng = p.dropout_rate > 0 || model.config.hidden_dropout_prob > 0 || model.config.attention_probs_dropout_prob > 0 ? DropoutRng.forStep(p.seed, step, chunk) : undefined;
              return tf.variableGrads(() => model.loss(batch, labels, p.dropout_rate, divisor, rng), varList);
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
          accumulation = Math.max(accumulation, Math.ceil(rows.length / micro));
          return { loss: loss!, grads: acc };
        } catch (e) {
          for (const g of acc.values()) g.dispose();
          loss?.dispose();
          if (!looksLikeOom(e)) throw e;
          if (micro === 1) throw new EngineError(`out of memory even with micro-batch 1 at sequence length ${len} (${(e as Error).message}); lower max_seq_len or use a smaller model`, 'oom');
          const next = Math.max(1, Math.floor(micro / 2));
          log?.('warn', `allocation failed with micro-batch ${micro} (${(e as Error).message}); retrying with ${next}`);
          micro = next;
        }
      }
    },
    validate() {
      const probs = scoreRows(model, val, { budgetMiB, log });
      return lossAndAccuracy(probs, val.labels, model.numLabels);
    },
    dispose() {},
  };
}
