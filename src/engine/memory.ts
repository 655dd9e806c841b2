/**
 * The memory model that sizes every pass over the model before it runs: training micro-batches
 * (the float32 tensors kept for the backward pass per layer — q/k/v, attention
 * scores/probabilities/dropout masks, FFN activations, LayerNorm inputs) and the rows of a
 * forward-only pass (validation, predict, evaluate, frozen features), which holds one layer's
 * tensors at a time (model.pooled frees each layer's intermediates).
 *
 * Calibrated at BERT-base (KR-BERT's config) against the wasm heap's tensor high-water mark
 * (`node --import tsx bench/bert-base-memory.ts --calibrate`; test/engine/memory-model.test.ts
 * keeps the figures): with the native kernels a training micro-batch peaks at 0.95–0.99 of
 * activationBytesPerExample for sequence lengths 24–512, and a forward pass at 0.75–0.84 of
 * forwardBytesPerExample, so both are used as they are. The wasm kernels alone (explicit
 * transposes, XNNPACK's packed copies of the operands) take 2.6–2.9× and 1.4–1.8×: WASM_KERNELS.
 */
import * as tf from '@tensorflow/tfjs';
import type { BertConfig } from './types';
import { paramSpecs } from './model';
import { nativeMatmulInfo } from './native-blas';

const MiB = 1048576;

/**
 * Which kernels run a pass: the native addon's (or a native TensorFlow backend's), or the wasm
 * backend's own, which take WASM_KERNELS times more per example and hold more parameter copies
 * (measured, see above).
 */
export type Kernels = 'native' | 'wasm';
const WASM_KERNELS = { training: 3, forward: 2, paramCopies: 9 };

export function kernelsInUse(): Kernels {
  return tf.getBackend() === 'wasm' && !nativeMatmulInfo() ? 'wasm' : 'native';
}

/** One example's activations in a training micro-batch: what the backward pass keeps, per layer. */
export function activationBytesPerExample(c: BertConfig, seqLen: number, kernels = kernelsInUse()): number {
  const S = seqLen;
  const H = c.hidden_size;
  const A = c.num_attention_heads;
  const I = c.intermediate_size;
  const perLayer = 16 * S * H + 6 * A * S * S + 5 * S * I;
  return 4 * (c.num_hidden_layers * perLayer + 6 * S * H) * (kernels === 'wasm' ? WASM_KERNELS.training : 1);
}

/**
 * One example's peak in a forward-only pass: a layer's input, q/k/v, context, outputs and
 * LayerNorms (and the head transposes of the kernels without native BLAS), scores and
 * probabilities, the FFN's two [S, I] tensors.
 */
export function forwardBytesPerExample(c: BertConfig, seqLen: number, kernels = kernelsInUse()): number {
  const S = seqLen;
  const perLayer = 12 * S * c.hidden_size + 3 * c.num_attention_heads * S * S + 2 * S * c.intermediate_size;
  return 4 * perLayer * (kernels === 'wasm' ? WASM_KERNELS.forward : 1);
}

export const DEFAULT_BUDGET_MIB = 1536;
/** wasm32's heap: an allocation past it aborts the module's call (tfjs has no recoverable error). */
const WASM_HEAP_MIB = 4096;
/** Left free on the wasm heap for the runtime, kernels' own scratch, fragmentation and the model's error. */
const WASM_RESERVE_MIB = 512;

/**
 * The parameter copies a training step holds besides its activations: weights, AdamW's two
 * moments, the accumulated gradients and one micro-batch's (BERT-base: 5 × 376 MiB).
 */
function heldParamMiB(c: BertConfig, kernels: Kernels): number {
  const params = paramSpecs(c, 2).reduce((n, s) => n + s.shape.reduce((a, b) => a * b, 1), 0);
  return ((kernels === 'wasm' ? WASM_KERNELS.paramCopies : 5) * 4 * params) / MiB;
}

/**
 * The activation budget for model `c` on `backend`: what the caller asks for (default
 * DEFAULT_BUDGET_MIB), on wasm at most what the 4 GiB heap leaves after the parameter copies
 * (BERT-base with the native kernels: about 1,700 MiB).
 */
export function activationBudgetMiB(backend: string, c: BertConfig, asked?: number, kernels = kernelsInUse()): number {
  const want = asked ?? DEFAULT_BUDGET_MIB;
  return backend === 'wasm' ? Math.max(0, Math.min(want, WASM_HEAP_MIB - WASM_RESERVE_MIB - heldParamMiB(c, kernels))) : want;
}

/** The micro-batch (≤ batch) that fits the budget, spread evenly over the accumulation steps. */
function pickMicroBatch(c: BertConfig, seqLen: number, batch: number, budgetMiB: number): { microBatch: number; accumulationSteps: number } {
  const fit = Math.max(1, Math.floor((budgetMiB * MiB) / activationBytesPerExample(c, seqLen)));
  const steps = Math.ceil(batch / Math.min(batch, fit));
  return { microBatch: Math.ceil(batch / steps), accumulationSteps: steps };
}

/**
 * The micro-batches of a run's optimizer steps, each sized from that step's padded length (a
 * batch of short reviews runs whole where the split's longest rows need several micro-batches).
 * A failed allocation halves the budget for the rest of the run: the model overestimated what fits.
 */
export class MicroBatcher {
  /**
   * The step that took the most micro-batches so far (what accumulation really took); of steps
   * with as many, the one with the largest micro-batch (a short last batch is not the run's size).
   */
  private most = { microBatch: 0, accumulationSteps: 0 };

  constructor(
    private readonly config: BertConfig,
    private budgetMiB: number,
  ) {}

  /** Rows per micro-batch for a step of `rows` rows padded to `seqLen`. */
  size(rows: number, seqLen: number): number {
    return pickMicroBatch(this.config, seqLen, rows, this.budgetMiB).microBatch;
  }

  /** Records a step of `rows` rows that ran in micro-batches of `micro`. */
  ran(rows: number, micro: number): void {
    const steps = Math.ceil(rows / micro);
    if (steps > this.most.accumulationSteps || (steps === this.most.accumulationSteps && micro > this.most.microBatch)) this.most = { microBatch: micro, accumulationSteps: steps };
  }

  /** After `micro` rows of `seqLen` failed to allocate: the budget becomes half their estimate (size() then gives at most half of `micro` at that length). */
  failed(micro: number, seqLen: number): void {
    this.budgetMiB = Math.min(this.budgetMiB, (micro * activationBytesPerExample(this.config, seqLen)) / 2 / MiB);
  }

  /** The micro-batch and accumulation steps of the step that took the most micro-batches (`planned` rows at `seqLen` before any step ran). */
  reported(planned: number, seqLen: number): { microBatch: number; accumulationSteps: number } {
    return this.most.accumulationSteps ? { ...this.most } : pickMicroBatch(this.config, seqLen, planned, this.budgetMiB);
  }
}

/** Rows of sequence length `seqLen` one forward-only pass may take within the budget (at least 1). */
export function forwardRows(c: BertConfig, seqLen: number, budgetMiB: number): number {
  return Math.max(1, Math.floor((budgetMiB * MiB) / forwardBytesPerExample(c, seqLen)));
}
