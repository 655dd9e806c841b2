/**
 * Masked-LM training of a BERT body (pretrain.ts): the Strategy of one run, like full fine-tuning
 * but the loss is the masked-LM head's over the masked tokens, and validation reports the
 * masked-token loss and accuracy on held-out texts masked once.
 */
import * as tf from '@tensorflow/tfjs';
import type { EncodedSplit } from '../core/encoded';
import type { BertClassifier } from './model';
import type { MlmHead } from './mlm-head';
import { DropoutRng } from './ops';
import { longest, rowIds } from './data';
import { maskRows, type MaskedBatch, type MaskingSpec } from './masking';
import { accumulateGrads, varNameMap, type Strategy } from './strategy';
import type { MicroBatcher } from './memory';

/** Parameters that masked-LM training never reaches: the pooler and a classifier read only [CLS] for classification. */
const unused = (name: string) => name.startsWith('bert.pooler.') || name.startsWith('classifier.');

/** Rows of `split` masked for optimizer step `step` (validation uses step -1: one fixed masking), with their lengths. */
function masked(split: EncodedSplit, rows: number[], len: number, seed: number, step: number, spec: MaskingSpec): MaskedBatch & { lengths: Int32Array } {
  const { ids, lengths } = rowIds(split, rows, len);
  return { ...maskRows(ids, lengths, len, rows, seed, step, spec), lengths };
}

/** `micro` sizes each step's micro-batches from its padded length; `batch` rows make a step. */
export function mlmStrategy(model: BertClassifier, head: MlmHead, train: EncodedSplit, val: EncodedSplit, seed: number, spec: MaskingSpec, micro: MicroBatcher, batch: number): Strategy {
  const trainable = new Map([...[...model.vars].filter(([n]) => !unused(n)), ...head.vars]);
  const varList = [...trainable.values()];
  const byVarName = varNameMap(trainable);
  const words = model.vars.get('bert.embeddings.word_embeddings.weight')! as tf.Variable<tf.Rank.R2>;
  const dropout = model.config.hidden_dropout_prob > 0 || model.config.attention_probs_dropout_prob > 0;
  return {
    trainable,
    encoderRan: true,
    microBatch: () => micro.reported(batch, train.maxLen).microBatch,
    accumulationSteps: () => micro.reported(batch, train.maxLen).accumulationSteps,
    grads(rows, step) {
      const len = longest(train, rows, train.maxLen);
      // The loss is the mean over every masked token of the optimizer batch, however it is cut
      // into micro-batches: mask the whole batch first to count them.
      const size = micro.size(rows.length, len);
      const chunks: Array<{ rows: number[]; batch: ReturnType<typeof masked> }> = [];
      let targets = 0;
      for (let i = 0; i < rows.length; i += size) {
        const part = rows.slice(i, i + size);
        const batch = masked(train, part, len, seed, step, spec);
        targets += batch.targets.length;
        chunks.push({ rows: part, batch });
      }
      micro.ran(rows.length, size);
      const acc = new Map<string, tf.Tensor>();
      let loss = tf.scalar(0);
      for (const { rows: part, batch } of chunks) {
        if (batch.targets.length === 0) continue;
        const out = tf.tidy(() => {
          const ids = tf.tensor2d(batch.ids, [part.length, len], 'int32');
          const positions = tf.tensor1d(batch.positions, 'int32');
          const rng = dropout ? DropoutRng.forStep(seed, step, part) : undefined;
          return tf.variableGrads(() => head.loss(model.sequenceOutput({ ids, lengths: batch.lengths }, rng), positions, batch.targets, words, Math.max(1, targets)), varList);
        });
        accumulateGrads(acc, out.grads, byVarName);
        const sum = tf.add(loss, out.value) as tf.Scalar;
        tf.dispose([loss, out.value]);
        loss = sum;
      }
      return { loss, grads: acc };
    },
    validate() {
      let nll = 0;
      let correct = 0;
      let count = 0;
      const order = Array.from({ length: val.count }, (_, i) => i).sort((a, b) => val.lengths[a] - val.lengths[b]);
      for (let i = 0; i < order.length; i += 64) {
        const part = order.slice(i, i + 64);
        const len = longest(val, part, val.maxLen);
        const batch = masked(val, part, len, seed, -1, spec);
        if (batch.targets.length === 0) continue;
        const [sum, hits] = tf.tidy(() => {
          const ids = tf.tensor2d(batch.ids, [part.length, len], 'int32');
          const logits = head.logits(tf.gather(model.sequenceOutput({ ids, lengths: batch.lengths }), tf.tensor1d(batch.positions, 'int32')) as tf.Tensor2D, words);
          const logp = tf.logSoftmax(logits);
          const picked = tf.sum(tf.mul(logp, tf.oneHot(tf.tensor1d(batch.targets, 'int32'), logits.shape[1])));
          const right = tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), tf.tensor1d(batch.targets, 'int32')), 'float32'));
          return [picked.dataSync()[0], right.dataSync()[0]];
        });
        nll -= sum;
        correct += hits;
        count += batch.targets.length;
      }
      return { loss: count ? nll / count : NaN, accuracy: count ? correct / count : NaN };
    },
    dispose() {},
  };
}
