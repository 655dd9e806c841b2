/**
 * What issue 17's fault campaign found, each through the real CLI as the user meets it: a wrong
 * input or a broken environment gives exit 2 and one clear `trialbook:` line (never an internal
 * error or a stack), and no fault loses or misreports the user's data.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import iconv from 'iconv-lite';
import { runCli, runTestCli, tempDir, testCliPath, writeStudyFile, type CliResult } from '../helpers';

const QUADRATIC = { ...process.env, TRIALBOOK_TEST_EPOCH_MS: '1' };
const SPACE = { learning_rate: { type: 'float', low: 1e-6, high: 1e-4, log: true }, batch_size: { type: 'choice', values: [32, 64] } };

/** Exit 2 and one `trialbook:` line matching `pattern`, nothing internal. */
function clearError(r: CliResult, pattern: RegExp): void {
  assert.equal(r.code, 2, `exit code 2; stderr: ${r.stderr.slice(0, 2000)}`);
  // Pre-flight warnings (advice printed before a run) are not part of the error.
  const lines = r.stderr.trimEnd().split('\n').filter((l) => !l.startsWith('warning: '));
  assert.equal(lines.length, 1, `one line: ${r.stderr.slice(0, 2000)}`);
  assert.match(lines[0]!, /^trialbook: /);
  assert.doesNotMatch(r.stderr, /internal error|\n\s+at /);
  assert.match(lines[0]!, pattern);
}

function reviews(dir: string, name: string, labelOf: (i: number) => string, n = 40): string {
  const rows = ['text\tlabel', ...Array.from({ length: n }, (_, i) => `리뷰 ${i} 재밌다\t${labelOf(i)}`)];
  writeFileSync(join(dir, name), rows.join('\n') + '\n');
  return join(dir, name);
}

/** A study with a few finished trials (the cheap test objective). */
function tunedStudy(dir: string, fields: Record<string, unknown> = {}): string {
  const file = writeStudyFile(dir, { searchSpace: SPACE, training: { epochs: 2 }, budget: { maxTrials: 3 }, ...fields });
  const r = runTestCli(['tune', file], { env: QUADRATIC });
  assert.equal(r.code, 0, r.stderr);
  return file;
}

test('output paths: a file where a folder should be, a folder where a file should be — user errors, not internal ones', (t) => {
  const dir = tempDir(t);
  const data = reviews(dir, 'd.tsv', (i) => String(i % 2));
  writeFileSync(join(dir, 'v.txt'), '[PAD]\n[UNK]\n[CLS]\n[SEP]\n리\n뷰\n');
  writeFileSync(join(dir, 'afile'), 'x');
  clearError(runCli(['split', '--input', data, '--text-col', 'text', '--label-col', 'label', '--out', join(dir, 'afile', 'sub')]), /afile\/sub: cannot create the output folder \(ENOTDIR\): .*afile is a file, not a folder/);
  clearError(runCli(['tokenize', '--vocab', join(dir, 'v.txt'), '--input', data, '--max-len', '16', '--out', '.'], { cwd: dir }), /--out \.: is a folder; give the name of a file to write/);
  mkdirSync(join(dir, 'preds'));
  clearError(runCli(['predict', '--model', join(dir, 'model'), '--input', data, '--out', join(dir, 'preds')]), /--out .*preds: is a folder; give the name of a file to write/);
});

test('report on a journal.jsonl that is a folder names it', (t) => {
  const dir = tempDir(t);
  const file = writeStudyFile(dir, { searchSpace: SPACE });
  mkdirSync(join(dir, '.trialbook', 'demo', 'journal.jsonl'), { recursive: true });
  clearError(runCli(['report', file]), /journal\.jsonl: is a folder where the study journal belongs/);
});

