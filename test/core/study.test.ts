/** The study file: schema errors that name the file and key path, semantic checks, the JSON Schema. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { closest, editDistance } from '../../src/core/did-you-mean';
import { defaultSearchSpace, loadStudy, parseStudy, StudySpec } from '../../src/core/study';
import { toSearchSpace } from '../../src/tuners/space';
import { STUDY_SCHEMA_PATH, studyJsonSchema } from '../../src/core/study-schema';
import { repoRoot, tempDir } from '../helpers';

const EXAMPLE = join(repoRoot, 'examples', 'demo', 'demo.trialbook.json');
const example = (): Record<string, any> => JSON.parse(readFileSync(EXAMPLE, 'utf8'));

/** The message parseStudy throws for the example study changed by `edit`. */
function errorFor(edit: (s: Record<string, any>) => void): string {
  const s = example();
  edit(s);
  try {
    parseStudy(s, 'steam.trialbook.json');
  } catch (e) {
    return (e as Error).message;
  }
  assert.fail('the study was accepted');
}

test('a wrong type names the file, the key path, what was expected and what was found', () => {
  assert.equal(errorFor((s) => (s.tuner.max_epochs = 'many')), 'steam.trialbook.json: tuner.max_epochs: expected number, received string');
  assert.equal(errorFor((s) => (s.tuner.max_epochs = 1.5)), 'steam.trialbook.json: tuner.max_epochs: expected a whole number, received 1.5');
  assert.equal(errorFor((s) => (s.tuner = 'hyperband')), 'steam.trialbook.json: tuner: expected object, received string');
  assert.equal(errorFor((s) => delete s.data.labelColumn), 'steam.trialbook.json: data.labelColumn: required key is missing (expected string)');
});

test('an unknown key is named with its path and the nearest allowed key', () => {
  assert.equal(errorFor((s) => (s.budget.maxTrails = 5)), 'steam.trialbook.json: budget.maxTrails: unknown key (did you mean maxTrials?)');
  assert.equal(errorFor((s) => (s.training.max_seq_length = 256)), 'steam.trialbook.json: training.max_seq_length: unknown key (did you mean max_seq_len?)');
  // Inside a discriminated union the keys are those of the option the study names.
  assert.equal(errorFor((s) => (s.searchSpace.learning_rate.hgh = 1)), 'steam.trialbook.json: searchSpace.learning_rate.hgh: unknown key (did you mean high?)');
  // Nothing close: the allowed keys are listed instead.
  assert.match(errorFor((s) => (s.colour = 'red')), /^steam\.trialbook\.json: colour: unknown key \(allowed here: \$schema, name, data, .*notes\)$/);
});

test('a wrong tuner or dimension type lists the choices and suggests the nearest', () => {
  assert.equal(
    errorFor((s) => (s.tuner.type = 'hyprband')),
    'steam.trialbook.json: tuner.type: "hyprband" is not one of random, grid, hyperband, bayesian, tpe, asha (did you mean hyperband?)',
  );
  assert.match(errorFor((s) => (s.searchSpace.dropout_rate.type = 'flot')), /searchSpace\.dropout_rate\.type: "flot" is not one of float, int, choice, bool, fixed \(did you mean float\?\)/);
  assert.match(errorFor((s) => (s.objective.metric = 'acc')), /objective\.metric: "acc" is not allowed; expected one of "val_loss", "val_accuracy"/);
});

test('several problems: one line each, under a first line naming the file', () => {
  const msg = errorFor((s) => {
    s.budget.maxTrails = 5;
    s.training.max_seq_len = 1000;
  });
  const lines = msg.split('\n');
  assert.equal(lines[0], 'steam.trialbook.json: invalid study file (2 problems)');
  assert.deepEqual(lines.slice(1).sort(), ['  budget.maxTrails: unknown key (did you mean maxTrials?)', '  training.max_seq_len: expected number to be <=512']);
});

test('semantic checks: ranges, ratios and ASHA epochs', () => {
  assert.match(errorFor((s) => (s.searchSpace.learning_rate.low = 0.01)), /searchSpace\.learning_rate: low \(0\.01\) must be below high \(0\.003\)/);
  assert.match(errorFor((s) => Object.assign(s.searchSpace.learning_rate, { low: 0 })), /searchSpace\.learning_rate: a log scale needs low > 0/);
  assert.match(errorFor((s) => (s.data.ratios = [0.8, 0.1, 0.2])), /data\.ratios: \[0\.8, 0\.1, 0\.2\] sums to 1\.1, not 1/);
  assert.match(errorFor((s) => (s.data.ratios = [8, 1, 0])), /data\.ratios\.2: expected number to be >0/);
  assert.match(errorFor((s) => (s.tuner = { type: 'asha', min_epochs: 5, max_epochs: 3 })), /tuner\.min_epochs: 5 must not exceed tuner\.max_epochs \(3\)/);
  // Whole parts are fine (the splitter normalises 8:1:1).
  const s = example();
  s.data.ratios = [8, 1, 1];
  assert.deepEqual(parseStudy(s, 'x').data.ratios, [8, 1, 1]);
});

