/** `trialbook runtime`: the runtime line training would use, asked of a real worker process. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runCli } from '../helpers';

test('runtime prints the backend, the BLAS kernels and who chose them, and why better runtimes were skipped', (t) => {
  const r = runCli(['runtime', '--json'], { env: { ...process.env, OPENBLAS_CORETYPE: 'Haswell', TRIALBOOK_BLAS_THREADS: '1' } });
  assert.equal(r.code, 0, r.stderr);
  const info = JSON.parse(r.stdout);
  assert.ok(info.runtime.startsWith(`${info.name} (`), info.runtime);
  assert.ok(Array.isArray(info.skipped));
  if (!info.blas) {
    t.diagnostic(`no native BLAS here: ${info.skipped.join('; ')}`);
    return;
  }
  assert.equal(info.blas.core?.source, 'user');
  assert.match(info.runtime, /matmuls on .+, \w+ kernels \(OPENBLAS_CORETYPE\), 1 thread/);
  const text = runCli(['runtime']);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout.split('\n')[0], /kernels \((from CPU flags|OpenBLAS's choice.*)\)/);
});

test('runtime: an unknown backend is one line (exit 2)', () => {
  const r = runCli(['runtime', '--backend', 'nope']);
  assert.equal(r.code, 2);
  assert.equal(r.stderr.trim(), 'trialbook: backend "nope": unknown; use one of auto, tensorflow-gpu, tensorflow, wasm, cpu');
});
