// Fault campaign (`npm run faults`, not part of `npm test`): drives a built Trialbook as a user's
// machine would treat it — `tune` killed at random moments, state files corrupted, inputs fuzzed,
// outputs that cannot be written, two processes racing for one stale lock — and checks what must
// hold whatever happens: no finished trial lost or changed, every refusal one clear line (exit 2,
// no internal error, no stack trace), the user's notes byte for byte intact outside the block.
//
//   node scripts/faults.mjs [--root DIR] [--seed N] [--scale X] [--only CATEGORY,...]
//
// --root runs the campaign against another checkout's bin/trialbook.js (built), e.g. an older
// main; the checks come from this script, not from that checkout. Prints one JSON object: cases
// tried and failures per category, and the first failures with how to reproduce them.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, closeSync, cpSync, existsSync, linkSync, lstatSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import iconv from 'iconv-lite';

const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i === -1 ? fallback : args[i + 1];
};
const ROOT = resolve(opt('root', join(dirname(fileURLToPath(import.meta.url)), '..')));
const REAL_CLI = join(ROOT, 'bin', 'trialbook.js');
// Trials run on the cheap quadratic objective: the tests' CLI where the checkout has one,
// else (older checkouts) the shipped CLI with the objective chosen by TRIALBOOK_TEST_OBJECTIVE.
const TEST_CLI = join(ROOT, 'dist', 'testing', 'cli.js');
const CLI = existsSync(TEST_CLI) ? TEST_CLI : REAL_CLI;
const SEED = Number(opt('seed', Date.now() % 1_000_000));
const SCALE = Number(opt('scale', 1));
const ONLY = opt('only', '')?.split(',').filter(Boolean) ?? [];
if (!existsSync(join(ROOT, 'dist', 'cli.js'))) {
  console.error(`faults: ${ROOT} has no dist/cli.js; build it first (npm run build)`);
  process.exit(2);
}

// ---------------------------------------------------------------------------------------------
// Plumbing

function rng(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, int: (n) => Math.floor(next() * n), pick: (xs) => xs[Math.floor(next() * xs.length)] };
}
const R = rng(SEED);
const WORK = mkdtempSync(join(tmpdir(), 'tb-faults-'));
const QUAD = { ...process.env, TRIALBOOK_TEST_OBJECTIVE: 'quadratic', TRIALBOOK_TEST_EPOCH_MS: '15' };
delete QUAD.TRIALBOOK_DEBUG;

let serial = 0;
function freshDir(tag) {
  const d = join(WORK, `${String(serial++).padStart(4, '0')}-${tag}`);
  mkdirSync(d, { recursive: true });
  return d;
}

function cli(argv, o = {}) {
  const r = spawnSync(process.execPath, [o.cli ?? CLI, ...argv], { encoding: 'utf8', timeout: o.timeout ?? 120_000, maxBuffer: 64 << 20, env: o.env ?? QUAD, cwd: o.cwd, stdio: o.stdio });
  return { code: r.status ?? (r.signal ? -1 : -2), stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? ''), signal: r.signal };
}

