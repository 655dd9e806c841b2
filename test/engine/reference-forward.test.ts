/**
 * The model's forward pass against a textbook BERT written here with plain tf ops on the same
 * variables: every layer over every token, the [CLS] row taken at the end, padding masked from
 * each row's length. The engine computes only the [CLS] row in the last layer and uses its own
 * kernels; the logits must not change.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/engine';
import { BertClassifier } from '../../src/engine/model';
import { setNativeMatmulEnabled } from '../../src/engine/native-blas';
import type { BertConfig } from '../../src/engine/types';

function referenceLogits(m: BertClassifier, ids: tf.Tensor2D, lengths: number[]): tf.Tensor2D {
  const c = m.config;
  const v = (n: string) => m.vars.get(n)!;
  const [B, S] = ids.shape;
  const H = c.hidden_size, A = c.num_attention_heads, D = H / A;
  const ln = (x: tf.Tensor, p: string) => {
    const { mean, variance } = tf.moments(x, -1, true);
    return tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, c.layer_norm_eps ?? 1e-12))), v(`${p}.weight`)), v(`${p}.bias`));
  };
  const lin = (x: tf.Tensor, p: string) => tf.add(tf.matMul(x as tf.Tensor2D, v(`${p}.weight`) as tf.Tensor2D), v(`${p}.bias`));
  const act = (x: tf.Tensor) =>
    c.hidden_act === 'gelu_new'
      ? tf.mul(tf.mul(x, 0.5), tf.add(1, tf.tanh(tf.mul(Math.sqrt(2 / Math.PI), tf.add(x, tf.mul(0.044715, tf.pow(x, 3)))))))
      : tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.div(x, Math.SQRT2))));
  const heads = (x: tf.Tensor) => tf.transpose(tf.reshape(x, [B, S, A, D]), [0, 2, 1, 3]);
  const mask = tf.tensor4d(lengths.flatMap((n) => Array.from({ length: S }, (_, j) => (j < n ? 0 : -10000))), [B, 1, 1, S]);
  let x = tf.add(tf.add(tf.gather(v('bert.embeddings.word_embeddings.weight'), ids), tf.slice(v('bert.embeddings.position_embeddings.weight'), [0, 0], [S, H])), tf.slice(v('bert.embeddings.token_type_embeddings.weight'), [0, 0], [1, H]));
  x = tf.reshape(ln(x, 'bert.embeddings.LayerNorm'), [B * S, H]);
  for (let l = 0; l < c.num_hidden_layers; l++) {
    const p = `bert.encoder.layer.${l}`;
    const scores = tf.div(tf.matMul(heads(lin(x, `${p}.attention.self.query`)), heads(lin(x, `${p}.attention.self.key`)), false, true), Math.sqrt(D));
    const ctx = tf.matMul(tf.softmax(tf.add(scores, mask)), heads(lin(x, `${p}.attention.self.value`)));
    const merged = tf.reshape(tf.transpose(ctx, [0, 2, 1, 3]), [B * S, H]);
    x = ln(tf.add(lin(merged, `${p}.attention.output.dense`), x), `${p}.attention.output.LayerNorm`);
    x = ln(tf.add(lin(act(lin(x, `${p}.intermediate.dense`)), `${p}.output.dense`), x), `${p}.output.LayerNorm`);
  }
  const cls = tf.reshape(tf.slice(tf.reshape(x, [B, S, H]), [0, 0, 0], [B, 1, H]), [B, H]);
  return lin(tf.tanh(lin(cls, 'bert.pooler.dense')), 'classifier') as tf.Tensor2D;
}

for (const hiddenAct of ['gelu', 'gelu_new']) {
  test(`the engine gives the logits of a textbook full-sequence BERT (${hiddenAct}; with and without native kernels; [PAD] id 4)`, async () => {
    await initBackend('wasm');
    const cfg: BertConfig = { vocab_size: 50, hidden_size: 16, num_hidden_layers: 3, num_attention_heads: 4, intermediate_size: 24, max_position_embeddings: 16, type_vocab_size: 2, hidden_dropout_prob: 0.1, attention_probs_dropout_prob: 0.1, layer_norm_eps: 1e-12, hidden_act: hiddenAct };
    const model = BertClassifier.fromSeed(cfg, 3, 9);
    // Larger weights than BERT's 0.02 init, so every layer changes the [CLS] row visibly.
    model.assign(new Map([...model.snapshot()].map(([n, a]) => [n, a.map((x) => (n.includes('LayerNorm') ? x : x * 40))])));
    // Padding is id 4 here (a vocab's [PAD] need not be 0), and the second row holds a real token 0.
    const ids = tf.tensor2d([[2, 7, 8, 9, 3, 4, 4, 4, 4], [2, 11, 0, 13, 14, 15, 16, 17, 3]], undefined, 'int32');
    const batch = { ids, lengths: [5, 9] };
    const ref = tf.tidy(() => referenceLogits(model, ids, batch.lengths).dataSync() as Float32Array);
    for (const native of [true, false]) {
      setNativeMatmulEnabled(native);
      const got = tf.tidy(() => model.logits(batch, 0).dataSync() as Float32Array);
      // Under a gradient tape the ops take their other (customGrad) path: the same logits.
      let taped: Float32Array = new Float32Array();
      tf.tidy(() => void tf.variableGrads(() => { const l = model.logits(batch, 0); taped = l.dataSync() as Float32Array; return tf.sum(l) as tf.Scalar; }));
      for (const [what, out] of [['inference', got], ['taped', taped]] as const) {
        assert.equal(out.length, ref.length);
        const err = Math.max(...Array.from(out, (g, i) => Math.abs(g - ref[i]) / Math.max(1, Math.abs(ref[i]))));
        assert.ok(err < 1e-4, `native=${native} ${what}: max relative error ${err} (${Array.from(out).map((x) => x.toFixed(4))} vs ${Array.from(ref).map((x) => x.toFixed(4))})`);
      }
    }
    setNativeMatmulEnabled(true);
    assert.ok(Math.max(...ref) - Math.min(...ref) > 0.05, 'the logits differ between classes and examples (the check has something to see)');
    // A row's logits depend neither on its padding nor on the rows beside it.
    const alone = tf.tidy(() => model.logits({ ids: tf.tensor2d([[2, 7, 8, 9, 3]], undefined, 'int32'), lengths: [5] }, 0).dataSync() as Float32Array);
    assert.ok(Math.max(...Array.from(alone, (g, i) => Math.abs(g - ref[i]))) < 1e-4, `row 0 alone ${Array.from(alone)} vs padded in a batch ${Array.from(ref.subarray(0, 3))}`);
    model.dispose();
    ids.dispose();
  });
}
