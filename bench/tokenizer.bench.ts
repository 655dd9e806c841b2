/**
 * Tokenizer benchmark on nsmc-dev (KR-BERT char vocab, max_len 128), side by side in the same
 * run with the Python reference (BERT's FullTokenizer, do_lower_case=False, as plain Python in
 * bench/peers/bert_tokenizer.py; it is first checked to reproduce the reference ids exactly):
 * - in process: docs/s of ours vs Python (and @xenova/transformers for context);
 * - end to end: `trialbook tokenize` vs `python3 bert_tokenizer.py tokenize` (start-up, reading,
 *   writing JSONL), both outputs checked against the reference file;
 * - pipeline: split + tokenize + cache of 100,000 rows (nsmc-dev repeated with a row number
 *   appended, or generated reviews without ../shared), seconds and peak RSS, then the second run
 *   from the cache. Each pipeline run is a fresh process (child mode: `--pipeline-child DIR`).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '..');
const SHARED = resolve(ROOT, '..', 'shared');
const TSV = join(SHARED, 'data', 'nsmc-dev.tsv');
const REF = join(SHARED, 'data', 'nsmc-dev-krbert-ids-128.jsonl');
const VOCAB = join(SHARED, 'models', 'krbert-char16424', 'vocab.txt');
const PEER = join(__dirname, 'peers', 'bert_tokenizer.py');
const PY = 'python3';
const CLI = join(ROOT, 'bin', 'trialbook.js');

function wall(cmd: string, args: string[]): { seconds: number; ok: boolean; stderr: string } {
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 26 });
  return { seconds: (performance.now() - t0) / 1000, ok: r.status === 0, stderr: String(r.stderr ?? '') + String(r.error ?? '') };
}

function nsmcTexts(): string[] {
  const lines = readFileSync(TSV, 'utf8').split('\n');
  const col = lines[0].split('\t').indexOf('document');
  return lines.slice(1).filter((l) => l !== '').map((l) => l.split('\t')[col]);
}

async function inProcess(tmp: string): Promise<Record<string, unknown>> {
  const { createTokenizer, loadVocab } = await import('../src/core/tokenizer');
  const texts = nsmcTexts();
  const t0 = performance.now();
  const tok = createTokenizer(loadVocab(VOCAB));
  const setupMs = performance.now() - t0;
  let best = Infinity;
  for (let r = 0; r < 7; r++) {
    const s = performance.now();
    tok.encodeBatch(texts, 128);
    best = Math.min(best, (performance.now() - s) / 1000);
  }
  const ours = texts.length / best;
  // The Python peer must reproduce the reference before its speed means anything.
  const pyOut = join(tmp, 'py.jsonl');
  const check = wall(PY, [PEER, 'tokenize', VOCAB, TSV, '128', pyOut]);
  const peerExact = check.ok && readFileSync(pyOut).equals(readFileSync(REF));
  const py = spawnSync(PY, [PEER, 'inproc', VOCAB, TSV, '3'], { encoding: 'utf8' });
  const pyRate = py.status === 0 ? (JSON.parse(py.stdout) as { docs_per_s: number }).docs_per_s : NaN;
  // transformers.js with the same rules, for context (it differs from Python on a few inputs).
  let xenova: number | string = 'skipped';
  try {
    const { BertTokenizer } = (await import('@xenova/transformers')) as unknown as { BertTokenizer: new (j: object, c: object) => { encode(s: string): number[] } };
    const { toHuggingFaceTokenizerJson } = await import('../src/core/tokenizer');
    const hf = new BertTokenizer(toHuggingFaceTokenizerJson(loadVocab(VOCAB)), {});
    const s = performance.now();
    for (const t of texts) hf.encode(t);
    xenova = Math.round(texts.length / ((performance.now() - s) / 1000));
  } catch (e) {
    xenova = `failed: ${(e as Error).message}`;
  }
  return {
    docs: texts.length,
    ours_docs_per_s: Math.round(ours),
    ours_setup_ms: Math.round(setupMs),
    python_docs_per_s: Math.round(pyRate),
    python_peer_reproduces_reference: peerExact,
    transformers_js_docs_per_s: xenova,
    ratio_ours_over_python: +(ours / pyRate).toFixed(1),
    target_ratio: 10,
  };
}

function endToEnd(tmp: string): Record<string, unknown> {
  const oursOut = join(tmp, 'ours.jsonl');
  const pyOut = join(tmp, 'py2.jsonl');
  let ours = Infinity;
  let py = Infinity;
  for (let r = 0; r < 3; r++) {
    const a = wall(process.execPath, [CLI, 'tokenize', '--vocab', VOCAB, '--input', TSV, '--max-len', '128', '--quoting', 'none', '--out', oursOut]);
    if (!a.ok) throw new Error(`trialbook tokenize failed: ${a.stderr}`);
    ours = Math.min(ours, a.seconds);
    const b = wall(PY, [PEER, 'tokenize', VOCAB, TSV, '128', pyOut]);
    if (!b.ok) throw new Error(`python peer failed: ${b.stderr}`);
    py = Math.min(py, b.seconds);
  }
  const ref = readFileSync(REF);
  return {
    trialbook_seconds: +ours.toFixed(3),
    python_seconds: +py.toFixed(3),
    ratio_python_over_ours: +(py / ours).toFixed(2),
    target_ratio: 3,
    ours_output_identical_to_reference: readFileSync(oursOut).equals(ref),
    python_output_identical_to_reference: readFileSync(pyOut).equals(ref),
  };
}

/** 100,000 labelled rows: nsmc-dev repeated with the repeat number appended (no duplicates). */
async function writeCorpus(file: string, rows: number): Promise<string> {
  if (existsSync(TSV)) {
    const lines = readFileSync(TSV, 'utf8').split('\n').slice(1).filter((l) => l !== '');
    const out = ['text\tlabel'];
    for (let i = 0; i < rows; i++) {
      const [, doc, label] = lines[i % lines.length].split('\t');
      out.push(`${doc.replace(/"/g, '')} ${Math.floor(i / lines.length) || ''}`.trimEnd() + `\t${label}`);
    }
    writeFileSync(file, out.join('\n') + '\n');
    return 'nsmc-dev repeated';
  }
  const { reviewsTsv } = await import('../test/core/tokenizer-fixtures');
  writeFileSync(file, reviewsTsv(rows).replace(/^id\tdocument\tlabel/, 'id\ttext\tlabel'));
  return 'generated reviews';
}