function startCli(argv, env = QUAD) {
  const c = spawn(process.execPath, [CLI, ...argv], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const out = { stdout: '', stderr: '', code: undefined, signal: undefined };
  c.stdout.on('data', (d) => (out.stdout += d));
  c.stderr.on('data', (d) => (out.stderr += d));
  const exit = new Promise((r) => c.on('exit', (code, signal) => ((out.code = code), (out.signal = signal), r(out))));
  return { child: c, out, exit };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** What every refusal must look like; undefined when it does. */
function clearRefusal(r, what) {
  if (r.code !== 0 && r.code !== 2) return `${what}: exit ${r.code}${r.signal ? ` (${r.signal})` : ''}: ${firstLines(r.stderr)}`;
  if (/internal error|\n\s+at |node:internal|Unhandled|Error: E[A-Z]+:/.test(r.stderr)) return `${what}: internal error or stack trace: ${firstLines(r.stderr)}`;
  if (r.code === 2 && r.stderr.trim() === '') return `${what}: exit 2 without a message`;
  if (r.stderr.length > 4000) return `${what}: a ${r.stderr.length}-character message`;
  return undefined;
}
/** A refusal that must also be a single line (usage, output paths, data files). */
function oneLine(r, what) {
  const bad = clearRefusal(r, what);
  if (bad) return bad;
  // Pre-flight warnings (advice printed before a run starts) are not part of the refusal.
  const lines = r.stderr.trim().split('\n').filter((l) => !l.startsWith('warning: '));
  if (r.code === 2 && lines.length !== 1) return `${what}: ${lines.length} lines: ${firstLines(r.stderr)}`;
  return undefined;
}
const firstLines = (s) => s.trim().split('\n').slice(0, 3).join(' | ').slice(0, 300);

function journalEvents(dir) {
  const p = join(dir, '.trialbook', 'demo', 'journal.jsonl');
  if (!existsSync(p) || statSync(p).isDirectory()) return [];
  return readFileSync(p, 'utf8').split('\n').flatMap((l) => {
    try {
      return [JSON.parse(l)];
    } catch {
      return [];
    }
  });
}
/** Finished values per trial number, from the journal as written. */
function finished(dir) {
  const out = new Map();
  for (const e of journalEvents(dir)) if (e.type === 'finished') out.set(e.trial, e.value);
  return out;
}

const SPACE = { learning_rate: { type: 'float', low: 1e-6, high: 1e-4, log: true }, dropout_rate: { type: 'float', low: 0, high: 0.5 }, batch_size: { type: 'choice', values: [16, 32, 64] } };
function writeStudy(dir, fields = {}) {
  const study = { name: 'demo', data: { file: 'd.tsv', textColumn: 'text', labelColumn: 'label' }, tokenizer: { vocab: 'v.txt' }, searchSpace: SPACE, tuner: { type: 'random' }, training: { epochs: 3 }, budget: { maxTrials: 6 }, notes: 'notes.md', ...fields };
  const file = join(dir, 'demo.trialbook.json');
  writeFileSync(file, JSON.stringify(study, null, 2));
  return file;
}
function writeData(dir, n = 60) {
  const rows = ['text\tlabel', ...Array.from({ length: n }, (_, i) => `게임 리뷰 ${i} ${i % 3 ? '재밌다' : '별로'}\t${i % 2}`)];
  writeFileSync(join(dir, 'd.tsv'), rows.join('\n') + '\n');
  writeFileSync(join(dir, 'v.txt'), ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', ...'게임리뷰재밌다별로0123456789'].join('\n') + '\n');
}

// ---------------------------------------------------------------------------------------------
// Cases. Each returns undefined (held) or a sentence saying what broke.

const TUNERS = [
  { type: 'random' },
  { type: 'hyperband', max_epochs: 9, factor: 3 },
  { type: 'tpe', initial_points: 3 },
];

/** The values an uninterrupted run records, per tuner (the quadratic objective is deterministic). */
const reference = new Map();
function referenceValues(tuner) {
  const key = JSON.stringify(tuner);
  if (!reference.has(key)) {
    const dir = freshDir('reference');
    writeData(dir); // the objective ignores it, but tune's pre-flight refuses a study without its data file
    const file = writeStudy(dir, { tuner, budget: { maxTrials: 6 } });
    const r = cli(['tune', file]);
    if (r.code !== 0) throw new Error(`reference run failed: ${r.stderr}`);
    reference.set(key, finished(dir));
  }
  return reference.get(key);
}

async function killAndResume(seed) {
  const r = rng(seed);
  const tuner = r.pick(TUNERS);
  const want = referenceValues(tuner);
  const dir = freshDir('kill');
  writeData(dir);
  const file = writeStudy(dir, { tuner, budget: { maxTrials: 6 } });
  const signal = r.next() < 0.75 ? 'SIGKILL' : 'SIGTERM';
  // Two trials at once make the tuner see another history than the serial reference: then only
  // what was finished before each kill must stay as it was.
  const parallel = r.next() < 0.3;
  const kept = new Map();
  for (let round = 0; round < 3; round++) {
    const p = startCli(['tune', file, ...(round ? ['--resume'] : []), ...(parallel && round % 2 ? ['--parallel', '2'] : [])]);
    await sleep(50 + r.int(900));
    p.child.kill(signal);
    const out = await p.exit;
    if (signal === 'SIGTERM' && out.code !== null && out.code !== 0 && out.code !== 143) {
      const bad = clearRefusal(out, 'tune after SIGTERM');
      if (bad) return bad;
      if (out.code === 130) return `tune stopped cleanly by SIGTERM exits 130 (the code of Ctrl-C)`;
    }
    for (const [n, v] of kept) if (finished(dir).get(n) !== v) return `${tuner.type}: trial ${n}'s value changed from ${v} to ${finished(dir).get(n)} after a kill`;
    for (const [n, v] of finished(dir)) kept.set(n, v);
  }
  const last = cli(['tune', file, '--resume']);
  if (last.code !== 0) return `tune --resume after ${signal}s: exit ${last.code}: ${firstLines(last.stderr)}`;
  const got = finished(dir);
  if (got.size !== want.size) return `${tuner.type}: ${got.size} trials finished after ${signal}s, ${want.size} uninterrupted`;
  for (const [n, v] of kept) if (got.get(n) !== v) return `${tuner.type}: trial ${n}'s value changed from ${v} to ${got.get(n)} on the last resume`;
  if (!parallel) for (const [n, v] of want) if (got.get(n) !== v) return `${tuner.type}: trial ${n} ended ${got.get(n)} after ${signal}s, ${v} uninterrupted`;
  const created = journalEvents(dir).filter((e) => e.type === 'created').map((e) => e.trial);
  if (new Set(created).size !== created.length) return `${tuner.type}: a trial number was created twice`;
  return undefined;
}

/** A finished study kept as a template; each corruption case works on a copy. */
let tunedTemplate;
function tunedCopy(tag) {
  if (!tunedTemplate) {
    tunedTemplate = freshDir('tuned-template');
    writeData(tunedTemplate);
    const r = cli(['tune', writeStudy(tunedTemplate)]);
    if (r.code !== 0) throw new Error(`template run failed: ${r.stderr}`);
  }
  const dir = freshDir(tag);
  cpSync(tunedTemplate, dir, { recursive: true });
  return { dir, file: join(dir, 'demo.trialbook.json'), journal: join(dir, '.trialbook', 'demo', 'journal.jsonl'), lock: join(dir, '.trialbook', 'demo', 'journal.lock') };
}

function deadPid() {
  return spawnSync(process.execPath, ['-e', '0']).pid;
}

const CORRUPTIONS = {
  'journal cut at a random byte': (s, r) => truncateSync(s.journal, r.int(statSync(s.journal).size)),
  'journal cut at its last newline': (s) => truncateSync(s.journal, statSync(s.journal).size - 1),
  'garbage appended to the journal': (s, r) => writeFileSync(s.journal, Buffer.from(Array.from({ length: 1 + r.int(200) }, () => r.int(256))), { flag: 'a' }),
  'bytes flipped in the journal': (s, r) => {
    const b = readFileSync(s.journal);
    for (let k = 0; k < 1 + r.int(5); k++) b[r.int(b.length)] = r.int(256);
    writeFileSync(s.journal, b);
  },
  'journal.jsonl is a folder': (s) => {
    rmSync(s.journal);
    mkdirSync(s.journal);
  },
  'garbage lock file': (s, r) => writeFileSync(s.lock, r.pick(['', 'garbage', '{"pid":', '\x00\x01\x02', 'null'])),
  'lock of a dead process': (s) => writeFileSync(s.lock, JSON.stringify({ pid: deadPid(), hostname: hostname(), started: '2020-01-01T00:00:00Z', command: 'trialbook tune demo' })),
  'journal.lock is a folder': (s) => mkdirSync(s.lock),
  'study file cut short': (s, r) => truncateSync(s.file, r.int(statSync(s.file).size)),
  'study file with a UTF-8 BOM': (s) => writeFileSync(s.file, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), readFileSync(s.file)])),
};

