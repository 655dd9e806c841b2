/**
 * The extension in a real VS Code (code-server + Chromium): install the VSIX, open the demo
 * workspace and use it the way a researcher does, on real training (the tiny model on the demo
 * corpus; every trial is a real run in the worker). Asserts what a person sees: the chart data
 * in the webview, the table, the explorer, notifications, files on disk. Screenshots of every
 * dashboard view in both themes go to test-artifacts/. Skips with a message when
 * scripts/e2e-setup.sh has not been run.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import iconv from 'iconv-lite';
import { loadStudy } from '../../src/core/study';
import { preflight } from '../../src/runner/preflight';
import { Editor, buildVsix, e2eSkipReason, type ChartSeries } from './harness';
import { DEMO_STUDY, makeWorkspace, writeJournal, writeJournalStudy } from './fixture';
import { firstPixel, journalTrials, painted, waitFor } from './steps';

const skip = e2eSkipReason();
const VIEWS = ['curves', 'history', 'importance', 'slice', 'pcp', 'groups', 'lengths'];

/** x of a dataset's points. */
const xs = (d: ChartSeries): number[] => d.data.map((p) => (typeof p === 'number' ? p : p.x));

test('Trialbook in a real VS Code, on real training', { skip, timeout: 720_000 }, async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'tb-e2e-'));
  const ws = join(root, 'workspace');
  const { study: demoFile, notes } = makeWorkspace(ws);
  // A finished study of 1,000 trials: explorer and dashboard at scale. Its notes are Korean notes
  // from an older Windows editor, in EUC-KR.
  const koreanNotes = join(ws, 'log-euckr.md');
  const koreanBefore = iconv.encode('# 게임 리뷰 감성 분석\n\n학습률이 높으면 발산한다.\n', 'cp949');
  writeFileSync(koreanNotes, koreanBefore);
  writeJournalStudy(ws, 'big', { notes: './log-euckr.md' });
  await writeJournal(ws, 'big', 1000, { failEvery: 50 });
  const notesBefore = readFileSync(notes);

  const vsix = buildVsix(join(root, 'trialbook.vsix'));
  const ed = new Editor(root, ws);
  ed.install(vsix);
  await ed.start();
  const pageErrors: string[] = [];
  ed.page.on('pageerror', (e) => pageErrors.push(e.message));
  // Every step leaves a screenshot when it fails, to see what the editor showed.
  const step = (name: string, fn: () => Promise<void>) =>
    t.test(name, async () => {
      try {
        await fn();
      } catch (e) {
        await ed.screenshot(`failed-${name.replace(/[^a-z0-9]+/gi, '-').slice(0, 60)}.png`).catch(() => undefined);
        throw e;
      }
    });
  t.after(async () => {
    await ed.stop();
    if (!process.env.TRIALBOOK_E2E_KEEP) rmSync(root, { recursive: true, force: true });
  });
  const view = ed.page.locator('.pane', { has: ed.page.locator('.pane-header', { hasText: 'Trials' }) });
  const dash = () => ed.dashboard();
  const tab = async (v: string) => {
    await dash().locator(`.tab[data-view="${v}"]`).click();
    await waitFor(`the ${v} view`, async () => ((await dash().locator(`.view[data-view="${v}"]`).isVisible()) ? true : undefined), 5_000);
    await ed.page.waitForTimeout(300);
  };
  /** Every view of the dashboard shown now, one screenshot each. */
  const shootViews = async (prefix: string) => {
    for (const v of VIEWS) {
      await tab(v);
      await ed.screenshot(`${prefix}-${v}.png`);
    }
  };
  const modal = (text: string | RegExp) => ed.page.locator('.monaco-dialog-box', { hasText: text });

  await step('the explorer lists the studies and the trials of a journal', async () => {
    await ed.command('Trialbook: Focus on Trials View');
    await view.locator('.monaco-list-row', { hasText: 'big' }).first().waitFor({ timeout: 30_000 });
    await view.locator('.monaco-list-row', { hasText: 'demo' }).first().waitFor();
    assert.match(await view.locator('.monaco-list-row', { hasText: 'big' }).first().innerText(), /980\/1000 complete · best 0\.\d+/);
    // A study of 1,000 trials starts collapsed; expanding lists its trials, newest first.
    await view.locator('.monaco-list-row', { hasText: 'big' }).first().click();
    await view.locator('.monaco-list-row', { hasText: '#999' }).first().waitFor({ timeout: 10_000 });
    await ed.screenshot('explorer-1000-trials.png');
    await view.locator('.monaco-list-row', { hasText: 'big' }).first().click();
  });

  await step('1,000 trials: the dashboard renders fast; range filters, sorting and brushing filter the table', async () => {
    await ed.command('Trialbook: Open Dashboard');
    await ed.pick('big');
    const table = dash().locator('#trials');
    await waitFor('1,000 table rows', async () => ((await table.getAttribute('data-rows').catch(() => null)) === '1000' ? true : undefined), 30_000);
    assert.equal(await dash().locator('#count').innerText(), '1000 / 1000');
    const line = await waitFor('the rendered log line', () => /dashboard rendered 1000 trials: (\d+) ms in the webview \((\d+) ms since its script started\), (\d+) ms since the panel opened/.exec(ed.extensionLog()) ?? undefined, 10_000);
    t.diagnostic(`dashboard open with 1,000 trials (busy shared machine): ${line[1]} ms in the webview from the study's arrival to the painted frame, ${line[2]} ms since its script started, ${line[3]} ms since the panel opened`);
    // The goal is 500 ms; the test machine is shared, so the check leaves half as much again.
    assert.ok(Number(line[1]) < 750, `first render took ${line[1]} ms in the webview`);
    const rows = dash().locator('#trials tbody tr[data-trial]');
    assert.equal(await dash().locator('#trials tbody tr.best').count(), 1, 'the best row is first and highlighted');
    // Every recorded metric is a column: val_accuracy beside val_loss, best epoch, epochs.
    const head = await dash().locator('#trials thead').innerText();
    for (const col of ['val_loss', 'val_accuracy', 'best epoch', 'epochs', 'learning_rate']) assert.ok(head.includes(col), `column ${col} in ${head}`);
    // A range filter: exactly the trials whose learning rate is above 5e-5.
    const big = await journalTrials(ws, 'big');
    await dash().locator('#filter').fill('learning_rate>5e-5 state=complete');
    const expected = big.filter((x) => Number(x.params.learning_rate) > 5e-5 && x.state === 'complete').length;
    await waitFor('range-filtered rows', async () => ((await table.getAttribute('data-rows')) === String(expected) ? true : undefined), 5_000);
    await dash().locator('#filter').fill('learnig_rate>1');
    assert.match(await dash().locator('#filter-note').innerText(), /No column named learnig_rate/);
    await dash().locator('#filter').fill('');
    // The virtualised table reaches the last rows by scrolling; sort by number.
    await dash().locator('.table-wrap').evaluate((w) => (w.scrollTop = w.scrollHeight));
    await waitFor('the last rows after scrolling', async () => ((await rows.filter({ hasText: 'failed' }).count()) > 0 ? true : undefined), 5_000);
    await dash().locator('.table-wrap').evaluate((w) => (w.scrollTop = 0));
    await dash().locator('th[data-key="number"]').click();
    await waitFor('sorted by number', async () => ((await rows.first().getAttribute('data-trial')) === '0' ? true : undefined), 5_000);
    await dash().locator('th[data-key="value"]').click();
    // Parallel coordinates: log axis for the learning rate; dragging along the objective's axis keeps a range, and the table follows.
    await tab('pcp');
    const pcp = (await ed.charts()).pcp!;
    assert.deepEqual(pcp.datasets.map((d) => d.label), ['learning_rate (log)', 'dropout_rate', 'batch_size', 'val_loss']);
    const canvas = dash().locator('#chart-pcp');
    const box = (await canvas.boundingBox())!;
    const axisX = await canvas.evaluate((c) => {
      const chart = (window as unknown as { trialbookCharts: Map<string, { getDatasetMeta(i: number): { dataset: { x: number; top: number; bottom: number } } }> }).trialbookCharts.get('pcp')!;
      const a = chart.getDatasetMeta(3).dataset;
      const r = c.getBoundingClientRect();
      return { x: a.x * (r.width / c.clientWidth), top: a.top, bottom: a.bottom };
    });
    await ed.page.mouse.move(box.x + axisX.x, box.y + axisX.bottom - 2);
    await ed.page.mouse.down();
    await ed.page.mouse.move(box.x + axisX.x, box.y + (axisX.top + axisX.bottom) / 2, { steps: 5 });
    await ed.page.mouse.up();
    await waitFor('a brushed table', async () => (Number(await table.getAttribute('data-rows')) < 300 ? true : undefined), 5_000);
    assert.match(await dash().locator('#filter-note').innerText(), /ranges kept on the parallel coordinates/);
    await ed.screenshot('dashboard-1000-pcp-brushed.png');
    await dash().locator('#clear-brushes').click();
    await waitFor('brush cleared', async () => ((await table.getAttribute('data-rows')) === '1000' ? true : undefined), 5_000);
    await shootViews('big-dark');
  });

  let promoted = -1;
  await step('Start Tuning: the confirmation shows the plan and a measured ETA; real trials appear live; a second dashboard opens in the same column', async () => {
    await ed.command('Trialbook: Start Tuning');
    await ed.pick('demo');
    const dialog = modal('Start tuning demo?');
    await dialog.waitFor({ timeout: 120_000 });
    const text = (await dialog.innerText()).replace(/\s+/g, ' ');
    t.diagnostic(`confirmation: ${text}`);
    const { budget } = preflight(loadStudy(demoFile));
    assert.ok(text.includes(`Plan: ${budget.runs} runs, at most ${budget.epochs} epochs (hyperband).`), text);
    assert.match(text, /ETA: about \S+( \S+)? at \d+ examples\/s, measured on a training step of this model\./);
    await dialog.locator('.monaco-button', { hasText: 'Start Tuning' }).click();
    await view.locator('.monaco-list-row', { hasText: '#0' }).first().waitFor({ timeout: 60_000 });
    // The status bar and the progress notification say the same thing.
    const status = ed.page.locator('.statusbar-item', { hasText: /demo: trial #\d+ · \d+\/6 done/ }).first();
    await status.waitFor({ timeout: 30_000 });
    await ed.notification(/Tuning demo: trial #\d+ · \d+\/6 done/, 10_000);
    // Both dashboards share one editor group (column).
    const group = ed.page.locator('.editor-group-container', { has: ed.page.locator('.tab', { hasText: 'Trialbook: big' }) });
    assert.equal(await group.locator('.tab', { hasText: 'Trialbook: demo' }).count(), 1, 'the demo dashboard opened in the big dashboard\'s column');
    // The running trial streams into the curves.
    await waitFor('live train-loss points', async () => {
      const curves = (await ed.charts().catch(() => ({}) as Record<string, { datasets: ChartSeries[] }>)).curves;
      return curves?.datasets.some((d) => d.metric === 'train_loss' && d.data.length > 0) ? true : undefined;
    }, 60_000);
    await ed.screenshot('tuning-running.png');
  });

  await step('Stop: the interrupted trial shows as cancelled (resumable), not failed; Resume finishes the study', async () => {
    // Stop while a later trial trains (the first one is complete).
    await waitFor('trial 0 complete and another running', async () => {
      const ts = await journalTrials(ws, 'demo');
      return ts.some((x) => x.state === 'complete') && ts.some((x) => x.state === 'running') ? true : undefined;
    }, 120_000, 200);
    await ed.command('Trialbook: Stop');
    await ed.notification(/stopped/, 60_000);
    const stopped = (await journalTrials(ws, 'demo')).filter((x) => x.failures?.at(-1)?.reason === 'cancelled' && x.state === 'failed');
    assert.equal(stopped.length, 1, 'one trial was stopped mid-run');
    const n = stopped[0]!.number;
    await view.locator('.monaco-list-row', { hasText: new RegExp(`#${n}\\s+cancelled`) }).first().waitFor({ timeout: 10_000 });
    const row = dash().locator(`#trials tbody tr[data-trial="${n}"]`);
    await waitFor('the cancelled row', async () => ((await row.getAttribute('class'))?.includes('state-cancelled') ? true : undefined), 10_000);
    assert.equal(await row.locator('.badge').innerText(), 'cancelled');
    await ed.screenshot('stopped-cancelled.png');
    await ed.clearNotifications();
    await ed.command('Trialbook: Resume');
    await ed.pick('demo');
    await modal('Start tuning demo?').locator('.monaco-button', { hasText: 'Resume' }).click();
    await ed.notification(/Tuning of demo finished/, 240_000);
    const trials = await journalTrials(ws, 'demo');
    assert.equal(trials.filter((x) => x.state === 'complete').length, 6);
    promoted = trials.find((x) => x.resumeFrom !== undefined && x.checkpoint?.source === 'local')?.number ?? -1;
    assert.ok(promoted >= 0, 'Hyperband promoted a trial that continued its parent');
    await view.locator('.monaco-list-row', { hasText: /demo\s*6\/6 complete/ }).first().waitFor({ timeout: 10_000 });
    await ed.screenshot('explorer-after-tuning.png');
  });

  await step('curves on a true epoch axis: val-loss points at their epochs, inherited epochs marked; accuracy in the table', async () => {
    await ed.command('Trialbook: Open Dashboard');
    await ed.pick('demo');
    await waitFor('6 complete rows', async () => ((await dash().locator('#trials tbody tr.state-complete').count()) === 6 ? true : undefined), 15_000);
    const trials = await journalTrials(ws, 'demo');
    const child = trials.find((x) => x.number === promoted)!;
    const parent = trials.find((x) => x.number === child.resumeFrom)!;
    const valRows = (curve: typeof child.curve) => curve.filter((m) => m.val_loss != null);
    await tab('curves');
    await dash().locator(`#trials tbody tr[data-trial="${promoted}"] td.num`).first().click();
    await waitFor(`curves of trial ${promoted}`, async () => ((await dash().locator('#curves-title').getAttribute('data-shown')) === String(promoted) ? true : undefined), 5_000);
    const curves = (await ed.charts()).curves!.datasets;
    const own = curves.find((d) => d.metric === 'val_loss' && d.role === 'own')!;
    const inherited = curves.find((d) => d.metric === 'val_loss' && d.role === 'inherited')!;
    assert.deepEqual(xs(own), valRows(child.curve).map((m) => m.epoch), 'own validation points at their epochs');
    assert.deepEqual(own.data.map((p) => (p as { y: number }).y), valRows(child.curve).map((m) => m.val_loss));
    assert.equal(inherited.from, parent.number);
    assert.deepEqual(xs(inherited), valRows(parent.curve).map((m) => m.epoch).filter((e) => e <= child.checkpoint!.epoch!), 'the parent\'s epochs, up to the checkpoint');
    assert.match(inherited.label, new RegExp(`inherited from #${parent.number}`));
    assert.ok(curves.some((d) => d.metric === 'val_accuracy' && d.role === 'own' && d.data.length === own.data.length), 'validation accuracy per epoch');
    // Train loss per logged step, between epochs, never past the last epoch.
    const train = xs(curves.find((d) => d.metric === 'train_loss' && d.role === 'own')!);
    assert.ok(train.length > valRows(child.curve).length, 'more train-loss points than epochs');
    assert.ok(train.every((x) => x > Math.min(...xs(own)) - 1 && x <= Math.max(...xs(own)) + 1e-9), `train x in range: ${train}`);
    assert.ok(train.some((x) => !Number.isInteger(x)), 'steps sit inside epochs');
    // Accuracy at the best epoch in the table.
    const best = child.result!.bestValAccuracy as number;
    const cell = await dash().locator(`#trials tbody tr[data-trial="${promoted}"] td`).nth(4).innerText();
    assert.equal(cell, String(Number(best.toFixed(4))));
    await ed.screenshot('curves-promoted-trial.png');
    await ed.dashboardScreenshot('readme-dashboard.png');
  });

  await step('Insert Results into EUC-KR notes: the Korean text stays byte for byte, the block is written in EUC-KR', async () => {
    // The editor itself opens the file as UTF-8 (its default), so it is written on disk, in EUC-KR.
    const [korean, before] = [koreanNotes, koreanBefore];
    // With a study file in the active editor the command would take that study without asking.
    await ed.command('View: Close All Editors');
    await ed.clearNotifications();
    await ed.command('Trialbook: Insert Results into Notes');
    await ed.pick('big');
    await ed.notification(/inserted into/, 30_000);
    const after = readFileSync(korean);
    assert.equal(Buffer.compare(after.subarray(0, before.length), before), 0, 'the Korean text is unchanged');
    const text = iconv.decode(after, 'cp949');
    assert.ok(!text.includes('\ufffd'), 'no replacement characters');
    assert.match(text, /<!-- trialbook:begin study=big -->\n## Study `big`[\s\S]*<!-- trialbook:end -->\n$/);
    // The editor holds the file open: it must not write it back in another encoding.
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(Buffer.compare(readFileSync(korean), after), 0, 'the open editor left the file alone');
  });

  await step('Inspect Token Lengths: percentiles and max_seq_len marked; the histogram survives a window reload', async () => {
    await ed.command('Trialbook: Inspect Token Lengths');
    await ed.pick('demo');
    await waitFor('the token-length chart', async () => ((await painted(ed, 'chart-lengths').catch(() => 0)) > 0.005 ? true : undefined), 60_000);
    const stats = await dash().locator('#length-stats').innerText();
    assert.match(stats, /2\d{3} texts · mean [\d.]+ · p50 \d+ · p95 \d+ · p99 \d+ · longest \d+/);
    assert.match(stats, /max_seq_len 64 truncates [\d.]+% of texts/);
    const bars = (await ed.charts()).lengths!;
    assert.match(String(bars.labels!.at(-1)), /^≥ \d+$/, 'the tail beyond the 99th percentile in one bar');
    await ed.screenshot('token-lengths.png');
    await ed.command('Developer: Reload Window');
    await ed.page.waitForSelector('.monaco-workbench', { timeout: 60_000 });
    await ed.command('Trialbook: Open Dashboard', 60_000);
    await ed.pick('demo');
    await tab('lengths');
    await waitFor('the histogram after reload', async () => ((await painted(ed, 'chart-lengths').catch(() => 0)) > 0.005 ? true : undefined), 20_000);
    await ed.command('View: Close All Editors');
  });

  await step('overlay and compare: the picked trials overlaid (others faint), a side-by-side table; the theme recolours the charts live', async () => {
    await ed.command('Trialbook: Open Dashboard');
    await ed.pick('demo');
    await tab('curves');
    // The three best: they trained the most epochs, so their curves differ.
    const picks = (await journalTrials(ws, 'demo')).filter((x) => x.state === 'complete').sort((a, b) => a.value! - b.value!).slice(0, 3).map((x) => x.number);
    await dash().locator(`#trials tbody tr[data-trial="${picks[0]}"] td.num`).first().click();
    for (const n of picks.slice(1)) await dash().locator(`#trials tbody tr[data-trial="${n}"] td.pick input`).click();
    await waitFor('3 trials overlaid', async () => ((await dash().locator('#curves-title').getAttribute('data-shown')) === picks.join(',') ? true : undefined), 5_000);
    const curves = (await ed.charts()).curves!.datasets;
    assert.deepEqual([...new Set(curves.filter((d) => d.role === 'own').map((d) => d.trial))], picks, 'one coloured curve per picked trial');
    assert.ok(curves.filter((d) => d.role === 'faint').length >= 1, 'the other trials faint behind them');
    assert.deepEqual((await dash().locator('table.compare thead th[data-trial]').allInnerTexts()).map((h) => h.replace(' ★', '')), picks.map((n) => `#${n}`));
    // Any recorded metric can be plotted: validation accuracy for the three.
    await dash().locator('#metric').selectOption('val_accuracy');
    const acc = await waitFor('accuracy curves', async () => {
      const own = (await ed.charts()).curves!.datasets.filter((d) => d.role === 'own');
      return own.length === 3 && own.every((d) => d.metric === 'val_accuracy') ? own : undefined;
    }, 5_000);
    assert.ok(acc.every((d) => d.data.every((q) => typeof q !== 'number' && q.y > 0 && q.y <= 1)));
    await dash().locator('#metric').selectOption('auto');
    await ed.screenshot('overlay-compare-dark.png');
    await shootViews('dashboard-dark');
    await tab('curves');
    const before = (await ed.charts()).curves!.datasets.find((d) => d.role === 'own')!.borderColor;
    await ed.setTheme('Light Modern');
    await waitFor('the light theme in the webview', async () => ((await dash().locator('body').getAttribute('class'))?.includes('vscode-light') ? true : undefined), 20_000);
    const after = await waitFor('recoloured curves', async () => {
      const c = (await ed.charts()).curves!.datasets.find((d) => d.role === 'own')!.borderColor;
      return c !== before ? c : undefined;
    }, 10_000);
    t.diagnostic(`curve colour: dark ${String(before)} → light ${String(after)}`);
    await ed.screenshot('overlay-compare-light.png');
    await shootViews('dashboard-light');
    await tab('curves');
  });

  await step('Insert Results into Notes: every metric, the test-set score on request, a chart image on white', async () => {
    await ed.clearNotifications();
    await ed.command('Trialbook: Insert Results into Notes');
    await ed.pick('demo');
    await ed.pick('With the test-set score');
    await ed.notification(/inserted into/, 120_000);
    const after = readFileSync(notes, 'utf8');
    assert.equal(Buffer.compare(Buffer.from(after).subarray(0, notesBefore.length), notesBefore), 0, 'the user text is unchanged');
    assert.match(after, /<!-- trialbook:begin study=demo -->\n## Study `demo`[\s\S]*\| # \| state \| val_loss \| val_accuracy \| best epoch \| epochs \|[\s\S]*!\[demo history\]\(trialbook\/demo-history\.png\)\n<!-- trialbook:end -->\n$/);
    assert.match(after, /Test split \(best trial's model, evaluated on request\): loss \d\.\d+, accuracy 0\.\d+ on \d+ examples\./);
    const png = readFileSync(join(ws, 'trialbook', 'demo-history.png'));
    assert.deepEqual([...png.subarray(1, 4)], [0x50, 0x4e, 0x47], 'a PNG');
    assert.deepEqual(firstPixel(png).slice(0, 3), [255, 255, 255], 'drawn on white whatever the editor theme (light now, dark before)');
    await ed.command('Go to File...');
    await ed.page.locator('.quick-input-widget input').fill('notes.md');
    await ed.pick('notes.md');
    await ed.command('Markdown: Open Preview to the Side');
    // Scroll the preview to the end of the notes, where the chart is.
    const preview = (await ed.page.locator('iframe.webview.ready').last().boundingBox())!;
    await ed.page.waitForTimeout(1_500);
    await ed.page.mouse.move(preview.x + preview.width / 2, preview.y + preview.height / 2);
    await ed.page.mouse.wheel(0, 20_000);
    await ed.page.waitForTimeout(500);
    await ed.page.mouse.wheel(0, -500);
    await ed.page.waitForTimeout(1_000);
    await ed.screenshot('notes-preview.png');
    await ed.command('View: Close All Editors');
  });

  await step('Select Runtime says which runtime the trials ran on, and stores the choice', async () => {
    await ed.clearNotifications();
    await ed.command('Trialbook: Select Runtime');
    const title = ed.page.locator('.quick-input-widget .quick-input-title');
    await waitFor('the runtime title', async () => (/in use: wasm/.test(await title.innerText().catch(() => '')) ? true : undefined), 10_000);
    t.diagnostic(`Select Runtime: ${await title.innerText()}`);
    await ed.page.locator('.quick-input-widget .quick-input-list .monaco-list-row', { has: ed.page.locator('.label-name', { hasText: /^wasm$/ }) }).filter({ visible: true }).first().click();
    await ed.notification(/runtime backend set to wasm/, 10_000);
    const settings = join(ws, '.vscode', 'settings.json');
    await waitFor('settings.json', () => (existsSync(settings) && /"trialbook\.runtime\.backend":\s*"wasm"/.test(readFileSync(settings, 'utf8'))) || undefined, 10_000);
  });

  await step('Export Report (CSV) carries val_accuracy and where promotions started', async () => {
    await ed.clearNotifications();
    await ed.command('Trialbook: Export Report');
    await ed.pick('demo');
    await ed.pick('CSV');
    const input = ed.page.locator('.quick-input-widget input');
    await waitFor('the save dialog', async () => (/demo-report\.csv$/.test(await input.inputValue().catch(() => '')) ? true : undefined), 10_000);
    await input.press('Enter');
    await ed.notification(/report written to/, 30_000);
    const csv = readFileSync(join(ws, 'demo-report.csv'), 'utf8').trim().split('\n');
    assert.match(csv[0]!, /^number,state,val_loss,val_accuracy,best_epoch,epochs,resumed_from,/);
    assert.equal(csv.length, 7, 'one row per trial');
  });

  await step('Sequence-length study: groups with n, mean ± std curves, Welch p and the recommendation; the runs listed in the table', async () => {
    // A quarter of the demo corpus, one epoch a run: four short runs.
    writeFileSync(join(ws, 'quarter.tsv'), readFileSync(join(ws, 'reviews.tsv'), 'utf8').split('\n').slice(0, 601).join('\n') + '\n');
    writeFileSync(join(ws, 'lens.trialbook.json'), JSON.stringify({ ...DEMO_STUDY, name: 'lens', notes: undefined, data: { ...DEMO_STUDY.data, file: './quarter.tsv' }, training: { ...DEMO_STUDY.training, epochs: 1 } }, null, 2));
    await ed.clearNotifications();
    // The study file was just written: the pick may open before the editor has read it, so the
    // command is run again until lens is offered.
    await ed.commandThenPick('Trialbook: Run Sequence-Length Study', /^lens$/);
    await modal('Run the sequence-length study of lens?').locator('.monaco-button', { hasText: 'Run Sequence-Length Study' }).click({ timeout: 120_000 });
    await ed.notification(/lens finished/, 180_000);
    assert.equal((await journalTrials(ws, 'lens')).filter((x) => x.state === 'complete').length, 4, '2 lengths × 2 repeats');
    await tab('groups');
    const groups = await waitFor('two groups', async () => {
      const g = (await ed.charts()).groups?.datasets.filter((d) => d.role === 'own');
      return g?.length === 2 ? g : undefined;
    }, 20_000);
    assert.deepEqual(groups.map((d) => d.label.replace(' ★', '')), ['max_seq_len=32 (n=2)', 'max_seq_len=64 (n=2)']);
    assert.match(await dash().locator('#recommendation').innerText(), /^max_seq_len = (32|64): best mean val_loss \([\d.]+ ± [\d.e-]+, n=2\); /);
    assert.equal(await dash().locator('#scope').inputValue(), 'seqlen');
    assert.equal(await dash().locator('#trials').getAttribute('data-rows'), '4');
    await ed.screenshot('seqlen-groups.png');
  });

  await step('trial context menu: show curves, copy hyperparameters, re-run with a new seed, a read-only failure log', async () => {
    await ed.command('View: Close All Editors');
    await ed.command('Trialbook: Focus on Trials View');
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
    await waitFor('curves of trial 2', async () => ((await dash().locator('#curves-title').getAttribute('data-shown').catch(() => '')) === '2' ? true : undefined), 15_000);
    await menu(/#2\s+val_loss/, 'Copy Hyperparameters as JSON');
    await ed.page.locator('.statusbar-item', { hasText: 'hyperparameters of trial 2 copied' }).first().waitFor({ timeout: 5_000 });
    await ed.clearNotifications();
    await menu(/#2\s+val_loss/, 'Re-run with New Seed');
    const note = await ed.notification(/trial 2 with seed \d+: val_loss = \d+\.\d{4}/, 180_000);
    t.diagnostic(`re-run: ${note}`);
    // A failed trial's log opens read-only: typing changes nothing, closing asks nothing.
    await view.locator('.monaco-list-row', { hasText: 'big' }).first().click();
    await menu(/#999\s+failed/, 'Open Failure Log');
    const editor = ed.page.locator('.monaco-editor .view-lines', { hasText: 'oom: out of memory at batch 32' }).first();
    await editor.waitFor({ timeout: 10_000 });
    await editor.click();
    await ed.page.keyboard.type('xyz');
    assert.equal(await ed.page.locator('.tabs-container .tab.dirty').count(), 0, 'nothing to save');
    assert.ok(!(await editor.innerText()).includes('xyz'));
    await ed.screenshot('failure-log.png');
    await view.locator('.monaco-list-row', { hasText: 'big' }).first().click();
    await ed.command('View: Close All Editors');
    assert.equal(await ed.page.locator('.monaco-dialog-box').count(), 0, 'no "Save changes?"');
  });

  await step('a broken study shows its error; ▷ in the Trials title acts on a valid study, and a missing data file does not start', async () => {
    writeFileSync(join(ws, 'broken.trialbook.json'), JSON.stringify({ name: 'broken', data: { file: './reviews.tsv', textColumn: 'document' }, tokenizer: { vocab: './vocab.txt' }, searchSpace: {}, tuner: { type: 'random' } }, null, 2));
    await ed.command('Trialbook: Focus on Trials View');
    const row = view.locator('.monaco-list-row', { hasText: 'invalid study file' });
    await row.first().waitFor({ timeout: 15_000 });
    await row.first().click();
    await ed.page.locator('.tabs-container .tab', { hasText: 'broken.trialbook.json' }).first().waitFor({ timeout: 10_000 });
    await ed.clearNotifications();
    // The container's only view: its title actions sit in the side bar's title.
    await ed.page.locator('.part.sidebar .composite.title a.action-label[aria-label="Start Tuning"]').click();
    // The study to tune is picked among the valid ones; the broken file is not taken.
    const offered = await waitFor('the study pick', async () => ((await ed.quickPickOpen()) ? ed.quickPickLabels() : undefined), 10_000);
    assert.ok(offered.includes('demo') && !offered.includes('broken'), `offered: ${offered.join(', ')}`);
    await ed.page.keyboard.press('Escape');
    await ed.command('View: Focus Problems (Errors, Warnings, Infos)');
    await ed.page.locator('.markers-panel .monaco-list-row', { hasText: /labelColumn/ }).first().waitFor({ timeout: 15_000 });
    await ed.screenshot('broken-study.png');
    writeFileSync(join(ws, 'nodata.trialbook.json'), JSON.stringify({ ...DEMO_STUDY, name: 'nodata', notes: undefined, data: { ...DEMO_STUDY.data, file: './gone.tsv' } }, null, 2));
    await ed.command('View: Close All Editors');
    await ed.command('Trialbook: Start Tuning');
    await ed.pick('nodata');
    await ed.notification(/nodata cannot start: data\.file: the data file .*gone\.tsv does not exist/, 15_000);
    assert.equal(existsSync(join(ws, '.trialbook', 'nodata')), false, 'nothing ran');
  });

  await step('New Study: the suggested text column comes first, the defaults fit the demo data, and the study learns (best val_loss < 0.5)', async () => {
    await ed.clearNotifications();
    await ed.command('Trialbook: New Study');
    await ed.pick('reviews.tsv');
    // Enter takes the suggested text column.
    await waitFor('the text column step', async () => ((await ed.quickPickLabels())[0] === 'document' ? true : undefined), 10_000);
    await ed.page.keyboard.press('Enter');
    const label = ed.page.locator('.quick-input-widget .monaco-list-row', { hasText: 'label' }).first();
    await label.waitFor({ timeout: 10_000 });
    assert.match(await label.innerText(), /0: 1233 · 1: 1167/);
    await label.click();
    await ed.pick('vocab.txt');
    await ed.pick('tiny');
    await ed.pick('notes.md');
    const input = ed.page.locator('.quick-input-widget input');
    await input.fill('wizard');
    await input.press('Enter');
    const file = join(ws, 'wizard.trialbook.json');
    await waitFor('wizard.trialbook.json', () => existsSync(file) || undefined, 20_000);
    const spec = JSON.parse(readFileSync(file, 'utf8'));
    assert.deepEqual(spec.data, { file: './reviews.tsv', textColumn: 'document', labelColumn: 'label' });
    assert.equal(spec.model, 'tiny');
    assert.deepEqual(spec.searchSpace.learning_rate, { type: 'float', low: 2e-4, high: 2e-3, log: true });
    assert.ok(Math.max(...spec.searchSpace.batch_size.values) * 20 <= 1920, `batch sizes fit the data: ${spec.searchSpace.batch_size.values}`);
    assert.deepEqual(preflight(loadStudy(file)).issues, [], 'the defaults pass the pre-flight check');
    await ed.page.locator('.tabs-container .tab', { hasText: 'wizard.trialbook.json' }).first().waitFor({ timeout: 10_000 });
    await ed.screenshot('new-study.png');
    const offer = ed.page.locator('.notifications-toasts .notification-toast', { hasText: 'Study written to wizard.trialbook.json' });
    await offer.locator('.monaco-button', { hasText: 'Start Tuning' }).click();
    await modal('Start tuning wizard?').locator('.monaco-button', { hasText: 'Start Tuning' }).click({ timeout: 120_000 });
    const learnt = await waitFor('a trial below val_loss 0.5', async () => (await journalTrials(ws, 'wizard')).find((x) => x.state === 'complete' && x.value! < 0.5), 240_000, 500);
    t.diagnostic(`wizard defaults: trial ${learnt.number} reached val_loss ${learnt.value!.toFixed(4)} (${JSON.stringify(learnt.params)})`);
    await ed.command('Trialbook: Stop');
    await ed.notification(/stopped/, 60_000);
  });

  await step('activation is fast and the webview raised no errors', async () => {
    const act = /activated in ([\d.]+) ms/.exec(ed.extensionLog());
    assert.ok(act, 'activation logged');
    t.diagnostic(`activate(): ${act[1]} ms`);
    assert.ok(Number(act[1]) < 100);
    assert.deepEqual(pageErrors, []);
  });
});

test('Restricted Mode: commands that run things refuse with a message', { skip, timeout: 120_000 }, async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'tb-e2e-trust-'));
  const ws = join(root, 'workspace');
  makeWorkspace(ws);
  const vsix = buildVsix(join(root, 'trialbook.vsix'));
  const ed = new Editor(root, ws);
  ed.install(vsix);
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