async function pipeline(tmp: string): Promise<Record<string, unknown>> {
  const rows = 100_000;
  const input = join(tmp, 'big.tsv');
  const source = await writeCorpus(input, rows);
  let vocab = VOCAB;
  if (!existsSync(vocab)) {
    const { buildCharVocab } = await import('../src/core/tokenizer');
    vocab = join(tmp, 'vocab.txt');
    writeFileSync(vocab, buildCharVocab(readFileSync(input, 'utf8').split('\n').slice(1, 5001), 8000).join('\n') + '\n');
  }
  const run = (): Record<string, number | boolean> => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', __filename, '--pipeline-child', JSON.stringify({ input, vocab, dir: tmp })], { encoding: 'utf8', cwd: ROOT });
    if (r.status !== 0) throw new Error(`pipeline child failed: ${r.stderr}`);
    return JSON.parse(r.stdout.trim().split('\n').pop()!);
  };
  const first = run();
  const second = run();
  return { rows, source, max_len: 128, first_run: first, second_run_cached: second, second_over_first: +(Number(second.total_s) / Number(first.total_s)).toFixed(3) };
}

/** Child: split + encode with cache, timed, with this process's peak RSS. */
async function pipelineChild(arg: string): Promise<void> {
  const { input, vocab, dir } = JSON.parse(arg) as { input: string; vocab: string; dir: string };
  const t0 = performance.now();
  const { splitDataset } = await import('../src/core/split');
  const { loadEncodedDataset } = await import('../src/core/tokenizer');
  const t1 = performance.now();
  const split = splitDataset({ input, textColumn: 'text', labelColumn: 'label', out: join(dir, 'split'), skipBad: true }); // nsmc has a few empty reviews
  const t2 = performance.now();
  let hit = false;
  const ds = loadEncodedDataset({ splitDir: join(dir, 'split'), vocabPath: vocab, maxLen: 128, cacheDir: join(dir, 'cache'), onCache: (e) => (hit = e.hit) });
  const t3 = performance.now();
  process.stdout.write(JSON.stringify({
    split_reused: split.reused,
    cache_hit: hit,
    rows_encoded: ds.train.count + ds.val.count + ds.test.count,
    import_s: +((t1 - t0) / 1000).toFixed(3),
    split_s: +((t2 - t1) / 1000).toFixed(3),
    encode_s: +((t3 - t2) / 1000).toFixed(3),
    total_s: +((t3 - t0) / 1000).toFixed(3),
    peak_rss_mib: Math.round(process.resourceUsage().maxRSS / 1024),
  }) + '\n');
}

/** One section's failure is reported in its place, not for the whole benchmark. */
async function guard(f: () => Promise<object>): Promise<object> {
  try {
    return await f();
  } catch (e) {
    return { error: (e as Error).message };
  }
}

export async function run(): Promise<object> {
  const tmp = mkdtempSync(join(tmpdir(), 'tb-tokbench-'));
  try {
    const have = existsSync(TSV) && existsSync(REF) && existsSync(VOCAB);
    const why = 'skipped: ../shared/data/nsmc-dev.tsv, nsmc-dev-krbert-ids-128.jsonl or models/krbert-char16424/vocab.txt is absent';
    const py = spawnSync(PY, ['--version'], { encoding: 'utf8' });
    const pyWhy = py.status === 0 ? '' : 'skipped: python3 is not installed';
    return {
      peer: 'BERT FullTokenizer (BasicTokenizer + WordpieceTokenizer, do_lower_case=False) in plain Python 3: bench/peers/bert_tokenizer.py',
      in_process: !have ? why : pyWhy || (await guard(() => inProcess(tmp))),
      end_to_end: !have ? why : pyWhy || (await guard(async () => endToEnd(tmp))),
      pipeline_100k: await guard(() => pipeline(tmp)),
    };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

if (process.argv.includes('--pipeline-child')) {
  pipelineChild(process.argv[process.argv.indexOf('--pipeline-child') + 1]).catch((e) => {
    process.stderr.write(`${(e as Error).stack}\n`);
    process.exit(1);
  });
}
