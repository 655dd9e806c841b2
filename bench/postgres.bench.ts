/**
 * Shared-study throughput on a real PostgreSQL (a throwaway cluster from
 * scripts/pg-test-cluster.sh, or TRIALBOOK_BENCH_PG_URL): 1, 2, 4, 8 `trialbook worker`
 * processes on the cheap test objective (3 epochs × TRIALBOOK_BENCH_EPOCH_MS, default 30 ms),
 * against Optuna's RDBStorage on the same server running the same objective in as many
 * processes (bench/peers/optuna_rdb.py, Debian python3-optuna + python3-psycopg2).
 *
 * Throughput is measured in the steady window where every worker is running (from the last
 * worker's first trial start to the first worker's last trial end), so process start-up is not
 * counted for either side. Claim latency: Trialbook's claim transaction (replay + tuner +
 * create/start) vs Optuna's `study.ask()`. Storage overhead: the per-trial cycle of one worker on
 * a zero-cost objective (everything but the training: storage round trips, tuner, bookkeeping).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { quadraticEnv, spawnCli, writeStudyFile } from '../test/cli/worker-fixtures';
import { freePort } from '../test/helpers';
import { pgQuery as query } from '../test/store/pg-util';

const root = resolve(__dirname, '..');
const EPOCHS = 3;

type Span = { worker: string; start: number; end: number };

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? Math.round(s[Math.min(s.length - 1, Math.floor(p * s.length))]! * 100) / 100 : NaN;
}

/** Trials per second in the window where all workers run (fractional trials at the edges). */
function steadyThroughput(spans: Span[]): { trialsPerS: number; windowS: number } {
  const byWorker = new Map<string, Span[]>();
  for (const s of spans) byWorker.set(s.worker, [...(byWorker.get(s.worker) ?? []), s]);
  const from = Math.max(...[...byWorker.values()].map((l) => Math.min(...l.map((s) => s.start))));
  const to = Math.min(...[...byWorker.values()].map((l) => Math.max(...l.map((s) => s.end))));
  if (!(to > from)) return { trialsPerS: NaN, windowS: 0 };
  let trials = 0;
  for (const s of spans) {
    const overlap = Math.min(s.end, to) - Math.max(s.start, from);
    if (overlap > 0) trials += overlap / Math.max(1e-9, s.end - s.start);
  }
  return { trialsPerS: trials / ((to - from) / 1000), windowS: (to - from) / 1000 };
}

/** One-worker cycle: wall time per trial from first start to last end (ms). */
function cycleMs(spans: Span[]): number {
  const from = Math.min(...spans.map((s) => s.start));
  const to = Math.max(...spans.map((s) => s.end));
  return (to - from) / spans.length;
}

async function trialbookRun(url: string, dir: string, workers: number, trials: number, epochMs: number): Promise<{ spans: Span[]; claimMs: number[]; complete: number }> {
  const name = `tb_w${workers}_e${epochMs}`;
  const file = writeStudyFile(dir, name, { epochs: EPOCHS, maxTrials: 1 });
  const env = quadraticEnv(epochMs);
  const outs = await Promise.all(
    Array.from({ length: workers }, async (_, i) => {
      const c = spawnCli(['worker', file, '--storage', url, '--n-trials', String(trials), '--id', `w${i}`, '--json'], env);
      const { code } = await c.exit;
      if (code !== 0) throw new Error(`worker exited ${code}: ${c.stderr()}`);
      return c.stdout();
    }),
  );
  const claimMs = outs.flatMap((o) => o.split('\n').filter((l) => l.includes('"claimed"')).map((l) => (JSON.parse(l) as { claimMs: number }).claimMs));
  const rows = await query<{ body: { type: string; trial: number; worker?: string; at: number } }>(url, "SELECT e.body FROM trialbook_events e JOIN trialbook_studies s ON s.id = e.study_id WHERE s.name = $1 AND e.type IN ('started', 'finished') ORDER BY e.id", [name]);
  const open = new Map<number, { worker: string; start: number }>();
  const spans: Span[] = [];
  for (const { body } of rows) {
    if (body.type === 'started') open.set(body.trial, { worker: body.worker!, start: body.at });
    else if (open.has(body.trial)) spans.push({ ...open.get(body.trial)!, end: body.at });
  }
  return { spans, claimMs, complete: spans.length };
}