test('standard output on a full disk: one line, exit 2; tune stopped that way loses nothing and resumes', (t) => {
  const dir = tempDir(t);
  const file = tunedStudy(dir);
  const full = (args: string[]): CliResult => {
    const fd = openSync('/dev/full', 'w');
    try {
      const r = spawnSync(process.execPath, [testCliPath, ...args], { env: QUADRATIC, stdio: ['ignore', fd, 'pipe'], encoding: 'utf8' });
      return { code: r.status ?? -1, stdout: '', stderr: r.stderr };
    } finally {
      closeSync(fd);
    }
  };
  clearError(full(['report', file]), /cannot write to standard output \(ENOSPC: disk full\)/);
  clearError(full(['tune', file, '--resume', '--n-trials', '5']), /cannot write to standard output \(ENOSPC: disk full\)/);
  const r = runTestCli(['tune', file, '--resume', '--n-trials', '5', '--json'], { env: QUADRATIC });
  assert.equal(r.code, 0, r.stderr);
  const summary = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
  assert.equal(summary.complete, 5, 'the three earlier trials kept, the rest run');
});

test('usage errors: one line, exit 2, as the README promises', () => {
  clearError(runCli(['split', '--bogus']), /^trialbook: unknown option '--bogus' \(see trialbook split --help\)$/);
  clearError(runCli(['report']), /missing required argument 'study' \(see trialbook report --help\)/);
  clearError(runCli(['tune', 'x.trialbook.json', '--n-trials', '0']), /--n-trials must be a whole number ≥ 1/);
  clearError(runCli(['nosuch']), /unknown command 'nosuch'/);
  assert.equal(runCli(['--version']).code, 0);
});

test('the search space is checked when the study loads: unknown keys (did you mean), values out of range, numbers written as text', (t) => {
  const dir = tempDir(t);
  const plan = (searchSpace: Record<string, unknown>): CliResult => runCli(['plan', writeStudyFile(dir, { searchSpace })]);
  clearError(plan({ learnig_rate: { type: 'float', low: 1e-5, high: 1e-3 } }), /searchSpace\.learnig_rate: not a hyperparameter \(did you mean learning_rate\?\)/);
  clearError(plan({ learning_rate: { type: 'fixed', value: 0 } }), /searchSpace\.learning_rate\.value: 0: expected number to be >0/);
  clearError(plan({ batch_size: { type: 'choice', values: [32, 0] } }), /searchSpace\.batch_size\.values\.1: 0: expected number to be >=1/);
  clearError(plan({ batch_size: { type: 'choice', values: ['32'] } }), /searchSpace\.batch_size\.values\.0: "32" is text; write the number 32 without quotes/);
  clearError(plan({ dropout_rate: { type: 'float', low: 0, high: 5 } }), /searchSpace\.dropout_rate\.high: 5: expected number to be <=0\.9/);
  clearError(plan({ batch_size: { type: 'float', low: 16, high: 64 } }), /searchSpace\.batch_size\.type: batch_size takes whole numbers; use "int" or "choice"/);
  assert.equal(plan(SPACE).code, 0);
});

test('a one-class data file stops tune before its first trial', (t) => {
  const dir = tempDir(t);
  reviews(dir, 'd.tsv', () => '1');
  writeFileSync(join(dir, 'v.txt'), '[PAD]\n[UNK]\n[CLS]\n[SEP]\n');
  const file = writeStudyFile(dir, { searchSpace: SPACE, model: 'tiny', budget: { maxTrials: 2 } });
  clearError(runCli(['tune', file]), /d\.tsv: label column "label" has only one label, "1", in 40 usable rows/);
  assert.equal(existsSync(join(dir, '.trialbook', 'demo', 'journal.jsonl')), false, 'no trial was created');
});

