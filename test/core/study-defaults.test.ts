import { test } from 'node:test';
import assert from 'node:assert/strict';
import { batchSizes, maxSeqLenFor, studyDefaults } from '../../src/core/study-defaults';

/** Choice values of a search-space dimension. */
const values = (d: unknown): number[] => (d as { values: number[] }).values;

test('a from-scratch preset on the demo data (1,897 train rows): warm-up ends early, batches fit, from-scratch learning rates', () => {
  const d = studyDefaults({ trainRows: 1897, pretrained: false, p90: 40, p99: 55 });
  const batches = values(d.searchSpace.batch_size);
  assert.deepEqual(batches, [16, 32, 64]);
  // The shortest trial: the largest batch for the study's epochs. Warm-up stays a small part of it.
  const fewest = Math.ceil(1897 / Math.max(...batches)) * d.epochs;
  assert.ok(Math.max(...values(d.searchSpace.warmup_steps)) <= 0.1 * fewest, `warm-up ${values(d.searchSpace.warmup_steps)} of ${fewest} steps`);
  assert.deepEqual(d.searchSpace.learning_rate, { type: 'float', low: 2e-4, high: 2e-3, log: true });
  assert.equal(d.searchSpace.freeze_body, undefined, 'a random body is not worth freezing');
  assert.equal(d.training.max_seq_len, 64);
  assert.deepEqual(d.seqlen.lengths, [32, 64]);
});

test('a pretrained folder keeps the fine-tuning space; batch sizes follow the data size', () => {
  const d = studyDefaults({ trainRows: 16_000, pretrained: true, p90: 90, p99: 200 });
  assert.deepEqual(d.searchSpace.learning_rate, { type: 'float', low: 5e-6, high: 1e-4, log: true });
  assert.deepEqual(d.searchSpace.freeze_body, { type: 'bool' });
  assert.deepEqual(values(d.searchSpace.batch_size), [32, 64, 128]);
  assert.equal(d.training.max_seq_len, 128);
  assert.deepEqual(d.seqlen.lengths, [32, 64, 128, 256]);
  // Never a batch larger than the split allows.
  assert.deepEqual(batchSizes(100), [16]);
  assert.deepEqual(batchSizes(10), [5]);
  assert.equal(maxSeqLenFor(undefined), 128);
  assert.equal(maxSeqLenFor(2000), 512);
});
