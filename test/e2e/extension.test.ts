/**
 * The extension in a real VS Code (code-server + Chromium): install the VSIX, open the demo
 * workspace, and use it the way a researcher does. Tuning runs with the CLI's built-in test
 * objective (testing/cli.ts, the quadratic one) so the run takes seconds, but everything
 * around it — the CLI child process, the journal, the watchers, the webview — is the real thing.
 * Skips with a message when scripts/e2e-setup.sh has not been run.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JournalStore } from '../../src/store/journal';
import { pgQuery } from '../store/pg-util';
import { TcpProxy } from '../store/tcp-proxy';
import { Editor, buildVsix, e2eSkipReason } from './harness';
import { testCliPath } from '../helpers';
import { makeWorkspace, writeJournal } from './fixture';

const skip = e2eSkipReason();

async function journalTrials(ws: string, name: string) {
  const store = new JournalStore(join(ws, '.trialbook', name), { readOnly: true, onWarning: () => undefined });
  const trials = await store.trials();
  await store.close();
  return trials;
}

async function waitFor<T>(what: string, fn: () => Promise<T | undefined> | T | undefined, timeoutMs: number, everyMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Share of painted pixels of a canvas in the dashboard frame (0 = blank). */
async function painted(ed: Editor, id: string): Promise<number> {
  return ed.dashboard().locator(`#${id}`).evaluate((c: HTMLCanvasElement) => {
    const ctx = c.getContext('2d');
    if (!ctx || !c.width || !c.height) return 0;
    const d = ctx.getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 3; i < d.length; i += 4) if (d[i]! > 0) n++;
    return n / (c.width * c.height);
  });
}