/**
 * The finished trials the damage itself spared: both their `created` and `finished` lines are
 * still in the journal as written (a trial whose parameters were destroyed cannot be kept).
 */
function spared(journal, originalText) {
  const now = existsSync(journal) && !statSync(journal).isDirectory() ? readFileSync(journal, 'utf8') : '';
  const lines = now.split('\n');
  const whole = new Set(lines.slice(0, -1));
  // The last line may lack only its newline (the file was cut right there): still the same event.
  if (lines.at(-1)) whole.add(lines.at(-1));
  const kept = new Map();
  const created = new Set();
  for (const line of originalText.split('\n')) {
    if (!whole.has(line)) continue;
    const e = JSON.parse(line);
    if (e.type === 'created') created.add(e.trial);
    if (e.type === 'finished' && created.has(e.trial)) kept.set(e.trial, e.value);
  }
  return kept;
}

/** Kept: every trial finished in the journal and spared by the damage stays finished with the same value. */
function corruptCase(name, seed) {
  const r = rng(seed);
  const s = tunedCopy('corrupt');
  const original = readFileSync(s.journal, 'utf8');
  CORRUPTIONS[name](s, r);
  const cut = spared(s.journal, original);
  const rep = cli(['report', s.file, '--format', 'json']);
  let bad = clearRefusal(rep, `report after "${name}"`);
  if (bad) return bad;
  if (rep.code === 0) {
    const trials = JSON.parse(rep.stdout).trials;
    for (const [n, v] of cut) {
      const t = trials.find((x) => x.number === n);
      if (!t || t.state !== 'complete' || t.value !== v) return `report after "${name}": trial ${n} (finished, ${v}) shows as ${t ? `${t.state} ${t.value}` : 'missing'}`;
    }
    const running = trials.filter((x) => x.state === 'running');
    if (running.length) return `report after "${name}": trial ${running[0].number} shows as running with no process running it`;
  }
  const res = cli(['tune', s.file, '--resume']);
  bad = clearRefusal(res, `tune --resume after "${name}"`);
  if (bad) return bad;
  if (res.code === 0) {
    const after = finished(s.dir);
    for (const [n, v] of cut) if (after.get(n) !== v) return `tune --resume after "${name}": trial ${n} was ${v}, now ${after.get(n)}`;
  }
  return undefined;
}

