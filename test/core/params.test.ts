import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseStudy } from '../../src/core/study';
import { checkParams, parseParamsJson, resolveParams } from '../../src/core/params';

const study = parseStudy(
  {
    name: 's',
    data: { file: 'd.tsv', textColumn: 't', labelColumn: 'l', seed: 7 },
    tokenizer: { vocab: 'v.txt' },
    training: { epochs: 4, max_seq_len: 64 },
    searchSpace: { dropout_rate: { type: 'fixed', value: 0.3 }, learning_rate: { type: 'float', low: 1e-5, high: 1e-4, log: true } },
    tuner: { type: 'random' },
  },
  's.trialbook.json',
);

test('params merge: built-in defaults < study.training < fixed search-space values < given', () => {
  const { params, source } = resolveParams(study, 's.trialbook.json', { learning_rate: 2e-5, epochs: 1 });
  assert.equal(params.learning_rate, 2e-5);
  assert.equal(source.learning_rate, 'params');
  assert.equal(params.epochs, 1);
  assert.equal(params.max_seq_len, 64);
  assert.equal(source.max_seq_len, 'study.training');
  assert.equal(params.dropout_rate, 0.3);
  assert.equal(source.dropout_rate, 'searchSpace');
  assert.equal(params.seed, 7, 'the seed defaults to the study data seed');
  assert.equal(params.batch_size, 32);
  assert.equal(params.freeze_body, false);
  // A given value beats a fixed one too.
  assert.equal(resolveParams(study, 'f', { dropout_rate: 0 }).params.dropout_rate, 0);
});

test('params: unknown names, wrong types and out-of-range values are user errors naming them', () => {
  assert.throws(() => parseParamsJson('{"learningrate":1}'), /"learningrate" is not a hyperparameter \(did you mean "learning_rate"\?\)/);
  assert.throws(() => parseParamsJson('{"batch_size":12.5}'), /--params: batch_size = 12.5: /);
  assert.throws(() => parseParamsJson('{"batch_size":0}'), /--params: batch_size = 0: /);
  assert.throws(() => parseParamsJson('{"max_seq_len":"128"}'), /max_seq_len = "128"/);
  assert.throws(() => parseParamsJson('{"learning_rate":-1}'), /learning_rate = -1/);
  assert.throws(() => parseParamsJson('nope'), /not valid JSON/);
  assert.throws(() => checkParams(null, 'x'), /expected a JSON object/);
  assert.deepEqual(checkParams({ freeze_body: 1, warmup_steps: 500 }, 'x'), { freeze_body: true, warmup_steps: 500 });
  assert.deepEqual(checkParams({ freeze_body: 'false' }, 'x'), { freeze_body: false });
});
