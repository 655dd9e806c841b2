/** The editor's data jobs in a real worker: split (reused when unchanged), tokenize, lengths. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { WorkerClient } from '../../src/worker/client';
import type { SplitJobResult } from '../../src/worker/jobs/split';
import type { LengthsJobResult, TokenizeJobResult } from '../../src/worker/jobs/tokenize';
import { isWorkerJobError } from '../../src/worker/errors';
import { tempDir } from '../helpers';
import { makeStudy } from './fixtures';

test('split, tokenize and lengths jobs on a generated study', async (t) => {
  const dir = tempDir(t);
  const study = makeStudy(dir, 100);
  const c = new WorkerClient();
  t.after(() => c.close());
  const s1 = await c.run<SplitJobResult>({ kind: 'split', options: { study } });
  assert.equal(s1.reused, false);
  assert.deepEqual(s1.labels, ['neg', 'pos']);
  const total = Object.values(s1.counts.train).reduce((a, b) => a + b, 0) + Object.values(s1.counts.val).reduce((a, b) => a + b, 0) + Object.values(s1.counts.test).reduce((a, b) => a + b, 0);
  assert.equal(total, 100);
  assert.ok(existsSync(join(s1.dir, 'manifest.json')));
  const s2 = await c.run<SplitJobResult>({ kind: 'split', options: { study } });
  assert.equal(s2.reused, true);
  assert.equal(s2.fingerprint, s1.fingerprint);

  const tk = await c.run<TokenizeJobResult>({ kind: 'tokenize', options: { study, maxLen: 10 } });
  assert.equal(tk.maxLen, 10);
  assert.equal(tk.counts.train + tk.counts.val + tk.counts.test, 100);
  const cache = join(dir, '.trialbook', 'tiny-test', 'encoded');
  assert.equal(readdirSync(cache).filter((f) => f.endsWith('.bin')).length, 1, 'the encoded split is cached for trials');

  const ln = await c.run<LengthsJobResult>({ kind: 'lengths', options: { study, maxLens: [5, 64] } });
  assert.equal(ln.stats.count, 100);
  // "정말 좋다 0" → [CLS] 정 ##말 좋 ##다 0 [SEP] = 7 tokens; the longest rows have 3 words + a 2-digit number.
  assert.ok(ln.stats.max >= 7 && ln.stats.max <= 12, String(ln.stats.max));
  assert.equal(ln.truncated['64'], 0);
  assert.ok(ln.truncated['5'] > 0.9);
  assert.equal(ln.histogram.reduce((a, [, n]) => a + n, 0), 100);

  // A study pointing at a missing data file fails as a user error naming it.
  const broken = makeStudy(tempDir(t), 20, { data: { file: 'nope.tsv', textColumn: 'text', labelColumn: 'label' } });
  await assert.rejects(c.run({ kind: 'split', options: { study: broken } }), (e) => isWorkerJobError(e) && e.cause === 'user' && /nope\.tsv/.test(e.message));
});
