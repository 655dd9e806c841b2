/**
 * A rough activation-memory model for one training example, used to pick the micro-batch before
 * training starts. It counts the float32 tensors kept for the backward pass per layer (q/k/v,
 * attention scores/probabilities/dropout masks, FFN activations, LayerNorm inputs) plus a 2×
 * margin for the transient gradient tensors.
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

export const DEFAULT_BUDGET_MIB = 1536;

/** The micro-batch (≤ batch) that fits the budget, spread evenly over the accumulation steps. */
export function pickMicroBatch(c: BertConfig, seqLen: number, batch: number, budgetMiB = DEFAULT_BUDGET_MIB): { microBatch: number; accumulationSteps: number } {
  const fit = Math.max(1, Math.floor((budgetMiB * 1024 * 1024) / activationBytesPerExample(c, seqLen)));
  const steps = Math.ceil(batch / Math.min(batch, fit));
  return { microBatch: Math.ceil(batch / steps), accumulationSteps: steps };
}
