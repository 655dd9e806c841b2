/**
 * BERT (post-LN) classifier as plain tf ops on our own variables, named as Hugging Face names
 * them. Dense kernels are held as [in, out] (HF stores Linear weights as [out, in]; weights.ts
 * transposes on load and save).
 */
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../core/rng';
import type { BertConfig } from './types';

/** Token ids [B, S] and each row's length (tokens before its padding). */
export interface TokenBatch {
  ids: tf.Tensor2D;
  lengths: ArrayLike<number>;
}

/** Additive attention mask [B,1,1,S]: 0 on a row's tokens, -10000 past its length (as BERT). */
function paddingBias(lengths: ArrayLike<number>, S: number): tf.Tensor4D {
  const B = lengths.length;
  const bias = new Float32Array(B * S);
  for (let b = 0; b < B; b++) bias.fill(-10000, b * S + Math.min(S, lengths[b]), (b + 1) * S);
  return tf.tensor4d(bias, [B, 1, 1, S]);
}
import { activation, crossEntropy, dense, dropout, embed, layerNorm, multiHeadAttention, recording, type DropoutRng } from './ops';

export interface ParamSpec {
  name: string;
  shape: number[];
  init: 'normal' | 'zeros' | 'ones';
  /** Dense kernel: stored [in,out] here, [out,in] in HF files. */
  kernel?: boolean;
  /** Part of the classification head (trained when the body is frozen). */
  head?: boolean;
}

/** Every parameter of the model, in a fixed order (init order = determinism). */
export function paramSpecs(c: BertConfig, numLabels: number): ParamSpec[] {
  const H = c.hidden_size;
  const I = c.intermediate_size;
  const s: ParamSpec[] = [];
  const lin = (name: string, inp: number, out: number, head = false) => {
    s.push({ name: `${name}.weight`, shape: [inp, out], init: 'normal', kernel: true, head });
    s.push({ name: `${name}.bias`, shape: [out], init: 'zeros', head });
  };
  const ln = (name: string) => {
    s.push({ name: `${name}.weight`, shape: [H], init: 'ones' });
    s.push({ name: `${name}.bias`, shape: [H], init: 'zeros' });
  };
  s.push({ name: 'bert.embeddings.word_embeddings.weight', shape: [c.vocab_size, H], init: 'normal' });
  s.push({ name: 'bert.embeddings.position_embeddings.weight', shape: [c.max_position_embeddings, H], init: 'normal' });
  s.push({ name: 'bert.embeddings.token_type_embeddings.weight', shape: [c.type_vocab_size, H], init: 'normal' });
  ln('bert.embeddings.LayerNorm');
  for (let l = 0; l < c.num_hidden_layers; l++) {
    const p = `bert.encoder.layer.${l}`;
    lin(`${p}.attention.self.query`, H, H);
    lin(`${p}.attention.self.key`, H, H);
    lin(`${p}.attention.self.value`, H, H);
    lin(`${p}.attention.output.dense`, H, H);
    ln(`${p}.attention.output.LayerNorm`);
    lin(`${p}.intermediate.dense`, H, I);
    lin(`${p}.output.dense`, I, H);
    ln(`${p}.output.LayerNorm`);
  }
  lin('bert.pooler.dense', H, H);
  lin('classifier', H, numLabels, true);
  return s;
}

/** Values for one spec, from a seeded stream (BERT's N(0, 0.02) init). */
export function initValues(spec: ParamSpec, rng: Rng): Float32Array {
  const n = spec.shape.reduce((a, b) => a * b, 1);
  const v = new Float32Array(n);
  if (spec.init === 'ones') v.fill(1);
  else if (spec.init === 'normal') rng.fillNormal(v, 0.02);
  return v;
}

/** Names that AdamW does not decay: biases and LayerNorm parameters. */
export function noDecay(name: string): boolean {
  return name.endsWith('.bias') || name.includes('LayerNorm');
}

/**
 * Initial values of every parameter from a seed; with `headOnly`, only the head's, drawn from the
 * same place in the stream as in a full init (the body's draws are skipped, not made).
 */