// Inputs: data files, study files, notes files, output paths.

function randomText(r, n) {
  const alphabet = ['a', 'b', ' ', '\t', ',', '"', '\n', '\r\n', '리', '뷰', '0', '1', ';', '\u00e9', '\ufeff'];
  return Array.from({ length: n }, () => r.pick(alphabet)).join('');
}

const DATA_FUZZ = {
  'random bytes': (r) => Buffer.from(Array.from({ length: 1 + r.int(4000) }, () => r.int(256))),
  'random text': (r) => Buffer.from(`text\tlabel\n${randomText(r, 1 + r.int(3000))}`),
  'EUC-KR data': () => iconv.encode('text\tlabel\n좋은 게임\t1\n별로다\t0\n', 'cp949'),
  'UTF-16 data': () => Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('text\tlabel\n좋은 게임\t1\n', 'utf16le')]),
  'one class': (r) => Buffer.from(['text\tlabel', ...Array.from({ length: 20 + r.int(50) }, (_, i) => `리뷰 ${i}\t1`)].join('\n') + '\n'),
  'every text conflicting': () => Buffer.from(['text\tlabel', ...Array.from({ length: 20 }, (_, i) => `같은 리뷰 ${i % 10}\t${i < 10 ? 1 : 0}`)].join('\n') + '\n'),
  'labels 1 and 1.0': () => Buffer.from(['text\tlabel', ...Array.from({ length: 40 }, (_, i) => `리뷰 ${i}\t${['1', '1.0', '0', '00'][i % 4]}`)].join('\n') + '\n'),
  'a 10 MB line': () => Buffer.alloc(10_000_000, 0x78),
};