test('study files: a UTF-8 BOM is accepted; names "." and ".." are refused', (t) => {
  const dir = tempDir(t);
  const file = writeStudyFile(dir, { searchSpace: SPACE });
  writeFileSync(file, '\ufeff' + readFileSync(file, 'utf8'));
  const r = runCli(['plan', file]);
  assert.equal(r.code, 0, r.stderr);
  for (const name of ['.', '..']) {
    const f = join(dir, 'dots.trialbook.json');
    writeFileSync(f, JSON.stringify({ ...JSON.parse(readFileSync(file, 'utf8').slice(1)), name }));
    clearError(runTestCli(['tune', f], { env: QUADRATIC }), /dots\.trialbook\.json: name: a name of dots only would name a folder outside \.trialbook\//);
  }
  assert.deepEqual(readdirSync(dir).filter((n) => n === 'journal.jsonl' || n === 'trials'), [], 'nothing landed in the project folder');
});

test('a one-line 10 MB file: refused quickly, and the message quotes only a little of it', (t) => {
  const dir = tempDir(t);
  const big = join(dir, 'big.tsv');
  writeFileSync(big, 'x'.repeat(10_000_000));
  const started = Date.now();
  const r = runCli(['split', '--input', big, '--text-col', 'text', '--label-col', 'label', '--out', join(dir, 'out')]);
  clearError(r, /big\.tsv:1: the whole file is one line, 10,000,000 characters long, cannot be a header/);
  assert.ok(r.stderr.length < 300, `${r.stderr.length} characters of message`);
  // The old path parsed the line for 4–24 s; the check before parsing takes well under that.
  assert.ok(Date.now() - started < 4000, `${Date.now() - started} ms`);
});

test('stale temporary files of a killed split are swept on the next run', (t) => {
  const dir = tempDir(t);
  const data = reviews(dir, 'd.tsv', (i) => String(i % 2));
  const out = join(dir, 'out');
  mkdirSync(out);
  const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
  const stale = join(out, `.train.tsv.${dead}.1700000000000.tmp`);
  writeFileSync(stale, 'half a split');
  const r = runCli(['split', '--input', data, '--text-col', 'text', '--label-col', 'label', '--out', out]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(existsSync(stale), false);
  assert.deepEqual(readdirSync(out).sort(), ['manifest.json', 'test.tsv', 'train.tsv', 'val.tsv']);
});

test('labels: "1"/"1.0" and "0"/"00" are warned about; all-conflicting rows are explained, not "(none)"', (t) => {
  const dir = tempDir(t);
  const split = (name: string, labelOf: (i: number) => string, extra: string[] = []): CliResult =>
    runCli(['split', '--input', reviews(dir, name, labelOf, 60), '--text-col', 'text', '--label-col', 'label', '--out', join(dir, `out-${name}`), ...extra]);
  const r = split('mixed.tsv', (i) => ['1', '1.0', '0', '00'][i % 4]!);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /warning: labels "0" and "00" are the same number written differently, so they are 2 separate classes/);
  assert.match(r.stdout, /warning: labels "1" and "1\.0" are the same number written differently/);
  const rows = ['text\tlabel', ...Array.from({ length: 20 }, (_, i) => `same text ${i % 10}\t${i < 10 ? 'pos' : 'neg'}`)];
  writeFileSync(join(dir, 'conflict.tsv'), rows.join('\n') + '\n');
  clearError(
    runCli(['split', '--input', join(dir, 'conflict.tsv'), '--text-col', 'text', '--label-col', 'label', '--out', join(dir, 'out-c')]),
    /conflict\.tsv: no usable rows in label column "label": all 20 rows .* were dropped because their texts appear with different labels \(e\.g\. lines 2 & 12/,
  );
});

test('init refuses a vocab without the BERT special tokens and a config.json whose num_labels and id2label disagree', (t) => {
  const dir = tempDir(t);
  const data = reviews(dir, 'd.tsv', (i) => String(i % 2));
  writeFileSync(join(dir, 'plain.txt'), '리\n뷰\n');
  writeFileSync(join(dir, 'v.txt'), '[PAD]\n[UNK]\n[CLS]\n[SEP]\n리\n');
  const init = (vocab: string, extra: string[] = []): CliResult =>
    runCli(['init', '--data', data, '--text-col', 'text', '--label-col', 'label', '--vocab', vocab, '--out', join(dir, 's.trialbook.json'), '--force', ...extra]);
  clearError(init(join(dir, 'plain.txt')), /plain\.txt: the vocab has no \[PAD\], \[UNK\], \[CLS\], \[SEP\]/);
  mkdirSync(join(dir, 'bert'));
  const config = { vocab_size: 5, hidden_size: 8, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 16, max_position_embeddings: 64, type_vocab_size: 2, num_labels: 3, id2label: { 0: 'neg', 1: 'pos' } };
  writeFileSync(join(dir, 'bert', 'config.json'), JSON.stringify(config));
  clearError(init(join(dir, 'v.txt'), ['--model', join(dir, 'bert')]), /bert\/config\.json: num_labels is 3 but id2label names 2 labels; make them agree/);
  writeFileSync(join(dir, 'bert', 'config.json'), JSON.stringify({ ...config, num_labels: 2 }));
  assert.equal(init(join(dir, 'v.txt'), ['--model', join(dir, 'bert')]).code, 0);
});

test('a journal cut at its last newline keeps the finished trial; cut inside the line, the trial shows as interrupted, not running', (t) => {
  const dir = tempDir(t);
  const file = tunedStudy(dir);
  const journal = join(dir, '.trialbook', 'demo', 'journal.jsonl');
  const states = (): string[] => JSON.parse(runCli(['report', file, '--format', 'json']).stdout).trials.map((x: { state: string }) => x.state);
  const size = readFileSync(journal).length;
  truncateSync(journal, size - 1);
  assert.deepEqual(states(), ['complete', 'complete', 'complete']);
  const r = runTestCli(['tune', file, '--resume', '--n-trials', '4'], { env: QUADRATIC });
  assert.equal(r.code, 0, r.stderr);
  const lines = readFileSync(journal, 'utf8').trimEnd().split('\n');
  assert.ok(lines.every((l) => JSON.parse(l)), 'every line is whole: the next append started a new line');
  truncateSync(journal, readFileSync(journal).length - 20);
  const after = states();
  assert.equal(after.length, 4);
  assert.equal(after[3], 'failed', `the trial whose finish was cut: ${after}`);
  const rep = JSON.parse(runCli(['report', file, '--format', 'json']).stdout);
  assert.match(rep.trials.find((x: { number: number }) => x.number === 3).error, /^interrupted/);
});

for (const { args, noun, started } of [
  { args: ['tune'], noun: 'trial', started: /^trial 0 \(/m },
  { args: ['seqlen', '--lengths', '64,128', '--repeats', '2'], noun: 'run', started: /^run 0: /m },
]) {
  test(`${args[0]} stopped cleanly by SIGTERM exits 143 (128 + SIGTERM), not 130`, async (t) => {
    const dir = tempDir(t);
    const file = writeStudyFile(dir, { searchSpace: SPACE, training: { epochs: 3 }, budget: { maxTrials: 3 } });
    const c = spawn(process.execPath, [testCliPath, args[0]!, file, ...args.slice(1)], { env: { ...QUADRATIC, TRIALBOOK_TEST_EPOCH_MS: '300' }, stdio: ['ignore', 'pipe', 'pipe'] });
    t.after(() => c.kill('SIGKILL'));
    let out = '';
    c.stdout.on('data', (d) => (out += d));
    while (!started.test(out)) {
      assert.equal(c.exitCode, null, `${args[0]} ended before its first trial started: ${out}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    c.kill('SIGTERM');
    const code = await new Promise<number | null>((r) => c.on('exit', r));
    assert.equal(code, 143);
    assert.match(out, new RegExp(`${noun} 0 cancelled`));
  });
}

test('report --notes keeps an EUC-KR notes file EUC-KR, writes through a symlink, and refuses a read-only one', (t) => {
  const dir = tempDir(t);
  const file = tunedStudy(dir, { notes: 'notes.md' });
  const before = iconv.encode('# 게임 리뷰 감성 분석 노트\n\n학습률이 높으면 발산한다.\n', 'cp949');
  mkdirSync(join(dir, 'vault'));
  writeFileSync(join(dir, 'vault', 'log.md'), before);
  symlinkSync(join('vault', 'log.md'), join(dir, 'notes.md'));
  const r = runCli(['report', file, '--notes']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /notes: inserted the trialbook block for study demo in .*notes\.md \(kept its EUC-KR\/CP949 encoding\)/);
  const after = readFileSync(join(dir, 'vault', 'log.md'));
  assert.equal(Buffer.compare(after.subarray(0, before.length), before), 0, 'the Korean text is byte for byte the same');
  assert.match(iconv.decode(after, 'cp949'), /<!-- trialbook:begin study=demo -->\n## Study `demo`/);
  chmodSync(join(dir, 'vault', 'log.md'), 0o444);
  assert.equal(runTestCli(['tune', file, '--resume', '--n-trials', '4'], { env: QUADRATIC }).code, 0, 'one more trial: the block would change');
  clearError(runCli(['report', file, '--notes']), /notes\.md: the file is read-only; nothing was changed/);
  assert.equal(Buffer.compare(readFileSync(join(dir, 'vault', 'log.md')), after), 0);
});