test('Trialbook in a real VS Code', { skip, timeout: 360_000 }, async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'tb-e2e-'));
  const ws = join(root, 'workspace');
  const { notes } = makeWorkspace(ws);
  // A second, finished study with 1,000 trials: explorer and dashboard at scale.
  writeFileSync(join(ws, 'big.trialbook.json'), JSON.stringify({ ...JSON.parse(readFileSync(join(ws, 'demo.trialbook.json'), 'utf8')), name: 'big', notes: undefined }, null, 2));
  await writeJournal(ws, 'big', 1000, { failEvery: 50 });
  const notesBefore = readFileSync(notes);

  const vsix = buildVsix(join(root, 'trialbook.vsix'));
  const ed = new Editor(root, ws);
  ed.install(vsix);
  ed.useTestCli();
  // Slow epochs so that Stop lands mid-run and a command can be timed while trials run.
  await ed.start({ TRIALBOOK_TEST_EPOCH_MS: '2500' });
  const pageErrors: string[] = [];
  ed.page.on('pageerror', (e) => pageErrors.push(e.message));
  // Every step leaves a screenshot when it fails, to see what the editor showed.
  const step = (name: string, fn: (st: typeof t) => Promise<void>) =>
    t.test(name, async (st) => {
      try {
        await fn(st);
      } catch (e) {
        await ed.screenshot(`failed-${name.replace(/[^a-z0-9]+/gi, '-').slice(0, 60)}.png`).catch(() => undefined);
        throw e;
      }
    });
  t.after(async () => {
    await ed.stop();
    if (!process.env.TRIALBOOK_E2E_KEEP) rmSync(root, { recursive: true, force: true });
  });

  await step('the explorer lists the studies and the trials of a journal', async () => {
    await ed.command('Trialbook: Focus on Trials View');
    const view = ed.page.locator('.pane', { has: ed.page.locator('.pane-header', { hasText: 'Trials' }) });
    await view.locator('.monaco-list-row', { hasText: 'big' }).first().waitFor({ timeout: 30_000 });
    await view.locator('.monaco-list-row', { hasText: 'demo' }).first().waitFor();
    const big = await view.locator('.monaco-list-row', { hasText: 'big' }).first().innerText();
    assert.match(big, /980\/1000 complete · best 0\.\d+/);
    // A study of 1,000 trials starts collapsed; expanding lists its trials, newest first.
    await view.locator('.monaco-list-row', { hasText: 'big' }).first().click();
    await view.locator('.monaco-list-row', { hasText: '#999' }).first().waitFor({ timeout: 10_000 });
    await ed.screenshot('explorer-1000-trials.png');
    await view.locator('.monaco-list-row', { hasText: 'big' }).first().click();
  });

  await step('the dashboard opens with 1,000 trials: table rows, charts, open time', async () => {
    await ed.command('Trialbook: Open Dashboard');
    await ed.pick('big');
    const table = ed.dashboard().locator('#trials');
    await waitFor('1,000 table rows', async () => ((await table.getAttribute('data-rows').catch(() => null)) === '1000' ? true : undefined), 30_000);
    assert.equal(await ed.dashboard().locator('#count').innerText(), '1000 / 1000');
    const rows = ed.dashboard().locator('#trials tbody tr[data-trial]');
    assert.equal(await ed.dashboard().locator('#trials tbody tr.best').count(), 1, 'the best row is first and highlighted');
    for (const id of ['chart-history', 'chart-curves', 'chart-pcp']) assert.ok((await painted(ed, id)) > 0.005, `${id} is drawn`);
    const line = await waitFor('the rendered log line', () => /dashboard rendered 1000 trials: (\d+) ms in the webview, (\d+) ms since the panel opened/.exec(ed.extensionLog()) ?? undefined, 10_000);
    t.diagnostic(`dashboard open with 1,000 trials: ${line[1]} ms in the webview, ${line[2]} ms from panel creation to first render`);
    // The virtualised table reaches the last row by scrolling.
    await ed.dashboard().locator('.table-wrap').evaluate((w) => (w.scrollTop = w.scrollHeight));
    await waitFor('the last rows after scrolling', async () => ((await rows.filter({ hasText: 'failed' }).count()) > 0 ? true : undefined), 5_000);
    // Sort by trial number, filter by state.
    await ed.dashboard().locator('.table-wrap').evaluate((w) => (w.scrollTop = 0));
    await ed.dashboard().locator('th[data-key="number"]').click();
    await waitFor('sorted by number', async () => ((await rows.first().getAttribute('data-trial')) === '0' ? true : undefined), 5_000);
    await ed.dashboard().locator('#filter').fill('failed');
    await waitFor('filtered rows', async () => ((await rows.count()) === 20 ? true : undefined), 5_000);
    await ed.dashboard().locator('#filter').fill('');
    await ed.dashboard().locator('th[data-key="value"]').click();
    await ed.screenshot('dashboard-1000-trials.png');
    await ed.command('View: Close All Editors');
  });

  await step('Start Tuning from the palette: trials appear live; a command answers while it runs', async () => {
    await ed.command('Trialbook: Start Tuning');
    await ed.pick('demo');
    const view = ed.page.locator('.pane', { has: ed.page.locator('.pane-header', { hasText: 'Trials' }) });
    await view.locator('.monaco-list-row', { hasText: '#0' }).first().waitFor({ timeout: 30_000 });
    await ed.page.locator('.statusbar-item', { hasText: /demo: trial \d+\/6/ }).first().waitFor({ timeout: 10_000 });
    // While trials run: the extension host still answers at once.
    const t0 = Date.now();
    await ed.command('Trialbook: Show Log');
    await ed.page.locator('.part.panel .monaco-editor', { hasText: /run:\s+trialbook\s+tune/ }).first().waitFor({ timeout: 10_000 });
    const ms = Date.now() - t0;
    t.diagnostic(`Show Log answered in ${ms} ms while tuning ran`);
    assert.ok(ms < 8_000, `Show Log took ${ms} ms`);
    assert.ok((await journalTrials(ws, 'demo')).some((x) => x.state !== 'complete'), 'the study is still running');
    await ed.screenshot('tuning-running.png');
  });

  await step('Stop, then Resume finishes the study', async () => {
    await ed.command('Trialbook: Stop');
    await ed.notification(/stopped/, 30_000);
    const stopped = await journalTrials(ws, 'demo');
    const done = stopped.filter((x) => x.state === 'complete').length;
    assert.ok(done < 6, `stopped before the end (${done} complete)`);
    await ed.clearNotifications();
    await ed.command('Trialbook: Resume');
    await ed.pick('demo');
    await ed.notification(/finished/, 90_000);
    const trials = await journalTrials(ws, 'demo');
    assert.equal(trials.filter((x) => x.state === 'complete').length, 6);
    // The explorer shows the finished study with its best trial starred.
    const view = ed.page.locator('.pane', { has: ed.page.locator('.pane-header', { hasText: 'Trials' }) });
    await view.locator('.monaco-list-row', { hasText: /demo\s*6\/6 complete/ }).first().waitFor({ timeout: 10_000 });
    await view.locator('.monaco-list-row', { hasText: '★' }).first().waitFor({ timeout: 10_000 });
    await ed.screenshot('explorer-after-tuning.png');
  });

  await step('the dashboard rows equal the finished trials and the charts are drawn', async () => {
    await ed.command('Trialbook: Open Dashboard');
    await ed.pick('demo');
    const finished = (await journalTrials(ws, 'demo')).filter((x) => x.state === 'complete').length;
    const rows = ed.dashboard().locator('#trials tbody tr.state-complete');
    await waitFor('complete rows', async () => ((await rows.count()) === finished ? true : undefined), 15_000);
    assert.equal(await ed.dashboard().locator('#trials tbody tr[data-trial]').count(), finished);
    for (const id of ['chart-history', 'chart-curves', 'chart-pcp']) assert.ok((await painted(ed, id)) > 0.005, `${id} is drawn`);
    // Click a row: its curves are shown.
    await ed.dashboard().locator('#trials tbody tr[data-trial="2"]').click();
    await waitFor('curves of trial 2', async () => (/trial 2$/.test(await ed.dashboard().locator('#curves-title').innerText()) ? true : undefined), 5_000);
    await ed.screenshot('dashboard-demo.png');
  });

  await step('Insert Results into Notes writes the block and a chart PNG; again updates in place', async () => {
    await ed.clearNotifications();
    await ed.command('Trialbook: Insert Results into Notes');
    await ed.pick('demo');
    await ed.notification(/inserted into/, 30_000);
    const after = readFileSync(notes, 'utf8');
    assert.equal(Buffer.compare(Buffer.from(after).subarray(0, notesBefore.length), notesBefore), 0, 'the user text is unchanged');
    assert.match(after, /<!-- trialbook:begin study=demo -->\n## Study `demo`[\s\S]*\| # \| state \| val_loss[\s\S]*!\[demo history\]\(trialbook\/demo-history\.png\)\n<!-- trialbook:end -->\n$/);
    const png = join(ws, 'trialbook', 'demo-history.png');
    assert.ok(existsSync(png));
    const bytes = readFileSync(png);
    assert.deepEqual([...bytes.subarray(1, 4)], [0x50, 0x4e, 0x47], 'a PNG');
    assert.ok(bytes.length > 2000, `PNG of ${bytes.length} bytes`);
    // A line the user adds after the block survives the update.
    writeFileSync(notes, after + '\nMy conclusion after the block.\n');
    await ed.clearNotifications();
    await ed.command('Trialbook: Insert Results into Notes');
    await ed.pick('demo');
    await ed.notification(/up to date|updated in/, 30_000);
    const again = readFileSync(notes, 'utf8');
    assert.equal(again.split('trialbook:begin').length, 2, 'one block');
    assert.ok(again.endsWith('<!-- trialbook:end -->\n\nMy conclusion after the block.\n'));
    await ed.screenshot('notes-with-results.png');
  });

  await step('Split Data and Inspect Token Lengths run in the worker; the histogram is drawn', async () => {
    await ed.clearNotifications();
    await ed.command('Trialbook: Split Data');
    await ed.pick('demo');
    await ed.notification(/split into train\/validation\/test/, 60_000);
    await ed.command('Trialbook: Inspect Token Lengths');
    await ed.pick('demo');
    await waitFor('the token-length chart', async () => ((await painted(ed, 'chart-lengths').catch(() => 0)) > 0.005 ? true : undefined), 60_000);
    await ed.dashboard().locator('#chart-lengths').scrollIntoViewIfNeeded();
    await ed.screenshot('token-lengths.png');
  });

  await step('Select Runtime stores the chosen backend in the workspace settings', async () => {
    await ed.clearNotifications();
    // Exact label: other rows mention wasm in their descriptions.
    const offered = await ed.commandThenPick('Trialbook: Select Runtime', /^wasm$/);
    assert.ok(offered.includes('tensorflow-gpu'), `the GPU runtime is offered: ${offered.join(', ')}`);
    await ed.notification(/runtime backend set to wasm/, 10_000);
    const settings = join(ws, '.vscode', 'settings.json');
    await waitFor('settings.json', () => (existsSync(settings) && /"trialbook\.runtime\.backend":\s*"wasm"/.test(readFileSync(settings, 'utf8'))) || undefined, 10_000);
  });

  await step('Export Report writes the chosen format next to the study', async () => {
    await ed.clearNotifications();
    await ed.command('Trialbook: Export Report');
    await ed.pick('demo');
    await ed.pick('Markdown');
    // The save dialog (VS Code's own, as a quick input) proposes <study>-report.md: accept it.
    const input = ed.page.locator('.quick-input-widget input');
    await waitFor('the save dialog', async () => (/demo-report\.md$/.test(await input.inputValue().catch(() => '')) ? true : undefined), 10_000);
    await input.press('Enter');
    await ed.notification(/report written to/, 30_000);
    const report = readFileSync(join(ws, 'demo-report.md'), 'utf8');
    assert.match(report, /## Study `demo`/);
    assert.equal((report.match(/^\| \d+ \| complete \|/gm) ?? []).length, 6, 'one row per finished trial');
  });

  await step('Run Sequence-Length Study from the palette: error bars drawn on the dashboard', async () => {
    const spec = JSON.parse(readFileSync(join(ws, 'demo.trialbook.json'), 'utf8'));
    writeFileSync(join(ws, 'lens.trialbook.json'), JSON.stringify({ ...spec, name: 'lens', notes: undefined, training: { ...spec.training, epochs: 1 }, seqlen: { lengths: [32, 64], repeats: 2 } }, null, 2));
    await ed.clearNotifications();
    await ed.command('Trialbook: Run Sequence-Length Study');
    await ed.pick('lens');
    await ed.notification(/lens finished/, 90_000);
    const trials = await journalTrials(ws, 'lens');
    assert.equal(trials.filter((x) => x.state === 'complete').length, 4, '2 lengths × 2 repeats');
    await ed.command('Trialbook: Open Dashboard');
    await ed.pick('lens');
    await waitFor('the sequence-length chart', async () => ((await painted(ed, 'chart-seqlen').catch(() => 0)) > 0.005 ? true : undefined), 20_000);
    await ed.dashboard().locator('#chart-seqlen').scrollIntoViewIfNeeded();
    await ed.screenshot('seqlen-study.png');
    // The explorer lists the runs by length (not "0/0 complete"), the lowest mean starred.
    await ed.command('Trialbook: Focus on Trials View');
    const view = ed.page.locator('.pane', { has: ed.page.locator('.pane-header', { hasText: 'Trials' }) });
    const lensRow = view.locator('.monaco-list-row', { hasText: /^lens/ }).first();
    await waitFor('the lens study row', async () => ((await lensRow.innerText().catch(() => '')).includes('4 sequence-length runs') ? true : undefined), 10_000);
    const rows = view.locator('.monaco-list-row', { hasText: /^max_len (32|64)/ });
    await waitFor('one row per length', async () => ((await rows.count()) === 2 ? true : undefined), 10_000);
    const texts = await rows.allInnerTexts();
    assert.equal(texts.filter((x) => x.includes('★')).length, 1, `exactly one length starred: ${JSON.stringify(texts)}`);
    for (const x of texts) assert.match(x, /± [\d.e-]+ \(n=2\)/, `mean ± std over 2 runs: ${x}`);
  });

  await step('trial context menu: show curves, copy hyperparameters, re-run with a new seed, open the failure log', async () => {
    await ed.command('View: Close All Editors');
    await ed.command('Trialbook: Focus on Trials View');
    const view = ed.page.locator('.pane', { has: ed.page.locator('.pane-header', { hasText: 'Trials' }) });
    const menu = async (row: RegExp, item: string): Promise<void> => {
      const r = view.locator('.monaco-list-row', { hasText: row }).first();
      await r.waitFor({ timeout: 10_000 });
      await r.click({ button: 'right' });
      const action = ed.page.getByRole('menuitem', { name: item }).first();
      await action.waitFor({ timeout: 5_000 });
      // VS Code's menus ignore a click right after opening (the right-click's own mouseup):
      // select the item by hovering and Enter, as a keyboard user would.
      await action.hover();
      await ed.page.keyboard.press('Enter');
      await action.waitFor({ state: 'hidden', timeout: 5_000 });
    };
    await menu(/#2\s+val_loss/, 'Show Curves');
    await waitFor('curves of trial 2', async () => (/trial 2$/.test(await ed.dashboard().locator('#curves-title').innerText().catch(() => '')) ? true : undefined), 15_000);
    await menu(/#2\s+val_loss/, 'Copy Hyperparameters as JSON');
    await ed.page.locator('.statusbar-item', { hasText: 'hyperparameters of trial 2 copied' }).first().waitFor({ timeout: 5_000 });
    await ed.clearNotifications();
    await menu(/#2\s+val_loss/, 'Re-run with New Seed');
    // A real training run in the worker (the re-run does not use the CLI's test objective).
    const note = await ed.notification(/trial 2 with seed \d+: val_loss = \d+\.\d{4}/, 180_000);
    t.diagnostic(`re-run: ${note}`);
    // A failed trial of the 1,000-trial study: its log opens with the recorded cause.
    await view.locator('.monaco-list-row', { hasText: 'big' }).first().click();
    await menu(/#999\s+failed/, 'Open Failure Log');
    await ed.page.locator('.monaco-editor .view-lines', { hasText: 'oom: out of memory at batch 32' }).first().waitFor({ timeout: 10_000 });
    await ed.screenshot('failure-log.png');
    await view.locator('.monaco-list-row', { hasText: 'big' }).first().click();
    await ed.command('View: Close All Editors');
  });

  await step('a broken study file shows its error', async () => {
    await ed.command('View: Close All Editors');
    writeFileSync(join(ws, 'broken.trialbook.json'), JSON.stringify({ name: 'broken', data: { file: './reviews.tsv', textColumn: 'document' }, tokenizer: { vocab: './vocab.txt' }, searchSpace: {}, tuner: { type: 'random' } }, null, 2));
    await ed.command('Trialbook: Focus on Trials View');
    const view = ed.page.locator('.pane', { has: ed.page.locator('.pane-header', { hasText: 'Trials' }) });
    const row = view.locator('.monaco-list-row', { hasText: 'invalid study file' });
    await row.first().waitFor({ timeout: 15_000 });
    await row.first().click();
    await ed.page.locator('.tabs-container .tab', { hasText: 'broken.trialbook.json' }).first().waitFor({ timeout: 10_000 });
    await ed.command('View: Focus Problems (Errors, Warnings, Infos)');
    await ed.page.locator('.markers-panel .monaco-list-row', { hasText: /labelColumn/ }).first().waitFor({ timeout: 15_000 });
    await ed.screenshot('broken-study.png');
  });

  await step('New Study: the wizard detects the columns and label counts and writes a valid study', async () => {
    await ed.command('Trialbook: New Study');
    await ed.pick('reviews.tsv');
    await ed.pick('document');
    // The label step shows the values with their counts.
    const label = ed.page.locator('.quick-input-widget .monaco-list-row', { hasText: 'label' }).first();
    await label.waitFor({ timeout: 10_000 });
    assert.match(await label.innerText(), /0: 100 · 1: 100/);
    await label.click();
    await ed.pick('vocab.txt');
    await ed.pick('notes.md');
    const input = ed.page.locator('.quick-input-widget input');
    await input.fill('wizard');
    await input.press('Enter');
    const file = join(ws, 'wizard.trialbook.json');
    await waitFor('wizard.trialbook.json', () => existsSync(file) || undefined, 10_000);
    const spec = JSON.parse(readFileSync(file, 'utf8'));
    assert.deepEqual(spec.data, { file: './reviews.tsv', textColumn: 'document', labelColumn: 'label' });
    assert.equal(spec.tokenizer.vocab, './vocab.txt');
    assert.equal(spec.notes, './notes.md');
    assert.equal(spec.tuner.type, 'bayesian');
    assert.ok(spec.searchSpace.learning_rate && spec.searchSpace.batch_size);
    await ed.page.locator('.tabs-container .tab', { hasText: 'wizard.trialbook.json' }).first().waitFor({ timeout: 10_000 });
    await ed.screenshot('new-study.png');
  });

  await step('activation is fast and the webview raised no errors', async () => {
    const act = /activated in ([\d.]+) ms/.exec(ed.extensionLog());
    assert.ok(act, 'activation logged');
    t.diagnostic(`activate(): ${act[1]} ms`);
    assert.ok(Number(act[1]) < 100);
    assert.deepEqual(pageErrors, []);
    // VS Code's own measure (module load + activate), from the Running Extensions editor.
    // Reported, not asserted: on a loaded 2-core machine it swings (22–405 ms seen), mostly
    // extension-host scheduling outside the extension's code, and in some fresh code-server
    // profiles the view stays empty, so it is read when it shows.
    await ed.command('Developer: Show Running Extensions');
    const row = ed.page.locator('.runtime-extensions-editor .monaco-list-row', { hasText: 'Trialbook' }).first();
    const shown = await row.waitFor({ timeout: 20_000 }).then(() => true, () => false);
    t.diagnostic(shown ? `Running Extensions: ${(await row.innerText()).replace(/\s+/g, ' ')}` : 'Running Extensions: the view did not list extensions in 20 s');
    await ed.screenshot('running-extensions.png');
  });
});

test('Restricted Mode: commands that run things refuse with a message', { skip, timeout: 120_000 }, async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'tb-e2e-trust-'));
  const ws = join(root, 'workspace');
  makeWorkspace(ws);
  const vsix = buildVsix(join(root, 'trialbook.vsix'));
  const ed = new Editor(root, ws);
  ed.install(vsix);
  ed.useTestCli();
  await ed.start({}, { trust: false });
  t.after(async () => {
    await ed.stop();
    rmSync(root, { recursive: true, force: true });
  });
  // The trust prompt may open on start; leave the workspace untrusted.
  const dontTrust = ed.page.locator('.monaco-dialog-box .monaco-button', { hasText: /Don't Trust|No, I don't trust/ });
  if (await dontTrust.first().waitFor({ timeout: 20_000 }).then(() => true, () => false)) await dontTrust.first().click();
  await ed.page.locator('.statusbar-item', { hasText: 'Restricted Mode' }).first().waitFor({ timeout: 10_000 });
  try {
    await ed.command('Trialbook: Start Tuning');
    await ed.notification(/disabled in Restricted Mode/, 20_000);
  } catch (e) {
    await ed.screenshot('failed-restricted-mode.png');
    throw e;
  }
  await ed.screenshot('restricted-mode.png');
  assert.equal(existsSync(join(ws, '.trialbook', 'demo', 'journal.jsonl')), false, 'nothing ran');
});

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
  writeFileSync(liveFile, JSON.stringify({ ...spec, name: live, storage: proxy.via(url), budget: { maxTrials: BUDGET }, seqlen: { lengths: [32, 64], repeats: 2 } }, null, 2));
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
    await ed.page.locator('.statusbar-item', { hasText: new RegExp(`${live}: worker, trial \\d+`) }).first().waitFor({ timeout: 60_000 });
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
    await waitFor('the sequence-length chart', async () => ((await painted(ed, 'chart-seqlen').catch(() => 0)) > 0.005 ? true : undefined), 20_000);
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