function dataCase(name, seed) {
  const r = rng(seed);
  const dir = freshDir('data');
  const input = join(dir, 'in.tsv');
  writeFileSync(input, DATA_FUZZ[name](r));
  const started = Date.now();
  const s = cli(['split', '--input', input, '--text-col', 'text', '--label-col', 'label', '--out', join(dir, 'out')]);
  const ms = Date.now() - started;
  const bad = oneLine(s, `split of "${name}"`);
  if (bad) return bad;
  if (ms > 8000) return `split of "${name}" took ${ms} ms`;
  if (name === 'labels 1 and 1.0' && !/warning: labels/.test(s.stdout)) return 'labels "1" and "1.0" became two classes without a warning';
  if (name === 'every text conflicting' && /\(none\)/.test(s.stderr)) return `all-conflicting labels explained as "(none)": ${firstLines(s.stderr)}`;
  return undefined;
}

/** What a valid search-space entry is (names and ranges from the README); plan must refuse the rest. */
const VALID = {
  learning_rate: (v) => typeof v === 'number' && v > 0,
  dropout_rate: (v) => typeof v === 'number' && v >= 0 && v <= 0.9,
  batch_size: (v) => Number.isInteger(v) && v >= 1,
  warmup_steps: (v) => Number.isInteger(v) && v >= 0,
};
const STUDY_FUZZ = {
  'misspelt hyperparameter': () => ({ searchSpace: { learnig_rate: SPACE.learning_rate } }),
  'learning_rate fixed at 0': () => ({ searchSpace: { learning_rate: { type: 'fixed', value: 0 } } }),
  'batch_size [0]': () => ({ searchSpace: { batch_size: { type: 'choice', values: [0] } } }),
  'batch_size ["32"]': () => ({ searchSpace: { batch_size: { type: 'choice', values: ['32'] } } }),
  'dropout 0..5': () => ({ searchSpace: { dropout_rate: { type: 'float', low: 0, high: 5 } } }),
  'random range': (r) => {
    const name = r.pick(Object.keys(VALID));
    const low = r.pick([-1, 0, 0.1, 1, 16, 1e-6]);
    return { searchSpace: { [name]: { type: r.pick(['float', 'int']), low, high: low + r.pick([0.5, 1, 10, 100]) } } };
  },
  'name "."': () => ({ name: '.' }),
  'name ".."': () => ({ name: '..' }),
};
function acceptable(fields) {
  if (/^\.+$/.test(fields.name ?? 'demo')) return false;
  for (const [name, d] of Object.entries(fields.searchSpace ?? {})) {
    const ok = VALID[name];
    if (!ok) return false;
    const values = d.type === 'fixed' ? [d.value] : d.type === 'choice' ? d.values : [d.low, d.high];
    if (!values.every(ok)) return false;
    if (d.type === 'float' && (name === 'batch_size' || name === 'warmup_steps')) return false;
  }
  return true;
}

function studyCase(name, seed) {
  const r = rng(seed);
  const dir = freshDir('study');
  writeData(dir);
  const fields = STUDY_FUZZ[name](r);
  const file = writeStudy(dir, fields);
  const p = cli(['plan', file]);
  const bad = clearRefusal(p, `plan with ${name}`);
  if (bad) return bad;
  if (p.code === 0 && !acceptable({ ...fields, searchSpace: fields.searchSpace ?? {} })) return `plan accepted a study with ${name} (${JSON.stringify(fields)}): the study would burn trials on it`;
  if (name.startsWith('name')) {
    const t = cli(['tune', file, '--n-trials', '1']);
    if (t.code === 0 || existsSync(join(dir, 'trials')) || existsSync(join(dir, 'journal.jsonl'))) return `study ${name} ran and wrote into the project folder`;
  }
  return undefined;
}

async function oneClassTune() {
  const dir = freshDir('one-class');
  writeFileSync(join(dir, 'd.tsv'), ['text\tlabel', ...Array.from({ length: 30 }, (_, i) => `리뷰 ${i}\t1`)].join('\n') + '\n');
  writeFileSync(join(dir, 'v.txt'), '[PAD]\n[UNK]\n[CLS]\n[SEP]\n리\n뷰\n');
  const env = { ...process.env };
  delete env.TRIALBOOK_TEST_OBJECTIVE;
  const t = cli(['tune', writeStudy(dir, { model: 'tiny', training: { epochs: 1, max_seq_len: 8 }, budget: { maxTrials: 2 } })], { env, timeout: 300_000, cli: REAL_CLI });
  const bad = oneLine(t, 'tune on one-class data');
  if (bad) return bad;
  const failed = journalEvents(dir).filter((e) => e.type === 'failed').length;
  if (t.code === 0 || failed) return `tune on one-class data: exit ${t.code}, ${failed} trials failed on it instead of one error before the first`;
  return undefined;
}

