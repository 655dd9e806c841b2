/**
 * How the native BLAS is set up: OpenBLAS's core type from the CPU's flags (a user's
 * OPENBLAS_CORETYPE wins), the check against the wasm kernels at load, and BLAS threads that
 * follow the cores other processes leave free. The backend is set up once per process, so each
 * case runs in a fresh child process.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { openblasCoreFor, coreSource, type CpuFeatures } from '../../src/engine/blas-core';
import { CpuShare, threadsForFreeCores, type CpuClock } from '../../src/engine/cpu-share';
import { repoRoot } from '../helpers';

const none: CpuFeatures = { vendor: 'GenuineIntel', avx: false, avx2: false, fma: false, avx512: false, avx512_bf16: false, amx_bf16: false };

test('OpenBLAS core type follows the CPU flags, not the model number', () => {
  const avx2 = { ...none, avx: true, avx2: true, fma: true };
  const avx512 = { ...avx2, avx512: true };
  assert.equal(openblasCoreFor({ ...avx512, avx512_bf16: true, amx_bf16: true }), 'Cooperlake'); // the AMX Xeon VM OpenBLAS took for Prescott
  assert.equal(openblasCoreFor({ ...avx512, vendor: 'AuthenticAMD', avx512_bf16: true }), 'Cooperlake'); // Zen 4
  assert.equal(openblasCoreFor(avx512), 'SkylakeX');
  assert.equal(openblasCoreFor(avx2), 'Haswell');
  assert.equal(openblasCoreFor({ ...avx2, vendor: 'AuthenticAMD' }), 'Zen');
  assert.equal(openblasCoreFor({ ...none, avx: true }), 'Sandybridge');
  assert.equal(openblasCoreFor(none), undefined);
  assert.equal(coreSource('Haswell', 'Haswell', undefined), 'user');
  assert.equal(coreSource('COOPERLAKE', undefined, 'Cooperlake'), 'cpu-flags');
  assert.equal(coreSource('Prescott', undefined, 'Cooperlake'), 'openblas'); // a library that ignored the request
});

/** A clock whose cores are busy as the test says: `others` cores used by other processes, `ours` by this one. */
function fakeClock(): CpuClock & { run(ms: number, others: number, ours: number): void } {
  let t = 0;
  let busy = 0;
  let own = 0;
  return {
    now: () => t,
    busyMs: () => busy,
    ownMs: () => own,
    run(ms, others, ours) {
      t += ms;
      busy += ms * (others + ours);
      own += ms * ours;
    },
  };
}

test('BLAS threads follow the cores other processes leave free, and come back when they go', () => {
  assert.equal(threadsForFreeCores(2, 2), 2);
  assert.equal(threadsForFreeCores(1.8, 2), 2);
  assert.equal(threadsForFreeCores(1.3, 2), 1);
  assert.equal(threadsForFreeCores(0.1, 2), 1);
  assert.equal(threadsForFreeCores(7.9, 8), 8);
  const clock = fakeClock();
  const share = new CpuShare(2, 2, clock, 2000);
  assert.equal(share.threads(), 2); // no measurement yet
  clock.run(400, 0, 2);
  assert.equal(share.threads(), 2, 'the first window is shorter, but not this short');
  clock.run(200, 0, 2); // 600 ms: quiet machine, our two threads busy (spinning counts as ours)
  assert.equal(share.threads(), 2);
  clock.run(2000, 1.4, 0.6); // another process takes most of a core: one thread
  assert.equal(share.threads(), 1);
  clock.run(1000, 1, 1);
  assert.equal(share.threads(), 1, 'kept until the window is over');
  clock.run(1000, 1, 1); // it keeps its core while we run one thread: stay at one
  assert.equal(share.threads(), 1);
  clock.run(2000, 0.05, 1); // it ended
  assert.equal(share.threads(), 2);
});

/** Runs `code` (with the engine imported as `engine`) in a fresh process; returns its last stdout line as JSON. */
function inChild(code: string, env: NodeJS.ProcessEnv = {}): Record<string, unknown> {
  const script = `const engine = require('./src/engine'); const blas = require('./src/engine/native-blas'); (async () => { ${code} })().catch((e) => { console.error(e); process.exit(1); });`;
  const base = { ...process.env };
  delete base.OPENBLAS_CORETYPE;
  delete base.TRIALBOOK_BLAS_THREADS;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '-e', script], { cwd: repoRoot, encoding: 'utf8', env: { ...base, ...env }, timeout: 120_000 });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

const report = `const b = await engine.initBackend('wasm'); console.log(JSON.stringify({ blas: b.blas, matmul: b.matmul, skipped: b.skipped, env: process.env.OPENBLAS_CORETYPE ?? null }));`;