test('defaults fill the keys a study leaves out', () => {
  const s = example();
  delete s.training;
  delete s.budget;
  s.tuner = { type: 'bayesian' };
  const study = parseStudy(s, 'x');
  assert.equal(study.training.max_seq_len, 128);
  assert.equal(study.budget.maxTrials, 20);
  assert.deepEqual(study.tuner, { type: 'bayesian', initial_points: 5, acquisition: 'ei', beta: 2.6 });
  assert.equal(study.storage, 'journal');
});

test('loadStudy names the file for bad JSON and resolves paths against the study folder', (t) => {
  const dir = tempDir(t);
  const bad = join(dir, 'bad.trialbook.json');
  writeFileSync(bad, '{"name": "x",');
  assert.throws(() => loadStudy(bad), (e: Error) => e.message.startsWith(`${bad}: not valid JSON`));
  const good = join(dir, 'good.trialbook.json');
  writeFileSync(good, readFileSync(EXAMPLE));
  const loaded = loadStudy(good);
  assert.equal(loaded.resolve(loaded.study.data.file), join(dir, 'reviews.tsv'));
});

test('the users\' search space converts to the tuners\' ordered dimensions', () => {
  const dims = toSearchSpace(defaultSearchSpace());
  assert.deepEqual(dims.map((d) => d.name), ['learning_rate', 'warmup_steps', 'freeze_body', 'dropout_rate', 'batch_size']);
  assert.deepEqual(dims[0], { name: 'learning_rate', type: 'float', low: 5e-6, high: 1e-4, log: true });
});

test('edit distance counts an adjacent swap as one edit; suggestions ignore case and underscores', () => {
  assert.equal(editDistance('maxtrails', 'maxtrials'), 1);
  assert.equal(editDistance('kitten', 'sitting'), 3);
  assert.equal(closest('Max_Trials', ['maxTrials', 'repeats']), 'maxTrials');
  assert.equal(closest('banana', ['maxTrials', 'repeats']), undefined);
});

test('the JSON Schema is the input side: keys with defaults are optional, unknown keys rejected', () => {
  const schema = studyJsonSchema() as any;
  assert.deepEqual([...schema.required].sort(), ['data', 'name', 'searchSpace', 'tokenizer', 'tuner']);
  assert.equal(schema.additionalProperties, false);
  assert.deepEqual([...schema.properties.data.required].sort(), ['file', 'labelColumn', 'textColumn']);
  assert.equal(schema.properties.training.required, undefined);
  const tunerTypes = schema.properties.tuner.oneOf ?? schema.properties.tuner.anyOf;
  assert.deepEqual(tunerTypes.map((o: any) => o.properties.type.const).sort(), ['asha', 'bayesian', 'grid', 'hyperband', 'random', 'tpe']);
  // The committed file is this schema, and every key of the example study is one it knows.
  const committed = JSON.parse(readFileSync(join(repoRoot, STUDY_SCHEMA_PATH), 'utf8'));
  assert.deepEqual(committed, JSON.parse(JSON.stringify(schema)));
  for (const f of ['examples/demo/demo.trialbook.json', 'examples/steam-krbert.trialbook.json']) {
    const study = JSON.parse(readFileSync(join(repoRoot, f), 'utf8'));
    for (const k of committed.required) assert.ok(k in study, `${f}: ${k}`);
    for (const k of Object.keys(study)) assert.ok(k in committed.properties, `${f}: ${k} not in the schema`);
    for (const k of committed.properties.data.required) assert.ok(k in study.data, `${f}: data.${k}`);
    assert.ok(StudySpec.safeParse(study).success, f);
  }
});

test('encoderDropout: out-of-range and misspelt fields are named', () => {
  assert.match(errorFor((s) => (s.encoderDropout = { hidden_dropout_prob: 1.5 })), /^steam\.trialbook\.json: encoderDropout\.hidden_dropout_prob: .*0\.9/);
  assert.equal(errorFor((s) => (s.encoderDropout = { hiden_dropout_prob: 0.2 })), 'steam.trialbook.json: encoderDropout.hiden_dropout_prob: unknown key (did you mean hidden_dropout_prob?)');
});

test('the objective direction follows the metric: inferred when left out, a contrary one refused naming the key', () => {
  const objective = (o: Record<string, unknown>) => {
    const s = example();
    s.objective = o;
    return parseStudy(s, 'steam.trialbook.json').objective;
  };
  assert.deepEqual(objective({ metric: 'val_accuracy' }), { metric: 'val_accuracy', direction: 'maximize' });
  assert.deepEqual(objective({}), { metric: 'val_loss', direction: 'minimize' });
  assert.deepEqual(objective({ metric: 'val_accuracy', direction: 'maximize' }), { metric: 'val_accuracy', direction: 'maximize' });
  assert.equal(errorFor((s) => (s.objective = { metric: 'val_accuracy', direction: 'minimize' })), 'steam.trialbook.json: objective.direction: val_accuracy is maximized: remove the direction or set it to "maximize"');
  assert.match(errorFor((s) => (s.objective = { direction: 'maximize' })), /objective\.direction: val_loss is minimized/);
});
