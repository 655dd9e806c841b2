/**
 * The memory model (src/engine/memory.ts) against measured peaks: safe (never below what a pass
 * really takes) and not needlessly pessimistic (every extra byte it assumes is a smaller
 * micro-batch, and BLAS runs slower on fewer rows).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend } from '../../src/engine';
import { BertClassifier } from '../../src/engine/model';
import { presetConfig } from '../../src/engine/config';
import { nativeMatmulInfo, setNativeMatmulEnabled } from '../../src/engine/native-blas';
import { activationBudgetMiB, activationBytesPerExample, forwardBytesPerExample, kernelsInUse, type Kernels } from '../../src/engine/memory';
import type { BertConfig } from '../../src/engine/types';
import { passPeakBytes, WasmHeapWatch } from '../../testing/wasm-heap';

const MiB = 1048576;
const base: BertConfig = { vocab_size: 16424, hidden_size: 768, num_hidden_layers: 12, num_attention_heads: 12, intermediate_size: 3072, max_position_embeddings: 512, type_vocab_size: 2, hidden_dropout_prob: 0.1, attention_probs_dropout_prob: 0.1 };

/**
 * BERT-base (KR-BERT's config), fp32: the tensor high-water mark on the wasm heap per example, MiB,
 * of a training micro-batch (its gradients left out) and of a forward pass, by sequence length.
 * `node --import tsx bench/bert-base-memory.ts --calibrate` (TRIALBOOK_NATIVE_BLAS=0 for the
 * wasm kernels alone) measures them again.
 */
const MEASURED: Record<Kernels, { train: Record<number, number>; forward: Record<number, number> }> = {
  native: {
    train: { 24: 32.18, 32: 43.64, 64: 93.34, 128: 211.32, 256: 521.53, 512: 1441.94 },
    forward: { 24: 1.25, 32: 1.69, 64: 3.56, 128: 7.88, 256: 18.75, 512: 49.5 },
  },
  wasm: {
    train: { 32: 127.3, 128: 564 },
    forward: { 32: 3.61, 128: 16.13, 512: 91.5 },
  },
};

test('at BERT-base size the model is at or above every measured peak, and close to it', () => {
  for (const kernels of ['native', 'wasm'] as const) {
    const m = MEASURED[kernels];
    for (const [S, mib] of Object.entries(m.train)) {
      const ratio = activationBytesPerExample(base, Number(S), kernels) / MiB / mib;
      assert.ok(ratio >= 1 && ratio <= (kernels === 'native' ? 1.1 : 1.25), `${kernels} training at ${S} tokens: model ${ratio.toFixed(2)}× the measured peak`);
    }
    for (const [S, mib] of Object.entries(m.forward)) {
      const ratio = forwardBytesPerExample(base, Number(S), kernels) / MiB / mib;
      // The wasm kernels' forward factor is set by short sequences; at 512 tokens it is 1.44× the peak.
      assert.ok(ratio >= 1 && ratio <= (kernels === 'native' ? 1.4 : 1.5), `${kernels} forward at ${S} tokens: model ${ratio.toFixed(2)}× the measured peak`);
    }
  }
});

test('the wasm budget: the default where the 4 GiB heap has room, less where the parameter copies fill it; what is asked elsewhere', () => {
  assert.equal(activationBudgetMiB('wasm', base, undefined, 'native'), 1536);
  // Weights, AdamW's moments and two sets of gradients of BERT-base take 5 × 376 MiB of the heap.
  const most = activationBudgetMiB('wasm', base, 8192, 'native');
  assert.ok(most > 1536 && most < 1800, `BERT-base's most on wasm: ${most}`);
  // A multilingual vocab (119,547 rows) leaves far less; the wasm kernels alone hold more copies.
  assert.ok(activationBudgetMiB('wasm', { ...base, vocab_size: 119547 }, undefined, 'native') < 500);
  assert.ok(activationBudgetMiB('wasm', base, undefined, 'wasm') < 500);
  assert.equal(activationBudgetMiB('wasm', presetConfig('mini', 16424), 3000, 'native'), 3000);
  assert.equal(activationBudgetMiB('tensorflow', base, 8192), 8192);
});

/** Peak tensor bytes per example of a training micro-batch (gradients left out) and of a forward pass. */
function measure(model: BertClassifier, rows: number, S: number): { train: number; forward: number } {
  const watch = new WasmHeapWatch();
  try {
    const gradBytes = [...model.vars.values()].reduce((n, v) => n + v.size * 4, 0);
    return { train: (passPeakBytes(watch, model, rows, S, true) - gradBytes) / rows, forward: passPeakBytes(watch, model, rows, S, false) / rows };
  } finally {
    watch.stop();
  }
}

test('live, at mini size: a training micro-batch and a forward pass take no more than the model says, on either kernels', async (t) => {
  await initBackend('wasm');
  const config = presetConfig('mini', 16424);
  const model = BertClassifier.fromSeed(config, 2, 1);
  const paths: Kernels[] = nativeMatmulInfo() ? ['native', 'wasm'] : ['wasm'];
  if (paths.length === 1) t.diagnostic('native BLAS addon not built: the wasm kernels only');
  try {
    for (const kernels of paths) {
      setNativeMatmulEnabled(kernels === 'native');
      assert.equal(kernelsInUse(), kernels);
      for (const [rows, S] of [[8, 32], [4, 128]]) {
        const got = measure(model, rows, S);
        const train = activationBytesPerExample(config, S) / got.train;
        const forward = forwardBytesPerExample(config, S) / got.forward;
        assert.ok(train >= 1 && train < 1.6, `${kernels} training, ${rows} × ${S}: model ${train.toFixed(2)}× the measured peak`);
        assert.ok(forward >= 1 && forward < 1.6, `${kernels} forward, ${rows} × ${S}: model ${forward.toFixed(2)}× the measured peak`);
      }
    }
  } finally {
    setNativeMatmulEnabled(true);
    model.dispose();
  }
});