test('the backend loads OpenBLAS with the core type chosen from the CPU flags, or the user\'s own', (t) => {
  const ours = inChild(report) as { blas?: { core?: { name: string; source: string; asked?: string }; adaptive: boolean }; matmul?: string; env: string | null; skipped: string[] };
  if (!ours.blas) {
    t.skip(`native BLAS not in use (${ours.skipped.join('; ')})`);
    return;
  }
  assert.equal(ours.env, null, 'OPENBLAS_CORETYPE left in the environment for child processes');
  assert.equal(ours.blas.adaptive, true);
  const core = ours.blas.core;
  if (!core) {
    t.diagnostic('the BLAS is not OpenBLAS: no core type to choose');
    return;
  }
  if (core.asked) {
    // A DYNAMIC_ARCH OpenBLAS (Debian's) loads what it was asked for.
    assert.equal(core.source, core.name.toLowerCase() === core.asked.toLowerCase() ? 'cpu-flags' : 'openblas');
    assert.match(ours.matmul!, new RegExp(`${core.name} kernels \\((from CPU flags|OpenBLAS's choice; asked for ${core.asked})\\)`));
  }
  const user = inChild(report, { OPENBLAS_CORETYPE: 'Haswell', TRIALBOOK_BLAS_THREADS: '1' }) as { blas: { core: { name: string; source: string }; adaptive: boolean; threads: number }; matmul: string; env: string };
  assert.equal(user.env, 'Haswell', "the user's variable stays as they set it");
  assert.deepEqual([user.blas.core.source, user.blas.adaptive, user.blas.threads], ['user', false, 1]);
  // A library that took our request takes the user's too.
  if (core.source === 'cpu-flags') assert.equal(user.blas.core.name, 'Haswell');
  assert.match(user.matmul, /Haswell kernels \(OPENBLAS_CORETYPE\), 1 thread$/);
});

test('a BLAS whose products disagree with the wasm kernels is not used: training runs on the wasm kernels and says why', (t) => {
  const r = inChild(`blas.blasFaults.wrongProducts = true; const b = await engine.initBackend('wasm');
    const { toySplit, TOY_VOCAB, baseParams } = require('./test/engine/toy');
    const res = await engine.trainModel({ model: 'tiny', vocabSize: TOY_VOCAB, numLabels: 2, train: toySplit(64, 12, 1), val: toySplit(32, 12, 2), params: { ...baseParams, epochs: 1, max_seq_len: 12 } });
    console.log(JSON.stringify({ matmul: b.matmul ?? null, native: !!blas.nativeMatmulInfo(), skipped: b.skipped, loss: res.bestValLoss }));`) as { matmul: string | null; native: boolean; skipped: string[]; loss: number };
  if (r.skipped.some((s) => /addon not built|no BLAS library/.test(s))) {
    t.skip(r.skipped.join('; '));
    return;
  }
  assert.equal(r.native, false);
  assert.equal(r.matmul, null);
  assert.ok(r.skipped.some((s) => /disagrees with the wasm kernels .*running on the wasm kernels/.test(s)), r.skipped.join('\n'));
  assert.ok(Number.isFinite(r.loss));
});

test('BLAS threads drop to one while busy loops hold the cores, and the trial still trains', (t) => {
  // Busy loops in child processes, one per core, for the length of one short trial; the window
  // is the CpuShare default, so this needs a few seconds of training.
  const r = inChild(`const { spawn } = require('node:child_process'); const os = require('node:os');
    const b = await engine.initBackend('wasm');
    if (!b.blas) { console.log(JSON.stringify({ skipped: b.skipped })); return; }
    const busy = os.cpus().map(() => spawn(process.execPath, ['-e', 'for(;;){}'], { stdio: 'ignore' }));
    const seen = new Set();
    try {
      const { toySplit, TOY_VOCAB, baseParams } = require('./test/engine/toy');
      const t0 = Date.now();
      while (Date.now() - t0 < 6000) {
        await engine.trainModel({ model: 'tiny', vocabSize: TOY_VOCAB, numLabels: 2, train: toySplit(256, 32, 1), val: toySplit(32, 32, 2), params: { ...baseParams, epochs: 1, max_seq_len: 32 } });
        seen.add(blas.blasThreadsNow());
      }
    } finally { busy.forEach((p) => p.kill()); }
    console.log(JSON.stringify({ max: b.blas.threads, seen: [...seen] }));`) as { skipped?: string[]; max: number; seen: number[] };
  if (r.skipped) {
    t.skip(r.skipped.join('; '));
    return;
  }
  if (r.max < 2) {
    t.skip('one core: nothing to drop');
    return;
  }
  assert.ok(r.seen.includes(1), `threads seen while the cores were busy: ${r.seen}`);
});