const NOTES_ENCODINGS = [
  ['UTF-8', (s) => Buffer.from(s, 'utf8'), (b) => b.toString('utf8')],
  ['UTF-8 BOM', (s) => Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(s, 'utf8')]), (b) => b.subarray(3).toString('utf8')],
  ['UTF-16LE', (s) => Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(s, 'utf16le')]), (b) => b.subarray(2).toString('utf16le')],
  ['EUC-KR', (s) => iconv.encode(s, 'cp949'), (b) => iconv.decode(b, 'cp949')],
  ['Latin-1', (s) => iconv.encode(s.replace(/[^\x00-\xff]/g, 'e'), 'latin1'), (b) => iconv.decode(b, 'latin1')],
];
const NOTES_TEXT = ['# 실험 노트\n', '학습률 5e-5에서 시작.\n', 'café crème\n', '![[plot.png]] and [[link]]\n', '\n', '=======\n', 'Some text\r\n', '- item — dash\n'];

function notesCase(seed) {
  const r = rng(seed);
  const s = tunedCopy('notes');
  const [enc, encode, decode] = r.pick(NOTES_ENCODINGS);
  const text = Array.from({ length: 2 + r.int(8) }, () => r.pick(NOTES_TEXT)).join('');
  const before = encode(text);
  const layout = r.pick(['plain', 'symlink', 'hardlink', 'mode 0600', 'read-only']);
  const real = layout === 'symlink' ? join(s.dir, 'vault', 'notes.md') : join(s.dir, 'notes.md');
  mkdirSync(dirname(real), { recursive: true });
  writeFileSync(real, before);
  if (layout === 'symlink') symlinkSync(join('vault', 'notes.md'), join(s.dir, 'notes.md'));
  if (layout === 'hardlink') linkSync(real, join(s.dir, 'twin.md'));
  if (layout === 'mode 0600') chmodSync(real, 0o600);
  if (layout === 'read-only') chmodSync(real, 0o444);
  const what = `report --notes on ${enc} notes (${layout})`;
  const rep = cli(['report', s.file, '--notes']);
  const bad = oneLine(rep, what);
  if (bad) return bad;
  const after = readFileSync(real);
  if (rep.code !== 0) return Buffer.compare(after, before) === 0 ? undefined : `${what}: refused, but the file changed`;
  if (layout === 'read-only') return `${what}: a read-only file was written`;
  if (Buffer.compare(after.subarray(0, before.length), before) !== 0) return `${what}: bytes before the block changed`;
  // Notes in plain ASCII are UTF-8 as much as anything else: the block may be written in UTF-8.
  const shown = before.every((b) => b < 0x80) ? after.toString('utf8') : decode(after);
  if (!shown.includes('<!-- trialbook:begin study=demo -->')) return `${what}: the block is not readable in the file's own encoding`;
  if (shown.includes('\ufffd') && !text.includes('\ufffd')) return `${what}: replacement characters (U+FFFD) in the file`;
  if (layout === 'symlink' && !lstatSync(join(s.dir, 'notes.md')).isSymbolicLink()) return `${what}: the symlink was replaced by a file`;
  if (layout === 'hardlink' && Buffer.compare(readFileSync(join(s.dir, 'twin.md')), after) !== 0) return `${what}: the hard link was broken`;
  if (layout === 'mode 0600' && (statSync(real).mode & 0o777) !== 0o600) return `${what}: mode 0600 became ${(statSync(real).mode & 0o777).toString(8)}`;
  return undefined;
}

