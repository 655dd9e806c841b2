/**
 * A study shared through PostgreSQL in a real VS Code (code-server + Chromium): live while
 * remote workers run, read-only, a worker started from the editor, a lost connection. The
 * trials use the tests' CLI (testing/cli.ts, the cheap quadratic objective): what is under test is
 * the shared store and the editor around it. Skips without a test cluster.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pgQuery } from '../store/pg-util';
import { TcpProxy } from '../store/tcp-proxy';
import { Editor, buildVsix, e2eSkipReason } from './harness';
import { testCliPath } from '../helpers';
import { makeWorkspace } from './fixture';
import { painted, waitFor } from './steps';

const skip = e2eSkipReason();

const PG_URL = process.env.TRIALBOOK_TEST_PG_URL;
const pgSkip =
  skip ??
  (PG_URL
    ? undefined
    : 'e2e shared study: TRIALBOOK_TEST_PG_URL is not set — start a throwaway cluster with `url=$(bash scripts/pg-test-cluster.sh start | tail -n1)` and export TRIALBOOK_TEST_PG_URL="$url" (.ci/run does both) to run it');

/** Rows of the study in the shared database (0 while nobody wrote to it). */
async function studyRows(url: string, name: string): Promise<number> {
  const t = await pgQuery<{ t: string | null }>(url, "SELECT to_regclass('trialbook_studies')::text AS t");
  if (!t[0]?.t) return 0;
  return (await pgQuery(url, 'SELECT 1 FROM trialbook_studies WHERE name = $1', [name])).length;
}