function optunaRun(pyUrl: string, workers: number, trials: number, epochMs: number): { spans: Span[]; askMs: number[]; tellMs: number[]; complete: number; version: string } {
  const name = `optuna_w${workers}_e${epochMs}`;
  const out = execFileSync('/usr/bin/python3', [join(__dirname, 'peers', 'optuna_rdb.py'), pyUrl, name, String(workers), String(Math.ceil(trials / workers)), String(EPOCHS), String(epochMs)], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const r = JSON.parse(out.trim().split('\n').pop()!) as { optuna: string; complete: number; workers: Array<{ spans: number[][]; ask_ms: number[]; tell_ms: number[] }> };
  const spans = r.workers.flatMap((w, i) => w.spans.map(([s, e]) => ({ worker: `p${i}`, start: s! * 1000, end: e! * 1000 })));
  return { spans, askMs: r.workers.flatMap((w) => w.ask_ms), tellMs: r.workers.flatMap((w) => w.tell_ms), complete: r.complete, version: r.optuna };
}

function hasOptuna(): boolean {
  try {
    execFileSync('/usr/bin/python3', ['-c', 'import optuna, psycopg2'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export async function run(): Promise<object> {
  if (!existsSync(join(root, 'dist', 'cli.js'))) return { error: 'dist/cli.js missing: run npm run build first' };
  let url = process.env.TRIALBOOK_BENCH_PG_URL;
  let stop = (): void => undefined;
  if (!url) {
    const dir = mkdtempSync(join(tmpdir(), 'tb-pg-bench-'));
    rmSync(dir, { recursive: true, force: true });
    const env = { ...process.env, TRIALBOOK_PG_TEST_DIR: dir, TRIALBOOK_PG_TEST_PORT: String(await freePort()) };
    const script = join(root, 'scripts', 'pg-test-cluster.sh');
    url = execFileSync('bash', [script, 'start'], { env, encoding: 'utf8' }).trim().split('\n').pop()!;
    stop = () => void execFileSync('bash', [script, 'stop'], { env, stdio: 'ignore' });
  }
  const db = `tb_bench_${Date.now()}`;
  await query(url, `CREATE DATABASE ${db}`);
  const u = new URL(url);
  u.pathname = `/${db}`;
  const dbUrl = u.toString();
  const pyUrl = dbUrl.replace(/^postgres(ql)?:/, 'postgresql+psycopg2:');
  const dir = mkdtempSync(join(tmpdir(), 'tb-bench-'));
  const epochMs = Number(process.env.TRIALBOOK_BENCH_EPOCH_MS ?? 30);
  const perWorker = Number(process.env.TRIALBOOK_BENCH_TRIALS_PER_WORKER ?? 12);
  const peer = hasOptuna();
  try {
    const rows: Array<Record<string, unknown>> = [];
    let tb1 = NaN;
    let op1 = NaN;
    for (const n of [1, 2, 4, 8]) {
      const tb = await trialbookRun(dbUrl, dir, n, perWorker * n, epochMs);
      const tbT = steadyThroughput(tb.spans).trialsPerS;
      if (n === 1) tb1 = tbT;
      const row: Record<string, unknown> = {
        workers: n,
        trials: tb.complete,
        trialbookTrialsPerS: Math.round(tbT * 100) / 100,
        trialbookScaling: Math.round((tbT / tb1) * 100) / 100,
        trialbookClaimMsP50: pct(tb.claimMs, 0.5),
        trialbookClaimMsP95: pct(tb.claimMs, 0.95),
      };
      if (peer) {
        const op = optunaRun(pyUrl, n, perWorker * n, epochMs);
        const opT = steadyThroughput(op.spans).trialsPerS;
        if (n === 1) op1 = opT;
        Object.assign(row, {
          optunaTrialsPerS: Math.round(opT * 100) / 100,
          optunaScaling: Math.round((opT / op1) * 100) / 100,
          optunaAskMsP50: pct(op.askMs, 0.5),
          optunaAskMsP95: pct(op.askMs, 0.95),
          throughputRatioVsOptuna: Math.round((tbT / opT) * 100) / 100,
        });
      }
      rows.push(row);
    }
    // Zero-cost objective, one worker: what each trial costs besides training.
    const n0 = 40;
    const tb0 = await trialbookRun(dbUrl, dir, 1, n0, 0);
    const overhead: Record<string, unknown> = { trials: n0, trialbookMsPerTrial: Math.round(cycleMs(tb0.spans) * 10) / 10, trialbookClaimMsP50: pct(tb0.claimMs, 0.5) };
    if (peer) {
      const op0 = optunaRun(pyUrl, 1, n0, 0);
      Object.assign(overhead, { optunaMsPerTrial: Math.round(cycleMs(op0.spans) * 10) / 10, optunaAskMsP50: pct(op0.askMs, 0.5), optunaTellMsP50: pct(op0.tellMs, 0.5) });
      overhead.ratioTrialbookToOptuna = Math.round(((overhead.trialbookMsPerTrial as number) / (overhead.optunaMsPerTrial as number)) * 100) / 100;
    }
    return {
      objective: `quadratic test objective, ${EPOCHS} epochs × ${epochMs} ms sleep, one metric/report per epoch; random sampler on both sides`,
      cores: cpus().length,
      peer: peer ? 'optuna RDBStorage (psycopg2), same PostgreSQL server, one process per worker' : 'absent (apt-get install python3-optuna python3-psycopg2)',
      throughput: rows,
      storageOverhead: overhead,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
    stop();
  }
}