const OUTPUT_FAULTS = {
  'split --out FILE/sub': (d) => ['split', '--input', join(d, 'd.tsv'), '--text-col', 'text', '--label-col', 'label', '--out', join(d, 'd.tsv', 'sub')],
  'tokenize --out .': (d) => ['tokenize', '--vocab', join(d, 'v.txt'), '--input', join(d, 'd.tsv'), '--max-len', '16', '--out', d],
  'predict --out DIR': (d) => ['predict', '--model', join(d, 'model'), '--input', join(d, 'd.tsv'), '--out', d],
  'report > /dev/full': (d) => ({ argv: ['report', join(d, 'demo.trialbook.json')], full: true }),
  'tune > /dev/full': (d) => ({ argv: ['tune', join(d, 'demo.trialbook.json'), '--resume', '--n-trials', '8'], full: true }),
  'unknown option': () => ['split', '--bogus'],
  'missing argument': () => ['report'],
};

function outputCase(name) {
  const s = tunedCopy('output');
  const spec = OUTPUT_FAULTS[name](s.dir);
  const argv = Array.isArray(spec) ? spec : spec.argv;
  let r;
  if (!Array.isArray(spec) && spec.full) {
    const fd = openSync('/dev/full', 'w');
    try {
      r = cli(argv, { stdio: ['ignore', fd, 'pipe'] });
    } finally {
      closeSync(fd);
    }
  } else r = cli(argv);
  if (r.code === 0) return `${name}: exit 0`;
  return oneLine(r, name);
}

/** The lock race test's hook: the first process is held between "this lock is stale" and its delete. */
const HOLD_BEFORE_DELETE = join(dirname(fileURLToPath(import.meta.url)), '..', 'test', 'store', 'fixtures', 'delay-lock-unlink.cjs');

async function waitUntil(cond, ms) {
  const until = Date.now() + ms;
  while (!cond() && Date.now() < until) await sleep(20);
}

