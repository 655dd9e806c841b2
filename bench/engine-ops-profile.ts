// Per-kernel timing of one training step and one inference batch (seq 128, batch 16): `node --import tsx bench/engine-ops-profile.ts tiny|mini`, SHAPES=1 adds a per-shape breakdown. Wall = median of 5.
import * as tf from '@tensorflow/tfjs';
(async () => {
  const { initBackend } = await import('../src/engine');
  const { BertClassifier } = await import('../src/engine/model');
  const { presetConfig } = await import('../src/engine/config');
  const { DropoutRng } = await import('../src/engine/ops');
  await initBackend();
  const preset = process.argv[2] ?? 'tiny';
  const model = BertClassifier.fromSeed(presetConfig(preset, 16424), 2, 1);
  const B = 16, S = 128;
  const ids = tf.tensor2d(Int32Array.from({ length: B * S }, (_, i) => 5 + (i * 7919) % 16000), [B, S], 'int32');
  const labels = Int32Array.from({ length: B }, (_, i) => i % 2);
  const lengths = new Int32Array(B).fill(S);
  const vars = [...model.vars.values()];
  const step = () => tf.tidy(() => { const r = tf.variableGrads(() => model.loss({ ids, lengths }, labels, 0.1, B, DropoutRng.forStep(1, 0, labels)), vars); for (const g of Object.values(r.grads)) g.dataSync(); });
  const infer = () => tf.tidy(() => { model.logits({ ids, lengths }, 0).dataSync(); });
  for (const [name, f] of [['train', step], ['infer', infer]] as const) {
    f();
    const walls: number[] = []; for (let i = 0; i < 5; i++) { const t = performance.now(); f(); walls.push(performance.now() - t); } walls.sort((a, b) => a - b); const wall = walls[2];
    const orig = tf.engine().backend;
    const agg = new Map<string, { ms: number; n: number }>();
    // Wrap runKernel timing via tf.profile (kernelTimeMs is wall time on wasm).
    const prof = await tf.profile(() => { f(); });
    for (const k of prof.kernels) { const e = agg.get(k.name) ?? { ms: 0, n: 0 }; e.ms += (await k.kernelTimeMs) as number; e.n++; agg.set(k.name, e); }
    void orig;
    const tot = [...agg.values()].reduce((a, b) => a + b.ms, 0);
    console.log(`${preset} ${name}: wall ${wall.toFixed(0)} ms (${(B / wall * 1000).toFixed(1)} ex/s), kernel sum ${tot.toFixed(0)} ms, ${prof.kernels.length} kernels`);
    const sh = new Map<string, { ms: number; n: number }>();
    for (const k of prof.kernels) if (['BatchMatMul', 'Transpose', '_FusedMatMul', 'Multiply', 'Add', 'Cast'].includes(k.name)) { const key = k.name + ' ' + JSON.stringify(k.inputShapes); const e = sh.get(key) ?? { ms: 0, n: 0 }; e.ms += (await k.kernelTimeMs) as number; e.n++; sh.set(key, e); }
    if (process.env.SHAPES) for (const [k, e] of [...sh].sort((a, b) => b[1].ms - a[1].ms).slice(0, 25)) console.log(`    ${k.padEnd(60)} ${e.ms.toFixed(1).padStart(7)} ms  x${e.n}`);
    for (const [k, e] of [...agg].sort((a, b) => b[1].ms - a[1].ms).slice(0, 14)) console.log(`  ${k.padEnd(22)} ${e.ms.toFixed(1).padStart(7)} ms  x${e.n}`);
  }
})();
