/**
 * A rough activation-memory model, used to size every pass over the model before it runs:
 * training micro-batches (the float32 tensors kept for the backward pass per layer — q/k/v,
 * attention scores/probabilities/dropout masks, FFN activations, LayerNorm inputs) and the rows
 * of a forward-only pass (validation, predict, evaluate, frozen features), which holds one
 * layer's tensors at a time (model.pooled frees each layer's intermediates). Both carry a 2×
 * margin for transient tensors.
 */
import type { BertConfig } from './types';

export function activationBytesPerExample(c: BertConfig, seqLen: number): number {
  const S = seqLen;
  const H = c.hidden_size;
  const A = c.num_attention_heads;
  const I = c.intermediate_size;
  const perLayer = 16 * S * H + 6 * A * S * S + 5 * S * I;
  return 2 * 4 * (c.num_hidden_layers * perLayer + 6 * S * H);
}

/**
 * One example's peak in a forward-only pass: a layer's input, q/k/v, context, outputs and
 * LayerNorms (and the head transposes of the kernels without native BLAS), scores and
 * probabilities, the FFN's two [S, I] tensors.
 */
export function forwardBytesPerExample(c: BertConfig, seqLen: number): number {
  const S = seqLen;
  const perLayer = 12 * S * c.hidden_size + 3 * c.num_attention_heads * S * S + 2 * S * c.intermediate_size;
  return 2 * 4 * perLayer;
}

export const DEFAULT_BUDGET_MIB = 1536;
/**
 * The wasm heap tops out at 4 GiB and an allocation failure there aborts the module (no
 * recoverable error); BERT-base's weights, gradients and AdamW moments take about 1.8 GB of it,
 * so activations get at most this much there.
 */
const WASM_BUDGET_MIB = 1536;

/** The activation budget on `backend`: what the caller asks for, capped on wasm. */
export function activationBudgetMiB(backend: string, asked?: number): number {
  return backend === 'wasm' ? Math.min(asked ?? WASM_BUDGET_MIB, WASM_BUDGET_MIB) : asked ?? DEFAULT_BUDGET_MIB;
}

/** The micro-batch (≤ batch) that fits the budget, spread evenly over the accumulation steps. */
export function pickMicroBatch(c: BertConfig, seqLen: number, batch: number, budgetMiB = DEFAULT_BUDGET_MIB): { microBatch: number; accumulationSteps: number } {
  const fit = Math.max(1, Math.floor((budgetMiB * 1024 * 1024) / activationBytesPerExample(c, seqLen)));
  const steps = Math.ceil(batch / Math.min(batch, fit));
  return { microBatch: Math.ceil(batch / steps), accumulationSteps: steps };
}

/** Rows of sequence length `seqLen` one forward-only pass may take within the budget (at least 1). */
export function forwardRows(c: BertConfig, seqLen: number, budgetMiB: number): number {
  return Math.max(1, Math.floor((budgetMiB * 1024 * 1024) / forwardBytesPerExample(c, seqLen)));
}

/** Test hook: pretend allocation fails for any pass over more rows than this. */
export const faults = { failMicroAbove: Infinity };