test('a study shared through PostgreSQL: live while remote workers run, read-only, a worker here, a lost connection', { skip: pgSkip, timeout: 360_000 }, async (t) => {
  const url = PG_URL!;
  const password = decodeURIComponent(new URL(url).password);
  assert.ok(password.length >= 4, 'the test URL carries a password to look for');
  const tag = `${process.pid}_${Date.now().toString(36)}x`;
  const live = `live_${tag}`;
  const badpw = `badpw_${tag}`;
  const root = mkdtempSync(join(tmpdir(), 'tb-e2e-shared-'));
  const ws = join(root, 'workspace');
  const { study: demoFile, notes } = makeWorkspace(ws);
  const spec = JSON.parse(readFileSync(demoFile, 'utf8'));
  unlinkSync(demoFile);
  // The editor reaches the database through a proxy the test can cut; the workers started here
  // go straight to it (--storage), so they carry on while the editor's connection is down.
  const proxy = TcpProxy.forUrl(url);
  await proxy.start();
  const BUDGET = 18;
  const liveFile = join(ws, `${live}.trialbook.json`);
  writeFileSync(liveFile, JSON.stringify({ ...spec, name: live, storage: proxy.via(url), tuner: { type: 'random' }, budget: { maxTrials: BUDGET }, seqlen: { lengths: [32, 64], repeats: 2 } }, null, 2));
  const wrong = new URL(url);
  wrong.password = 'wrong-pw-e2e';
  writeFileSync(join(ws, `${badpw}.trialbook.json`), JSON.stringify({ ...spec, name: badpw, notes: undefined, storage: wrong.toString() }, null, 2));

  const vsix = buildVsix(join(root, 'trialbook.vsix'));
  const ed = new Editor(root, ws);
  ed.install(vsix);
  ed.useTestCli();
  const objectiveEnv = { TRIALBOOK_TEST_EPOCH_MS: '1000' };
  await ed.start(objectiveEnv);
  const pageErrors: string[] = [];
  ed.page.on('pageerror', (e) => pageErrors.push(e.message));
  const workers: Array<ReturnType<typeof spawn>> = [];
  const step = (name: string, fn: () => Promise<void>) =>
    t.test(name, async () => {
      try {
        await fn();
      } catch (e) {
        await ed.screenshot(`failed-shared-${name.replace(/[^a-z0-9]+/gi, '-').slice(0, 60)}.png`).catch(() => undefined);
        throw e;
      }
    });
  t.after(async () => {
    for (const w of workers) if (w.exitCode === null) w.kill('SIGKILL');
    await ed.stop();
    await proxy.cut();
    // The test's studies leave the shared database as they found it.
    await pgQuery(url, 'DELETE FROM trialbook_studies WHERE name = ANY($1)', [[live, badpw]]).catch(() => undefined);
    if (!process.env.TRIALBOOK_E2E_KEEP) rmSync(root, { recursive: true, force: true });
  });
  const view = ed.page.locator('.pane', { has: ed.page.locator('.pane-header', { hasText: 'Trials' }) });
  const liveRow = view.locator('.monaco-list-row', { hasText: live }).first();
  const rowText = async (): Promise<string> => (await liveRow.innerText().catch(() => '')).replace(/\s+/g, ' ');
  const completeInTree = async (): Promise<number | undefined> => {
    // The description only: the study name itself may end in digits.
    const m = /^(\d+)\/(\d+) complete/.exec(await liveRow.locator('.label-description').innerText().catch(() => ''));
    return m ? Number(m[1]) : undefined;
  };
  const banner = () => ed.dashboard().locator('#shared');

  await step('the explorer shows the shared study read-only, and one clear message for the study it cannot reach', async () => {
    await ed.command('Trialbook: Focus on Trials View');
    await waitFor('the shared study in the explorer', async () => (/0\/0 complete · best — · shared, no worker yet/.test(await rowText()) ? true : undefined), 30_000);
    const bad = view.locator('.monaco-list-row', { hasText: badpw }).first();
    await waitFor('the unreachable study marked offline', async () => (/shared, offline/.test(await bad.innerText().catch(() => '')) ? true : undefined), 30_000);
    const note = await ed.notification(new RegExp(`shared study ${badpw}: cannot connect to PostgreSQL at postgresql://trialbook:\\*\\*\\*@127\\.0\\.0\\.1:\\d+/\\w+: .*wrong user name or password`), 20_000);
    t.diagnostic(`connection message: ${note}`);
    assert.ok(!note.includes('wrong-pw-e2e') && !note.includes(password));
    // Retries go on in the background (2 s, 4 s, …) without another message.
    await ed.page.waitForTimeout(7_000);
    assert.equal(await ed.page.locator('.notifications-toasts .notification-toast', { hasText: badpw }).count(), 1, 'one message');
    assert.equal(ed.extensionLog().split('\n').filter((l) => l.includes(`[${badpw}] shared study offline`)).length, 1, 'one log line for the outage');
    // Looking is read-only: neither study exists in the database.
    assert.equal(await studyRows(url, live), 0);
    assert.equal(await studyRows(url, badpw), 0);
    await ed.screenshot('shared-study-explorer.png');
    await ed.clearNotifications();
  });

  await step('Start Tuning on a shared study offers a worker instead of tune; declining writes nothing', async () => {
    await ed.command('Trialbook: Start Tuning');
    await ed.pick(live);
    const dialog = ed.page.locator('.monaco-dialog-box', { hasText: 'shared through PostgreSQL' });
    await dialog.waitFor({ timeout: 15_000 });
    const text = (await dialog.innerText()).replace(/\s+/g, ' ');
    assert.match(text, /read-only/);
    assert.match(text, /postgresql:\/\/trialbook:\*\*\*@127\.0\.0\.1:\d+\//);
    assert.ok(!text.includes(password));
    assert.equal(await dialog.locator('.monaco-button', { hasText: 'Run a Worker Here' }).count(), 1);
    await ed.screenshot('shared-study-offer-worker.png');
    await dialog.locator('.monaco-button', { hasText: 'Cancel' }).first().click();
    await dialog.waitFor({ state: 'hidden', timeout: 5_000 });
    await ed.page.waitForTimeout(1_500);
    assert.equal(await studyRows(url, live), 0, 'nothing written to the database');
    assert.equal(existsSync(join(ws, '.trialbook', live, 'journal.jsonl')), false, 'no local journal either');
    assert.ok(!ed.extensionLog().includes('run: trialbook'), 'no run started');
  });

  await step('the dashboard shows the shared study with its connection, password hidden', async () => {
    await ed.command('Trialbook: Open Dashboard');
    await ed.pick(live);
    await waitFor('the shared banner', async () => ((await banner().getAttribute('data-status').catch(() => null)) === 'live' ? true : undefined), 20_000);
    const text = await banner().innerText();
    assert.match(text, /Shared study at postgresql:\/\/trialbook:\*\*\*@127\.0\.0\.1:\d+\/\w+, read-only here · no worker has started it yet/);
  });

  const seenTree = new Set<number>();
  const seenDash = new Set<number>();
  const sample = async (): Promise<void> => {
    const n = await completeInTree();
    if (n !== undefined) seenTree.add(n);
    const rows = await ed.dashboard().locator('#trials tbody tr.state-complete').count().catch(() => -1);
    if (rows >= 0) seenDash.add(rows);
  };

  const between = (xs: Set<number>, lo: number) => [...xs].filter((n) => n > lo && n < BUDGET).sort((a, b) => a - b);
  const startWorker = (id: string): void => {
    const w = spawn(process.execPath, [testCliPath, 'worker', liveFile, '--storage', url, '--id', id, '--json'], { env: { ...process.env, ...objectiveEnv }, stdio: ['ignore', 'ignore', 'pipe'] });
    w.stderr!.on('data', (d) => t.diagnostic(`${id}: ${String(d).trim()}`));
    workers.push(w);
  };

  await step('Run a Worker Here, plus a worker started from the test: the explorer and the dashboard count trials live', async () => {
    await ed.command('Trialbook: Resume');
    await ed.pick(live);
    const dialog = ed.page.locator('.monaco-dialog-box', { hasText: 'shared through PostgreSQL' });
    await dialog.locator('.monaco-button', { hasText: 'Run a Worker Here' }).first().click();
    // The editor's worker claims the first trial (it creates the study in the database).
    await ed.page.locator('.statusbar-item', { hasText: new RegExp(`${live}: trial #\\d+`) }).first().waitFor({ timeout: 60_000 });
    startWorker('e2e-a');
    await waitFor('the count growing through 3 values in both views', async () => {
      await sample();
      return between(seenTree, 0).length >= 3 && between(seenDash, 0).length >= 3 ? true : undefined;
    }, 90_000, 200);
    t.diagnostic(`complete counts seen live: explorer ${[...seenTree].join(',')}; dashboard ${[...seenDash].join(',')}`);
    assert.match(await rowText(), /shared, (2 workers|1 worker) running/);
    assert.equal(await banner().getAttribute('data-status'), 'live');
    assert.ok(Number(await banner().getAttribute('data-workers')) >= 1);
  });

  let atRecovery = 0;
  await step('the editor loses the database: one message, the last trials stay, and the view recovers by itself', async () => {
    await ed.clearNotifications();
    await proxy.cut();
    const cutAt = Date.now();
    await waitFor('offline in the explorer', async () => (/shared, offline/.test(await rowText()) ? true : undefined), 30_000);
    await waitFor('offline on the dashboard', async () => ((await banner().getAttribute('data-status').catch(() => null)) === 'offline' ? true : undefined), 10_000);
    const note = await ed.notification(new RegExp(`shared study ${live}: lost the connection to PostgreSQL at postgresql://trialbook:\\*\\*\\*@127\\.0\\.0\\.1:${proxy.port}/`), 20_000);
    t.diagnostic(`offline after ${Date.now() - cutAt} ms: ${note}`);
    const bannerText = await banner().innerText();
    assert.match(bannerText, /is offline: .* showing the trials read at/);
    assert.ok(!note.includes(password) && !bannerText.includes(password));
    assert.ok((await completeInTree())! >= 3, 'the trials read last are still shown');
    await ed.screenshot('shared-study-offline.png');
    // Retries go on (and the worker started here goes on, straight to the database).
    await ed.page.waitForTimeout(2_000);
    assert.equal(await ed.page.locator('.notifications-toasts .notification-toast', { hasText: `${live}: lost the connection` }).count(), 1, 'one message for the outage');
    assert.equal(ed.extensionLog().split('\n').filter((l) => l.includes(`[${live}] shared study offline`)).length, 1, 'one log line for the outage');
    await proxy.start();
    const backAt = Date.now();
    await waitFor('live again', async () => {
      const row = await rowText();
      return /complete · best .* · shared/.test(row) && !/offline|connecting/.test(row) ? true : undefined;
    }, 45_000);
    await waitFor('live again on the dashboard', async () => ((await banner().getAttribute('data-status').catch(() => null)) === 'live' ? true : undefined), 10_000);
    atRecovery = (await completeInTree())!;
    t.diagnostic(`back online ${Date.now() - backAt} ms after the connection returned, ${atRecovery} complete`);
    assert.ok(atRecovery < BUDGET - 2, `trials left to watch after the outage (${atRecovery} complete)`);
  });

  await step(`one more worker: the count reaches the budget (${BUDGET}) in the explorer and the dashboard without a reload`, async () => {
    seenTree.clear();
    seenDash.clear();
    startWorker('e2e-b');
    await waitFor(`${BUDGET}/${BUDGET} complete in the explorer`, async () => {
      await sample();
      return new RegExp(`${BUDGET}/${BUDGET} complete`).test(await rowText()) ? true : undefined;
    }, 120_000, 200);
    await waitFor(`${BUDGET} complete rows on the dashboard`, async () => {
      await sample();
      return (await ed.dashboard().locator('#trials tbody tr.state-complete').count()) === BUDGET ? true : undefined;
    }, 20_000, 200);
    assert.equal(await ed.dashboard().locator('#count').innerText(), `${BUDGET} / ${BUDGET}`);
    t.diagnostic(`complete counts seen after the outage: explorer ${[...seenTree].sort((a, b) => a - b).join(',')}; dashboard ${[...seenDash].sort((a, b) => a - b).join(',')}`);
    assert.ok(between(seenTree, atRecovery).length >= 1, `the explorer kept counting after the outage (saw ${[...seenTree].join(',')})`);
    assert.ok(between(seenDash, atRecovery).length >= 1, `the dashboard kept counting after the outage (saw ${[...seenDash].join(',')})`);
    // Everybody leaves when the budget is spent; the editor says so for its worker.
    await ed.notification(new RegExp(`Worker for ${live} finished: nothing is left to run`), 60_000);
    for (const w of workers) if (w.exitCode === null) await new Promise((r) => w.once('exit', r));
    assert.deepEqual(workers.map((w) => w.exitCode), [0, 0]);
    const rows = await pgQuery<{ worker: string; n: string }>(url, "SELECT e.body->>'worker' AS worker, count(DISTINCT e.trial) AS n FROM trialbook_events e JOIN trialbook_studies s ON s.id = e.study_id WHERE s.name = $1 AND e.type = 'started' GROUP BY 1 ORDER BY 1", [live]);
    t.diagnostic(`trials started per worker: ${rows.map((r) => `${r.worker} ${r.n}`).join(', ')}`);
    assert.ok(rows.some((r) => r.worker === 'e2e-a') && rows.some((r) => r.worker === 'e2e-b'));
    assert.ok(rows.some((r) => !r.worker.startsWith('e2e-')), "the editor's worker ran trials too");
    const done = await pgQuery<{ n: string }>(url, "SELECT count(*) AS n FROM trialbook_trials t JOIN trialbook_studies s ON s.id = t.study_id WHERE s.name = $1 AND t.state = 'complete'", [live]);
    assert.equal(Number(done[0]!.n), BUDGET);
    await ed.screenshot('shared-study-live.png');
  });

  await step('Run Sequence-Length Study on the shared study offers to run its runs here; the error bars are drawn', async () => {
    await ed.clearNotifications();
    await ed.command('Trialbook: Run Sequence-Length Study');
    await ed.pick(live);
    const dialog = ed.page.locator('.monaco-dialog-box', { hasText: 'sequence-length runs are shared' });
    await dialog.locator('.monaco-button', { hasText: 'Run a Worker Here' }).first().click();
    await ed.notification(new RegExp(`Sequence-length study of ${live} finished`), 90_000);
    // The runs, grouped by max_seq_len, with their error bars (the study also has tuning trials: pick the runs).
    await ed.dashboard().locator('.tab[data-view="groups"]').click();
    await ed.dashboard().locator('#scope').selectOption('seqlen');
    await waitFor('the sequence-length groups', async () => ((await ed.charts().catch(() => ({}) as Awaited<ReturnType<Editor['charts']>>)).groups?.datasets.filter((d) => d.role === 'own').length === 2 ? true : undefined), 20_000);
    assert.ok((await painted(ed, 'chart-groups')) > 0.005);
    const runs = await pgQuery<{ n: string }>(url, "SELECT count(*) AS n FROM trialbook_events e JOIN trialbook_studies s ON s.id = e.study_id WHERE s.name = $1 AND e.type = 'finished' AND (SELECT c.body->'tag'->>'seqlen' FROM trialbook_events c WHERE c.study_id = e.study_id AND c.trial = e.trial AND c.type = 'created' LIMIT 1) IS NOT NULL", [live]);
    assert.equal(Number(runs[0]!.n), 4, '2 lengths × 2 repeats in the shared database');
    assert.match(await rowText(), new RegExp(`${BUDGET}/${BUDGET} complete`), 'the runs are not tuning trials');
  });

  await step('Insert Results into Notes and Export Report work on the shared study; no password anywhere', async () => {
    await ed.clearNotifications();
    // Only the shared study has trials: the commands take it without asking.
    await ed.command('Trialbook: Insert Results into Notes');
    await ed.notification(/inserted into/, 30_000);
    const text = readFileSync(notes, 'utf8');
    assert.match(text, new RegExp(`<!-- trialbook:begin study=${live} -->\\n## Study \`${live}\`[\\s\\S]*${BUDGET} trials \\(${BUDGET} complete\\)[\\s\\S]*<!-- trialbook:end -->`));
    await ed.clearNotifications();
    await ed.command('Trialbook: Export Report');
    await ed.pick('Markdown');
    const input = ed.page.locator('.quick-input-widget input');
    await waitFor('the save dialog', async () => (new RegExp(`${live}-report\\.md$`).test(await input.inputValue().catch(() => '')) ? true : undefined), 10_000);
    await input.press('Enter');
    await ed.notification(/report written to/, 30_000);
    const report = readFileSync(join(ws, `${live}-report.md`), 'utf8');
    assert.match(report, new RegExp(`${BUDGET} trials \\(${BUDGET} complete\\)`));
    // Credentials: not in the notes, the report, the log, the dashboard or the explorer.
    const dashboardHtml = await ed.dashboard().locator('html').evaluate((h) => h.outerHTML);
    const treeText = await view.innerText();
    for (const [what, body] of [['notes', readFileSync(notes, 'utf8')], ['report', report], ['log', ed.extensionLog()], ['dashboard', dashboardHtml], ['explorer', treeText]] as const) {
      assert.ok(body.length > 0, `${what} read`);
      assert.ok(!body.includes(password), `no password in the ${what}`);
    }
    assert.match(ed.extensionLog(), /shared study at postgresql:\/\/trialbook:\*\*\*@/);
    assert.deepEqual(pageErrors, []);
  });
});