/** Two `tune --resume` over one stale lock: started together by luck, or with the first held in the gap. */
async function lockRace(seed, held) {
  const r = rng(seed);
  const s = tunedCopy('race');
  rmSync(join(s.dir, '.trialbook', 'demo', 'trials'), { recursive: true, force: true });
  writeFileSync(s.journal, '');
  writeFileSync(s.lock, JSON.stringify({ pid: deadPid(), hostname: hostname(), started: '2020-01-01T00:00:00Z', command: 'trialbook tune demo' }));
  const mark = join(s.dir, 'held');
  const go = join(s.dir, 'go');
  const slow = { ...QUAD, TRIALBOOK_TEST_EPOCH_MS: '100' };
  const a = startCli(['tune', s.file, '--resume'], held ? { ...slow, NODE_OPTIONS: `--require ${HOLD_BEFORE_DELETE}`, TB_DELAY_MARK: mark, TB_DELAY_GO: go } : slow);
  if (held) await waitUntil(() => existsSync(mark) || a.out.code !== undefined, 20_000);
  else await sleep(r.int(30));
  const b = startCli(['tune', s.file, '--resume'], slow);
  if (held) {
    await waitUntil(() => b.out.code !== undefined || /^trial 0 \(/m.test(b.out.stdout), 20_000);
    writeFileSync(go, '');
  }
  const [oa, ob] = await Promise.all([a.exit, b.exit]);
  for (const o of [oa, ob]) {
    const bad = clearRefusal(o, 'tune --resume racing another over a stale lock');
    if (bad) return bad;
  }
  const created = journalEvents(s.dir).filter((e) => e.type === 'created').map((e) => e.trial);
  if (new Set(created).size !== created.length) return `two tune --resume both took a stale lock: trial numbers created twice (${created.join(',')})`;
  return undefined;
}

async function killedWriters(seed) {
  // A kill during split or report --notes leaves a temporary file; the next run must not keep it.
  const r = rng(seed);
  const dir = freshDir('killed-writer');
  const rows = ['text\tlabel', ...Array.from({ length: 40_000 }, (_, i) => `게임 리뷰 ${i} ${'재밌다 '.repeat(1 + (i % 5))}\t${i % 2}`)];
  writeFileSync(join(dir, 'd.tsv'), rows.join('\n') + '\n');
  const out = join(dir, 'out');
  const argv = ['split', '--input', join(dir, 'd.tsv'), '--text-col', 'text', '--label-col', 'label', '--out', out];
  const p = startCli(argv);
  await sleep(100 + r.int(1500));
  p.child.kill('SIGKILL');
  await p.exit;
  const again = cli([...argv, '--force']);
  if (again.code !== 0) return `split after a killed split: exit ${again.code}: ${firstLines(again.stderr)}`;
  const left = existsSync(out) ? readdirSync(out).filter((n) => n.endsWith('.tmp')) : [];
  // Plant one more, as a kill at the rename would: the next run sweeps it.
  if (left.length) return `temporary files left after the next split: ${left.join(', ')}`;
  const planted = join(out, `.train.tsv.${deadPid()}.1700000000000.tmp`);
  writeFileSync(planted, 'half');
  cli([...argv, '--force']);
  if (existsSync(planted)) return 'a dead writer\'s temporary train.tsv is kept for good';
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// The campaign

const plan = [];
const add = (category, name, run) => plan.push({ category, name, run });
const n = (k) => Math.max(1, Math.round(k * SCALE));
for (let i = 0; i < n(30); i++) {
  const s = R.int(1e9);
  add('kill', `kill tune at random moments (seed ${s})`, () => killAndResume(s));
}
for (const name of Object.keys(CORRUPTIONS)) {
  for (let i = 0; i < n(name.includes('random') || name.includes('flipped') || name.includes('garbage') ? 6 : 2); i++) {
    const s = R.int(1e9);
    add('corrupt', `${name} (seed ${s})`, () => corruptCase(name, s));
  }
}
for (const name of Object.keys(DATA_FUZZ)) {
  for (let i = 0; i < n(name.startsWith('random') ? 10 : 1); i++) {
    const s = R.int(1e9);
    add('data', `${name} (seed ${s})`, () => dataCase(name, s));
  }
}
for (const name of Object.keys(STUDY_FUZZ)) {
  for (let i = 0; i < n(name === 'random range' ? 12 : 1); i++) {
    const s = R.int(1e9);
    add('study', `${name} (seed ${s})`, () => studyCase(name, s));
  }
}
add('study', 'one-class data file, real objective', () => oneClassTune());
for (let i = 0; i < n(30); i++) {
  const s = R.int(1e9);
  add('notes', `notes (seed ${s})`, () => notesCase(s));
}
for (const name of Object.keys(OUTPUT_FAULTS)) add('output', name, () => outputCase(name));
for (let i = 0; i < n(12); i++) {
  const s = R.int(1e9);
  const held = i % 2 === 1;
  add('lock', `two tune --resume over a stale lock${held ? ', the first held before its delete' : ''} (seed ${s})`, () => lockRace(s, held));
}
for (let i = 0; i < n(4); i++) {
  const s = R.int(1e9);
  add('temp', `split killed, then run again (seed ${s})`, () => killedWriters(s));
}

const byCategory = {};
const failures = [];
const started = Date.now();
for (const c of plan) {
  if (ONLY.length && !ONLY.includes(c.category)) continue;
  const cat = (byCategory[c.category] ??= { cases: 0, failures: 0 });
  cat.cases++;
  let why;
  try {
    why = await c.run();
  } catch (e) {
    why = `the campaign itself failed: ${e?.stack ?? e}`;
  }
  if (why) {
    cat.failures++;
    failures.push({ category: c.category, case: c.name, failure: why });
  }
  process.stderr.write(`${why ? 'FAIL' : 'ok  '} ${c.category}: ${c.name}${why ? ` — ${why}` : ''}\n`);
}
const cases = Object.values(byCategory).reduce((a, c) => a + c.cases, 0);
const summary = {
  root: ROOT,
  seed: SEED,
  scale: SCALE,
  cases,
  failures: failures.length,
  seconds: Math.round((Date.now() - started) / 1000),
  byCategory,
  firstFailures: failures.slice(0, 25),
  rerun: `node scripts/faults.mjs --root ${ROOT} --seed ${SEED}${SCALE !== 1 ? ` --scale ${SCALE}` : ''}`,
};
process.stdout.write(JSON.stringify(summary, null, 2) + '\n');
rmSync(WORK, { recursive: true, force: true });
process.exitCode = failures.length ? 1 : 0;
