/**
 * Hyperband and ASHA promotions across machines that share no filesystem: `trialbook worker`
 * (and `tune`) processes, each with the study file in its own folder (its own state directory,
 * as on separate machines), on a real throwaway PostgreSQL cluster. A promoted trial continues
 * the checkpoint of the trial it was promoted from, fetched from the database when that trial
 * ran elsewhere; when the checkpoint cannot be had it trains from scratch for its whole budget,
 * and says so in the trial. Cheap objective (testing/cli.ts, the quadratic one: per-epoch
 * checkpoint file, reports the epoch it resumed from), plus one run of the real tiny model.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cliPath, runCli, runTestCli, tempDir } from '../helpers';
import { writeDemoWorkspace } from '../../src/core/demo';
import { replay } from '../../src/store/replay';
import type { StoredTrial, TrialEvent } from '../../src/store/types';
import { planHyperband } from '../../src/tuners/hyperband';
import { NO_POSTGRES, postgresInstalled, startCluster, type TestCluster } from '../store/postgres-cluster';
import { quadraticEnv, spawnCli, studyEvents, writeStudyFile } from './worker-fixtures';

const PW = 'trialbook-test-pw';
const redacted = (url: string): string => url.replace(`:${PW}@`, ':***@');

const HYPERBAND = { type: 'hyperband', max_epochs: 9, factor: 3 };
const ASHA = { type: 'asha', min_epochs: 1, max_epochs: 9, factor: 3 };

/** The same study file in a folder of its own: one "machine". */
function machine(root: string, id: string, name: string, tuner: object, maxTrials: number, extra: Record<string, unknown> = {}): string {
  const dir = join(root, id);
  mkdirSync(dir, { recursive: true });
  return writeStudyFile(dir, name, { tuner, epochs: 9, maxTrials, extra });
}

const quadratic = (epochMs = 20): NodeJS.ProcessEnv => quadraticEnv(epochMs);

interface Proc {
  code: number | null;
  stdout: string;
  stderr: string;
  json: Array<Record<string, unknown>>;
}

/** Runs the CLI as a child process without blocking the event loop (several run at once). */
async function cli(args: string[], env: NodeJS.ProcessEnv, path?: string): Promise<Proc> {
  const c = spawnCli(args, env, path);
  const { code } = await c.exit;
  return { code, stdout: c.stdout(), stderr: c.stderr(), json: c.lines() };
}

