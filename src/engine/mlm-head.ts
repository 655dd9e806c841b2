/**
 * BERT's masked-LM head, under Hugging Face's names (BertForMaskedLM: `cls.predictions.*`):
 * transform (dense H→H, the model's activation (hidden_act), LayerNorm), then a decoder tied to the word
 * embeddings (logits = h·Eᵀ + bias). Only the rows of the masked positions are scored: a
 * vocabulary of 16,424 makes the decoder the largest product of a small model's step.
 */
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../core/rng';
import type { BertConfig } from './types';
import { initValues, type ParamSpec } from './model';
import { activation, colSum, crossEntropy, dense, embed, layerNorm, matMulT } from './ops';
import type { NamedTensor } from './safetensors';
import { transpose2d } from './weights';

export const MLM_PREFIX = 'cls.predictions.';

/** The head's parameters (dense kernels held [in, out], as in model.ts). */
export function mlmHeadSpecs(c: BertConfig): ParamSpec[] {
  const H = c.hidden_size;
  return [
    { name: 'cls.predictions.transform.dense.weight', shape: [H, H], init: 'normal', kernel: true },
    { name: 'cls.predictions.transform.dense.bias', shape: [H], init: 'zeros' },
    { name: 'cls.predictions.transform.LayerNorm.weight', shape: [H], init: 'ones' },
    { name: 'cls.predictions.transform.LayerNorm.bias', shape: [H], init: 'zeros' },
    { name: 'cls.predictions.bias', shape: [c.vocab_size], init: 'zeros' },
  ];
}

/** A fresh head from a seed (BERT's init: N(0, 0.02) kernels, LayerNorm at identity, zero biases). */
export function seededMlmHead(c: BertConfig, seed: number): Map<string, Float32Array> {
  const rng = new Rng((seed ^ 0x6d6c6d) >>> 0);
  return new Map(mlmHeadSpecs(c).map((s) => [s.name, initValues(s, rng)]));
}

/** The head stored in a model file (HF layout: dense kernels [out, in]), or undefined when any part is missing. */
export function storedMlmHead(weights: Map<string, NamedTensor>, c: BertConfig): Map<string, Float32Array> | undefined {
  const out = new Map<string, Float32Array>();
  for (const s of mlmHeadSpecs(c)) {
    const t = weights.get(s.name);
    if (!t || t.data.length !== s.shape.reduce((a, b) => a * b, 1)) return undefined;
    out.set(s.name, s.kernel ? transpose2d(t.data, s.shape[1], s.shape[0]) : t.data);
  }
  return out;
}

/** x·wᵀ + b with w [V, H] (the tied word embeddings), gradients without transpose flags on wasm. */
const tiedDecoder = tf.customGrad(((x: tf.Tensor, w: tf.Tensor, b: tf.Tensor, save: tf.GradSaveFunc) => {
  save([x, w]);
  return {
    value: tf.add(matMulT(x, w, false, true), b),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [sx, sw] = saved;
      return [matMulT(dy, sw, false, false), matMulT(dy, sx, true, false), colSum(dy)];
    },
  };
}) as never) as unknown as (x: tf.Tensor, w: tf.Tensor, b: tf.Tensor) => tf.Tensor2D;

export class MlmHead {
  readonly vars = new Map<string, tf.Variable>();

  constructor(
    readonly config: BertConfig,
    values: Map<string, Float32Array>,
  ) {
    for (const spec of mlmHeadSpecs(config)) {
      const v = values.get(spec.name);
      if (!v) throw new Error(`engine: no value for ${spec.name}`);
      this.vars.set(spec.name, tf.tidy(() => tf.variable(tf.tensor(v, spec.shape), true, `${spec.name}#mlm${nextId++}`)));
    }
  }

  private v(name: string): tf.Variable {
    return this.vars.get(`${MLM_PREFIX}${name}`)!;
  }

  /** Vocabulary logits [M, V] of hidden states [M, H], with the word embeddings [V, H] as the decoder. */
  logits(hidden: tf.Tensor2D, wordEmbeddings: tf.Tensor2D): tf.Tensor2D {
    const c = this.config;
    const h = dense(hidden, this.v('transform.dense.weight'), this.v('transform.dense.bias'));
    const normed = layerNorm(activation(c.hidden_act, h), this.v('transform.LayerNorm.weight'), this.v('transform.LayerNorm.bias'), c.layer_norm_eps ?? 1e-12) as tf.Tensor2D;
    return tiedDecoder(normed, wordEmbeddings, this.v('bias'));
  }

  /**
   * Cross-entropy of the targets at `positions` (int32 flat indices into the [B·S, H] hidden
   * states), summed and divided by `divisor`. Inside a gradient tape, `positions` must be made
   * outside it: the row pick's gradient reads it after the forward pass's tensors are freed.
   */
  loss(sequence: tf.Tensor2D, positions: tf.Tensor1D, targets: Int32Array, wordEmbeddings: tf.Tensor2D, divisor: number): tf.Scalar {
    // embed() picks rows with a scatterND gradient: tf.gather's needs a kernel wasm lacks.
    return crossEntropy(this.logits(embed(sequence, positions), wordEmbeddings), targets, divisor);
  }

  snapshot(): Map<string, Float32Array> {
    return new Map([...this.vars].map(([n, v]) => [n, v.dataSync().slice() as Float32Array]));
  }

  dispose(): void {
    for (const v of this.vars.values()) v.dispose();
    this.vars.clear();
  }
}

let nextId = 0;