export function seededValues(config: BertConfig, numLabels: number, seed: number, headOnly = false): Map<string, Float32Array> {
  const rng = new Rng(seed);
  const values = new Map<string, Float32Array>();
  for (const spec of paramSpecs(config, numLabels)) {
    if (spec.head || !headOnly) values.set(spec.name, initValues(spec, rng));
    else if (spec.init === 'normal') rng.skipNormals(spec.shape.reduce((a, b) => a * b, 1));
  }
  return values;
}

export class BertClassifier {
  readonly vars = new Map<string, tf.Variable>();
  /**
   * `headOnly`: only the classification head exists (a frozen trial whose encoder features are
   * cached); head() works, pooled() does not.
   */
  constructor(
    readonly config: BertConfig,
    readonly numLabels: number,
    values: Map<string, Float32Array>,
    readonly headOnly = false,
  ) {
    for (const spec of paramSpecs(config, numLabels)) {
      if (headOnly && !spec.head) continue;
      const v = values.get(spec.name);
      if (!v) throw new Error(`engine: no value for ${spec.name}`);
      // tidy frees the initial tensor; the variable keeps its own reference to the data.
      this.vars.set(spec.name, tf.tidy(() => tf.variable(tf.tensor(v, spec.shape), true, `${spec.name}#${nextId++}`)));
    }
  }

  static fromSeed(config: BertConfig, numLabels: number, seed: number, headOnly = false): BertClassifier {
    return new BertClassifier(config, numLabels, seededValues(config, numLabels, seed, headOnly), headOnly);
  }

  private v(name: string): tf.Variable {
    return this.vars.get(name)!;
  }

  /**
   * Pooled [CLS] features [B,H] of a batch. Padding is what lies past each row's length (never
   * an id: a vocab's [PAD] need not be 0, and id 0 may be a real token). `rng` given = training
   * (dropout on). Outside a gradient tape each layer's intermediates are freed as it ends, so a
   * forward-only pass holds one layer's activations, not twelve.
   */
  pooled(batch: TokenBatch, rng?: DropoutRng): tf.Tensor2D {
    // After the last layer x holds the [CLS] rows [B, H].
    const x = this.encode(batch, rng, true);
    return tf.tanh(dense(x, this.v('bert.pooler.dense.weight'), this.v('bert.pooler.dense.bias'))) as tf.Tensor2D;
  }

  /** The last layer's hidden states of every token [B·S, H] (masked-LM pre-training reads them). */
  sequenceOutput(batch: TokenBatch, rng?: DropoutRng): tf.Tensor2D {
    return this.encode(batch, rng, false);
  }

  /** The encoder; with `clsOnly` the last layer computes (and returns) only the [CLS] rows [B, H]. */
  private encode(batch: TokenBatch, rng: DropoutRng | undefined, clsOnly: boolean): tf.Tensor2D {
    if (this.headOnly) throw new Error('engine: this model holds only its classification head; its encoder features come from the cache');
    const c = this.config;
    const [B, S] = batch.ids.shape;
    const H = c.hidden_size;
    const taped = recording();
    const maskBias = paddingBias(batch.lengths, S);
    let x = taped ? this.embeddings(batch.ids, rng) : tf.tidy(() => this.embeddings(batch.ids, rng));
    const L = c.num_hidden_layers;
    for (let l = 0; l < L; l++) {
      // The pooler reads only [CLS], so the last layer computes only its row: its query, attention
      // output and feed-forward run on B rows instead of B·S; keys and values still come from
      // every token. The same logits for about a seventh of a BERT layer's work.
      const at = { B, S, clsOnly: clsOnly && l === L - 1 };
      if (taped) x = this.layer(l, x, maskBias, at, rng);
      else {
        const prev = x;
        x = tf.tidy(() => this.layer(l, prev, maskBias, at, rng));
        prev.dispose();
      }
    }
    return x as tf.Tensor2D;
  }