describe('promotions across machines (PostgreSQL)', { skip: postgresInstalled() ? false : NO_POSTGRES }, () => {
  let cluster: TestCluster;
  before(async () => {
    cluster = await startCluster();
  });
  after(() => cluster?.stop());

  const study = (url: string, name: string): Promise<{ events: TrialEvent[]; trials: StoredTrial[] }> => studyEvents(cluster, url, name);

  async function stored(url: string): Promise<Array<{ trial: number; attempt: number; epoch: number | null; bytes: number }>> {
    const rows = await cluster.query<{ trial: number; attempt: number; epoch: number | null; bytes: string }>(url, 'SELECT trial, attempt, epoch, bytes FROM trialbook_checkpoints ORDER BY trial, attempt');
    return rows.map((r) => ({ ...r, bytes: Number(r.bytes) }));
  }

  function assertNoDuplicates(events: TrialEvent[], trials: StoredTrial[], runs: number): void {
    assert.deepEqual(trials.map((t) => t.number), [...Array(runs).keys()], `trial numbers 0..${runs - 1}: none lost, none extra`);
    assert.ok(trials.every((t) => t.state === 'complete'), JSON.stringify(trials.filter((t) => t.state !== 'complete').map((t) => [t.number, t.state, t.error])));
    for (const type of ['created', 'finished'] as const) {
      const ns = events.filter((e) => e.type === type).map((e) => e.trial);
      assert.equal(new Set(ns).size, ns.length, `no trial ${type} twice`);
    }
  }

  /** First epoch a trial trained (its first epoch summary in the events of its last attempt). */
  function firstEpoch(events: TrialEvent[], trial: number): number | undefined {
    let starts = 0;
    let first: number | undefined;
    for (const e of events) {
      if (e.trial !== trial) continue;
      if (e.type === 'started') {
        starts++;
        first = undefined;
      } else if (e.type === 'metric' && starts && first === undefined) first = e.metric.epoch;
    }
    return first;
  }

  /** Every promoted trial continued its source's checkpoint: from the epoch the source reached. */
  function assertPromotionsResumed(events: TrialEvent[], trials: StoredTrial[]): StoredTrial[] {
    const promoted = trials.filter((t) => t.resumeFrom !== undefined);
    for (const t of promoted) {
      const src = trials.find((x) => x.number === t.resumeFrom)!;
      const what = `trial ${t.number} (promoted from ${src.number}, ${src.epochs} → ${t.epochs} epochs): ${JSON.stringify(t.checkpoint)}`;
      assert.ok(t.checkpoint && (t.checkpoint.source === 'local' || t.checkpoint.source === 'database'), what);
      assert.equal(t.checkpoint.from, src.number, what);
      assert.equal(t.checkpoint.epoch, src.epochs, what);
      assert.equal(t.result?.resumedFromEpoch, src.epochs, `${what}: the objective resumed from the source's last epoch`);
      assert.equal(firstEpoch(events, t.number), src.epochs! + 1, `${what}: first epoch trained`);
      assert.equal(t.result?.epochsRun, t.epochs! - src.epochs!, `${what}: only the extra epochs`);
      assert.deepEqual(t.params, src.params, what);
    }
    return promoted;
  }

  test('Hyperband, three machines: round 0 on one, the rest on two others; promotions fetch the checkpoints from the database; exact plan', async (t) => {
    const root = tempDir(t);
    const url = await cluster.freshDatabase();
    const a = machine(root, 'a', 'hb', HYPERBAND, 10);
    const b = machine(root, 'b', 'hb', HYPERBAND, 10);
    const c = machine(root, 'c', 'hb', HYPERBAND, 10);
    const plan = planHyperband(9, 3);
    assert.deepEqual([plan.configs, plan.runs, plan.epochs], [17, 22, 69]);

    // Machine A: only the first round of the widest bracket (9 configurations × 1 epoch).
    const first = await cli(['worker', a, '--storage', url, '--n-trials', '9', '--id', 'A', '--json'], quadratic());
    assert.equal(first.code, 0, first.stderr);
    const afterA = await stored(url);
    assert.deepEqual(afterA.map((x) => [x.trial, x.attempt, x.epoch]), [...Array(9).keys()].map((n) => [n, 1, 1]), 'each finished round-0 trial stored its checkpoint (it may be promoted)');
    assert.equal(first.json.filter((e) => e.type === 'checkpoint-stored').length, 9);
    const content = await cluster.query<{ data: Buffer }>(url, "SELECT data FROM trialbook_checkpoint_chunks WHERE trial = 0 AND file = 'quadratic.json'");
    assert.deepEqual(JSON.parse(content[0]!.data.toString('utf8')), { epoch: 1 }, 'the stored file is the epoch checkpoint itself');

    // Machines B and C: everything else, at the same time.
    const [pb, pc] = await Promise.all([cli(['worker', b, '--storage', url, '--id', 'B', '--json'], quadratic()), cli(['worker', c, '--storage', url, '--id', 'C', '--json'], quadratic())]);
    assert.equal(pb.code, 0, pb.stderr);
    assert.equal(pc.code, 0, pc.stderr);

    const { events, trials } = await study(url, 'hb');
    assertNoDuplicates(events, trials, plan.runs);
    assert.equal(new Set(trials.map((x) => JSON.stringify(x.params))).size, plan.configs, 'configurations as planned');
    const epochs = trials.reduce((s, x) => s + (x.result?.epochsRun as number), 0);
    assert.equal(epochs, plan.epochs, 'epochs trained = the plan (every promotion trained only its extra epochs)');
    const promoted = assertPromotionsResumed(events, trials);
    assert.equal(promoted.length, plan.runs - plan.configs);
    // Round 1 of the widest bracket continues A's trials, which B and C only have from the database.
    const fromA = promoted.filter((x) => x.resumeFrom! < 9);
    assert.equal(fromA.length, 3);
    for (const x of fromA) {
      assert.equal(x.checkpoint?.source, 'database', `trial ${x.number} ran on ${x.worker}, its source on A`);
      assert.ok((x.checkpoint?.bytes ?? 0) > 0);
    }
    // Later promotions: from the database exactly when the source ran on the other machine.
    for (const x of promoted) {
      const src = trials.find((y) => y.number === x.resumeFrom)!;
      assert.equal(x.checkpoint?.source, src.worker === x.worker ? 'local' : 'database', `trial ${x.number} on ${x.worker}, source ${src.number} on ${src.worker}`);
    }
    const fetched = [...pb.json, ...pc.json].filter((e) => e.type === 'checkpoint' && e.source === 'database').map((e) => e.trial as number);
    assert.deepEqual(fetched.sort((p, q) => p - q), promoted.filter((x) => x.checkpoint?.source === 'database').map((x) => x.number));
    assert.deepEqual(await stored(url), [], 'the finished Hyperband study keeps no checkpoint in the database');
    assert.ok(!(first.stdout + pb.stdout + pc.stdout + pb.stderr + pc.stderr).includes(PW), 'no password printed');
  });

  test('ASHA, three machines: the first promotion continues another machine\'s trial from the database; exact budget; consumed checkpoints deleted', async (t) => {
    const root = tempDir(t);
    const url = await cluster.freshDatabase();
    const files = ['a', 'b', 'c'].map((id) => machine(root, id, 'asha', ASHA, 14));
    // Machine A runs three bottom-rung trials, then leaves (no promotion yet: ⌊3/3⌋ = 1 needs them finished).
    const first = await cli(['worker', files[0]!, '--storage', url, '--n-trials', '3', '--id', 'A', '--json'], quadratic());
    assert.equal(first.code, 0, first.stderr);
    assert.deepEqual((await stored(url)).map((x) => x.trial), [0, 1, 2]);
    const [pb, pc] = await Promise.all(['B', 'C'].map((id, i) => cli(['worker', files[i + 1]!, '--storage', url, '--id', id, '--json'], quadratic())));
    assert.equal(pb!.code, 0, pb!.stderr);
    assert.equal(pc!.code, 0, pc!.stderr);
    const { events, trials } = await study(url, 'asha');
    assertNoDuplicates(events, trials, 14);
    const promoted = assertPromotionsResumed(events, trials);
    assert.ok(promoted.length >= 3, `promotions happened: ${promoted.map((x) => `${x.resumeFrom}→${x.number}`)}`);
    assert.ok(promoted.some((x) => (x.tag?.asha as { rung: number }).rung === 2), 'some configuration reached the top rung');
    const firstPromotion = promoted[0]!;
    assert.equal(firstPromotion.number, 3, 'the first claim after A left is a promotion');
    assert.ok(firstPromotion.resumeFrom! <= 2);
    assert.equal(firstPromotion.checkpoint?.source, 'database', 'B/C had only the database copy of A\'s trial');
    for (const x of promoted) {
      const src = trials.find((y) => y.number === x.resumeFrom)!;
      assert.equal(x.checkpoint?.source, src.worker === x.worker ? 'local' : 'database');
    }
    // Left in the database: finished sub-top trials nobody has promoted yet (a larger budget may).
    const consumed = new Set(promoted.map((x) => x.resumeFrom!));
    const expected = trials.filter((x) => x.epochs! < 9 && !consumed.has(x.number)).map((x) => x.number);
    assert.deepEqual((await stored(url)).map((x) => x.trial), expected);
  });

  test('a promotion whose source checkpoint is gone or damaged trains from scratch for its whole budget, and says so', async (t) => {
    const root = tempDir(t);
    const url = await cluster.freshDatabase();
    const a = machine(root, 'a', 'lost', HYPERBAND, 10);
    const b = machine(root, 'b', 'lost', HYPERBAND, 10);
    assert.equal((await cli(['worker', a, '--storage', url, '--n-trials', '9', '--id', 'A'], quadratic())).code, 0);
    // Trials 0-4 lose their stored checkpoint; 5-8 keep a damaged one.
    await cluster.query(url, 'DELETE FROM trialbook_checkpoints WHERE trial < 5');
    await cluster.query(url, "UPDATE trialbook_checkpoint_chunks SET data = convert_to('{\"epoch\":7}', 'UTF8')");
    const pb = await cli(['worker', b, '--storage', url, '--id', 'B'], quadratic());
    assert.equal(pb.code, 0, pb.stderr);
    const { events, trials } = await study(url, 'lost');
    assertNoDuplicates(events, trials, 22);
    const orphans = trials.filter((x) => x.resumeFrom !== undefined && x.resumeFrom < 9);
    assert.equal(orphans.length, 3);
    for (const x of orphans) {
      const what = `trial ${x.number} from ${x.resumeFrom}: ${JSON.stringify(x.checkpoint)}`;
      assert.equal(x.checkpoint?.source, 'none', what);
      assert.match(x.checkpoint?.reason ?? '', x.resumeFrom! < 5 ? /checkpoint of trial \d+ \(attempt 1\) is neither on this machine nor in the database/ : /from the database failed: .*quadratic\.json arrived damaged/, what);
      assert.equal(x.result?.resumedFromEpoch, undefined, what);
      assert.equal(firstEpoch(events, x.number), 1, `${what}: trained from epoch 1`);
      assert.equal(x.result?.epochsRun, x.epochs, `${what}: the whole budget`);
      assert.match(pb.stdout, new RegExp(`trial ${x.number}: promoted from trial ${x.resumeFrom}, but .*: training from scratch for all ${x.epochs} epochs`));
    }
    // Later promotions on B continue B's own trials from its disk.
    for (const x of trials.filter((y) => y.resumeFrom !== undefined && y.resumeFrom >= 9)) assert.equal(x.checkpoint?.source, 'local', `trial ${x.number}`);
    // The report says it too.
    const md = runCli(['report', b, '--storage', url]);
    assert.equal(md.code, 0, md.stderr);
    assert.match(md.stdout, /### Promotions trained from scratch/);
    for (const x of orphans) assert.match(md.stdout, new RegExp(`- #${x.number} \\(promoted from #${x.resumeFrom}\\): `));
    const json = JSON.parse(runCli(['report', b, '--storage', url, '--format', 'json']).stdout) as { promotions: Array<{ trial: number; source: string }> };
    assert.deepEqual(json.promotions.filter((p) => p.source === 'none').map((p) => p.trial), orphans.map((x) => x.number));
  });

  test('tune on a shared study runs as its workers on every machine: --storage or the study file, --parallel, the local tune\'s JSON lines', async (t) => {
    const root = tempDir(t);
    const url = await cluster.freshDatabase();
    const a = machine(root, 'a', 'tuned', HYPERBAND, 10);
    const b = machine(root, 'b', 'tuned', HYPERBAND, 10, { storage: url });
    const [pa, pb] = await Promise.all([cli(['tune', a, '--storage', url, '--parallel', '2', '--json'], quadratic(30)), cli(['tune', b], quadratic(30))]);
    assert.equal(pa.code, 0, pa.stderr);
    assert.equal(pb.code, 0, pb.stderr);
    const { events, trials } = await study(url, 'tuned');
    assertNoDuplicates(events, trials, 22);
    assertPromotionsResumed(events, trials);
    const workers = [...new Set(trials.map((x) => x.worker!))];
    assert.ok(workers.some((w) => /#1$/.test(w)) && workers.some((w) => /#2$/.test(w)), `--parallel 2 ran two workers: ${workers}`);
    // The local tune's JSON lines, so the editor reads a shared run like a local one.
    const types = new Set(pa.json.map((e) => e.type));
    for (const type of ['trial-started', 'metric', 'trial-finished', 'stopped', 'summary']) assert.ok(types.has(type), `tune --json prints ${type}`);
    const summary = pa.json.find((e) => e.type === 'summary')!;
    assert.equal(summary.trials, 22);
    assert.match(String(summary.storage), /^postgresql:\/\/trialbook:\*\*\*@127\.0\.0\.1:\d+\/tb_test_\w+$/);
    assert.match(pb.stdout, /^shared study tuned at postgresql:\/\/trialbook:\*\*\*@.*: (starting it|joining it \(\d+ trials so far, \d+ complete\)) as worker /m);
    assert.match(pb.stdout, /study tuned: 22 trials \(22 complete, 0 failed, 0 pruned\) — this machine ran \d+/);
    assert.ok(!(pa.stdout + pa.stderr + pb.stdout + pb.stderr).includes(PW), 'no password printed');
    // Typing tune again on a finished shared study: no "--resume" needed, nothing to run.
    const again = await cli(['tune', b], quadratic());
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /joining it \(22 trials so far, 22 complete\)/);
    assert.match(again.stdout, /this machine ran 0; nothing left to run in the study/);
    const fresh = await cli(['tune', b, '--fresh'], quadratic());
    assert.equal(fresh.code, 2);
    assert.match(fresh.stderr, /^trialbook: --fresh: study "tuned" is shared through postgresql:\/\/trialbook:\*\*\*@[^ ]+, where other machines may be running it/m);
    assert.equal(fresh.stderr.trim().split('\n').length, 1);
    assert.ok(!fresh.stderr.includes(PW));
  });

  test('--storage on report and seqlen; bad values and unknown studies are one clear line without the password', async (t) => {
    const root = tempDir(t);
    const url = await cluster.freshDatabase();
    const a = machine(root, 'a', 'lens', { type: 'random' }, 3);
    const b = machine(root, 'b', 'lens', { type: 'random' }, 3);
    const none = runCli(['report', a, '--storage', url]);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /^trialbook: postgresql:\/\/trialbook:\*\*\*@127\.0\.0\.1:\d+\/tb_test_\w+ \(study lens\): the study has no trials in this database yet/);
    // Two machines share one sequence-length study: 2 lengths × 2 repeats, each run once.
    const args = (f: string): string[] => ['seqlen', f, '--storage', url, '--lengths', '64,128', '--repeats', '2', '--epochs', '2', '--json'];
    const [sa, sb] = await Promise.all([cli(args(a), quadratic(40)), cli(args(b), quadratic(40))]);
    assert.equal(sa.code, 0, sa.stderr);
    assert.equal(sb.code, 0, sb.stderr);
    const { trials } = await study(url, 'lens');
    assert.equal(trials.length, 4);
    assert.deepEqual(trials.map((x) => `${x.params.max_seq_len}/${(x.tag?.seqlen as { repeat: number }).repeat}`).sort(), ['128/0', '128/1', '64/0', '64/1']);
    const summary = sb.json.find((e) => e.type === 'summary') as { rows: Array<{ maxLen: number; n: number }> };
    assert.deepEqual(summary.rows.map((r) => [r.maxLen, r.n]), [[64, 2], [128, 2]]);
    const report = runCli(['report', a, '--storage', url, '--format', 'json']);
    assert.equal(report.code, 0, report.stderr);
    assert.equal((JSON.parse(report.stdout) as { seqlen: { rows: unknown[] } }).seqlen.rows.length, 2);
    const bad = runCli(['report', a, '--storage', 'mysql://u:hunter2@db/x']);
    assert.equal(bad.code, 2);
    assert.equal(bad.stderr, 'trialbook: --storage: expected "journal" or a postgresql://USER:PASSWORD@HOST:PORT/DATABASE URL, got "mysql://u:***@db/x"\n');
    const wrong = new URL(url);
    wrong.password = 'n0t-it-4711';
    const denied = runTestCli(['tune', a, '--storage', wrong.toString()], { env: quadratic() });
    assert.equal(denied.code, 2);
    assert.match(denied.stderr, /^trialbook: cannot connect to PostgreSQL at postgresql:\/\/trialbook:\*\*\*@.*password authentication failed/m);
    assert.ok(!denied.stderr.includes('n0t-it-4711'));
    // The study row in the database never holds the password of a study file's storage URL.
    machine(root, 'c', 'secretive', { type: 'random' }, 1, { storage: url });
    assert.equal(runTestCli(['worker', join(root, 'c', 'secretive.trialbook.json')], { env: quadratic(5) }).code, 0);
    const spec = await cluster.query<{ spec: { storage: string } }>(url, "SELECT spec FROM trialbook_studies WHERE name = 'secretive'");
    assert.match(spec[0]!.spec.storage, /^postgresql:\/\/trialbook:\*\*\*@/);
  });

  test('migrate carries the checkpoints a promotion may still continue, both ways', async (t) => {
    const root = tempDir(t);
    const url = await cluster.freshDatabase();
    const [a, b, c] = ['a', 'b', 'c'].map((id) => machine(root, id, 'moved', HYPERBAND, 10));
    // A local study on machine A: round 0 of the widest bracket, with the local runner.
    const local = await cli(['tune', a!, '--n-trials', '9'], quadratic());
    assert.equal(local.code, 0, local.stderr);
    const up = runCli(['migrate', '--study', a!, '--to', url]);
    assert.equal(up.code, 0, up.stderr);
    assert.match(up.stdout, /copied study moved: 9 trials \(9 complete\), \d+ events, 9 checkpoints for promotions \(1 KiB\) from .* to postgresql:\/\/trialbook:\*\*\*@/);
    assert.deepEqual((await stored(url)).map((x) => [x.trial, x.attempt, x.epoch]), [...Array(9).keys()].map((n) => [n, 1, 1]));
    // Back into a fresh folder on machine C: journal and checkpoints.
    const down = runCli(['migrate', '--study', c!, '--from', url, '--to-journal']);
    assert.equal(down.code, 0, down.stderr);
    assert.match(down.stdout, /, 9 checkpoints for promotions \(1 KiB\) from postgresql:\/\/trialbook:\*\*\*@/);
    for (let n = 0; n < 9; n++) assert.deepEqual(JSON.parse(readFileSync(join(root, 'c', '.trialbook', 'moved', 'trials', String(n), 'checkpoint', 'quadratic.json'), 'utf8')), { epoch: 1 });
    // B continues the shared study: its first promotions come from the database copies of A's trials.
    const pb = await cli(['worker', b!, '--storage', url, '--n-trials', '12', '--id', 'B'], quadratic());
    assert.equal(pb.code, 0, pb.stderr);
    const shared = await study(url, 'moved');
    assert.equal(shared.trials.length, 12);
    const promotedB = assertPromotionsResumed(shared.events, shared.trials);
    assert.deepEqual(promotedB.map((x) => [x.number, x.checkpoint?.source]), [[9, 'database'], [10, 'database'], [11, 'database']]);
    // C continues its local copy: the local runner's promotions continue the fetched checkpoints.
    const pc = await cli(['tune', c!, '--resume', '--n-trials', '12'], quadratic());
    assert.equal(pc.code, 0, pc.stderr);
    const journal = readFileSync(join(root, 'c', '.trialbook', 'moved', 'journal.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as TrialEvent);
    const promotedC = assertPromotionsResumed(journal, replay(journal));
    assert.deepEqual(promotedC.map((x) => [x.number, x.checkpoint?.source]), [[9, 'local'], [10, 'local'], [11, 'local']]);
  });

  test('watch follows a shared study live from another machine, read-only, and leaves when the tuner is done', async (t) => {
    const root = tempDir(t);
    const url = await cluster.freshDatabase();
    const [a, b, w] = ['a', 'b', 'w'].map((id) => machine(root, id, 'live', HYPERBAND, 10));
    const c = spawnCli(['watch', w!, '--storage', url, '--until-done', '--json'], process.env, cliPath);
    const exited = c.exit.then(({ code }) => code);
    while (!c.stdout().includes('"type":"status"')) await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(await cluster.query(url, "SELECT to_regclass('trialbook_studies') AS t"), [{ t: null }], 'watching created nothing in the database');
    const [pa, pb] = await Promise.all([cli(['worker', a!, '--storage', url], quadratic(60)), cli(['worker', b!, '--storage', url], quadratic(60))]);
    assert.equal(pa.code, 0, pa.stderr);
    assert.equal(pb.code, 0, pb.stderr);
    assert.equal(await exited, 0, c.stderr());
    const lines = c.stdout().trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual(lines[0], { type: 'status', status: 'live', where: redacted(url) });
    assert.deepEqual(lines[lines.length - 1], { type: 'done', trials: 22, complete: 22 });
    const { events } = await study(url, 'live');
    const epochsInDb = events.filter((e) => e.type === 'metric').map((e) => `${e.trial}/${(e as { metric: { epoch: number } }).metric.epoch}`);
    const epochsSeen = lines.filter((l) => l.type === 'epoch').map((l) => `${l.trial}/${l.epoch}`);
    assert.deepEqual([...epochsSeen].sort(), [...epochsInDb].sort(), 'every epoch shown once, as the workers wrote it');
    assert.equal(epochsSeen.length, 69);
    const completed = lines.filter((l) => l.type === 'trial' && l.state === 'complete').map((l) => l.trial as number);
    assert.deepEqual(completed.sort((x, y) => x - y), [...Array(22).keys()]);
    for (const l of lines.filter((x) => x.type === 'trial' && x.state === 'complete')) {
      const last = lines.filter((x) => x.type === 'epoch' && x.trial === l.trial).pop();
      assert.ok(last && lines.indexOf(last) < lines.indexOf(l), `trial ${l.trial}: its epochs come before its completion`);
    }
    assert.ok(!(c.stdout() + c.stderr()).includes(PW));
  });

  test('real training: a Hyperband promotion on a second machine continues the first machine\'s safetensors checkpoint from the database', async (t) => {
    const root = tempDir(t);
    const url = await cluster.freshDatabase();
    const files = ['a', 'b'].map((id) => {
      const dir = join(root, id);
      writeDemoWorkspace(dir, { count: 300, seed: 1 });
      const file = join(dir, 'demo.trialbook.json');
      const s = JSON.parse(readFileSync(file, 'utf8'));
      s.training = { ...s.training, epochs: 2, max_seq_len: 32 };
      s.searchSpace = { ...s.searchSpace, freeze_body: { type: 'fixed', value: false } };
      s.tuner = { type: 'hyperband', max_epochs: 2, factor: 2 };
      writeFileSync(file, JSON.stringify(s, null, 2));
      return file;
    });
    // A: the first round of bracket s=1 (2 configurations × 1 epoch). B: the rest (a promotion, then s=0).
    const pa = await cli(['worker', files[0]!, '--storage', url, '--n-trials', '2', '--id', 'A', '--json'], process.env, cliPath);
    assert.equal(pa.code, 0, pa.stderr);
    const up = await stored(url);
    assert.deepEqual(up.map((x) => [x.trial, x.epoch]), [[0, 1], [1, 1]]);
    const names = await cluster.query<{ file: string }>(url, 'SELECT DISTINCT file FROM trialbook_checkpoint_chunks WHERE trial = 0 ORDER BY file');
    assert.deepEqual(names.map((x) => x.file), ['best-1.safetensors', 'checkpoint-1.safetensors', 'checkpoint.json']);
    const pb = await cli(['worker', files[1]!, '--storage', url, '--id', 'B', '--json'], process.env, cliPath);
    assert.equal(pb.code, 0, pb.stderr);
    const { events, trials } = await study(url, 'demo');
    assert.deepEqual(trials.map((x) => [x.number, x.state, x.epochs]), [[0, 'complete', 1], [1, 'complete', 1], [2, 'complete', 2], [3, 'complete', 2], [4, 'complete', 2]]);
    const promoted = trials[2]!;
    assert.ok(promoted.resumeFrom === 0 || promoted.resumeFrom === 1);
    assert.equal(promoted.checkpoint?.source, 'database');
    assert.equal(promoted.checkpoint?.epoch, 1);
    assert.ok(promoted.checkpoint!.bytes! > 100_000, `real tensors: ${promoted.checkpoint!.bytes} bytes`);
    assert.equal(firstEpoch(events, 2), 2, 'the promoted trial trained only epoch 2');
    assert.deepEqual(promoted.curve.map((m) => m.epoch).filter((e, i, all) => all.indexOf(e) === i), [2]);
    assert.ok(Number.isFinite(promoted.value));
    const claim = pb.json.find((e) => e.type === 'checkpoint' && e.trial === 2)!;
    assert.equal(claim.source, 'database');
    assert.deepEqual(await stored(url), []);
    // report --test scores the best model on the machine whose worker trained it, and elsewhere says where it is.
    const best = trials.filter((x) => x.state === 'complete').sort((p, q) => p.value! - q.value!)[0]!;
    const [here, there] = best.worker === 'A' ? [files[0]!, files[1]!] : [files[1]!, files[0]!];
    const ok = runCli(['report', here, '--storage', url, '--test', '--format', 'json']);
    assert.equal(ok.code, 0, ok.stderr);
    assert.ok((JSON.parse(ok.stdout) as { test: { count: number } }).test.count > 0);
    const elsewhere = runCli(['report', there, '--storage', url, '--test']);
    assert.equal(elsewhere.code, 2);
    assert.match(elsewhere.stderr, new RegExp(`the best trial \\(${best.number}\\) has no saved model on this machine to evaluate on the test split; it was trained by worker ${best.worker}: run report --test on that machine`));
  });
});