  /** Word + position + segment-0 embeddings, LayerNorm, dropout → [B·S, H]. */
  private embeddings(ids: tf.Tensor2D, rng: DropoutRng | undefined): tf.Tensor2D {
    const c = this.config;
    const [B, S] = ids.shape;
    const H = c.hidden_size;
    const flatIds = tf.reshape(ids, [B * S]) as tf.Tensor1D;
    const pos = tf.slice(this.v('bert.embeddings.position_embeddings.weight'), [0, 0], [S, H]);
    // Single texts: every token is segment 0, as a Hugging Face tokenizer marks a lone sentence.
    const typ = tf.slice(this.v('bert.embeddings.token_type_embeddings.weight'), [0, 0], [1, H]);
    const x = embed(this.v('bert.embeddings.word_embeddings.weight') as tf.Tensor2D, flatIds, tf.add(pos, typ) as tf.Tensor2D);
    const normed = layerNorm(x, this.v('bert.embeddings.LayerNorm.weight'), this.v('bert.embeddings.LayerNorm.bias'), c.layer_norm_eps ?? 1e-12);
    return dropout(tf.reshape(normed, [B * S, H]), c.hidden_dropout_prob, rng) as tf.Tensor2D;
  }

  /** Encoder layer `l` on x [B·S, H]; with `clsOnly`, only the [CLS] rows come out ([B, H]). */
  private layer(l: number, x: tf.Tensor2D, maskBias: tf.Tensor, at: { B: number; S: number; clsOnly: boolean }, rng: DropoutRng | undefined): tf.Tensor2D {
    const c = this.config;
    const { B, S, clsOnly } = at;
    const H = c.hidden_size;
    const A = c.num_attention_heads;
    const D = H / A;
    const eps = c.layer_norm_eps ?? 1e-12;
    const pHid = c.hidden_dropout_prob;
    const p = `bert.encoder.layer.${l}`;
    const lin = (name: string, inp: tf.Tensor) => dense(inp as tf.Tensor2D, this.v(`${p}.${name}.weight`), this.v(`${p}.${name}.bias`));
    const rows = clsOnly ? (tf.reshape(tf.slice(tf.reshape(x, [B, S, H]), [0, 0, 0], [B, 1, H]), [B, H]) as tf.Tensor2D) : x;
    const ctx = multiHeadAttention(lin('attention.self.query', rows), lin('attention.self.key', x), lin('attention.self.value', x), maskBias, { B, S, A, D, Sq: clsOnly ? 1 : S }, 1 / Math.sqrt(D), c.attention_probs_dropout_prob, rng);
    const att = dropout(lin('attention.output.dense', ctx), pHid, rng);
    const h = layerNorm(att, this.v(`${p}.attention.output.LayerNorm.weight`), this.v(`${p}.attention.output.LayerNorm.bias`), eps, rows);
    const out = dropout(lin('output.dense', activation(c.hidden_act, lin('intermediate.dense', h))), pHid, rng);
    return layerNorm(out, this.v(`${p}.output.LayerNorm.weight`), this.v(`${p}.output.LayerNorm.bias`), eps, h) as tf.Tensor2D;
  }

  /** Dropout (rate = the trial's dropout_rate, training only) then the dense head → logits [B,C]. */
  head(pooled: tf.Tensor2D, dropoutRate: number, rng?: DropoutRng): tf.Tensor2D {
    const d = dropout(pooled, dropoutRate, rng) as tf.Tensor2D;
    return dense(d, this.v('classifier.weight'), this.v('classifier.bias'));
  }

  logits(batch: TokenBatch, dropoutRate: number, rng?: DropoutRng): tf.Tensor2D {
    return this.head(this.pooled(batch, rng), dropoutRate, rng);
  }

  loss(batch: TokenBatch, labels: Int32Array, dropoutRate: number, divisor: number, rng?: DropoutRng): tf.Scalar {
    return crossEntropy(this.logits(batch, dropoutRate, rng), labels, divisor);
  }

  /** Current values, by name (copies): of every parameter, or of those in `vars`. */
  snapshot(vars: Map<string, tf.Variable> = this.vars): Map<string, Float32Array> {
    const out = new Map<string, Float32Array>();
    for (const [n, v] of vars) out.set(n, v.dataSync().slice() as Float32Array);
    return out;
  }

  assign(values: Map<string, Float32Array>): void {
    for (const [n, v] of this.vars) {
      const a = values.get(n);
      if (a) tf.tidy(() => v.assign(tf.tensor(a, v.shape)));
    }
  }

  dispose(): void {
    for (const v of this.vars.values()) v.dispose();
    this.vars.clear();
  }
}

let nextId = 0;
