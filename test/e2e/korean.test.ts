/**
 * The extension in Korean (VS Code started with --locale ko): the explorer and every dashboard
 * view speak Korean, with screenshots of each under test-artifacts/ko-*.png. The study is a
 * finished journal (tuning trials and a sequence-length study), so no training runs here.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Editor, buildVsix, e2eSkipReason } from './harness';
import { makeWorkspace, repoRoot, writeJournal, writeJournalStudy } from './fixture';
import { painted, waitFor } from './steps';

const skip = e2eSkipReason();
const nls = JSON.parse(readFileSync(join(repoRoot, 'package.nls.ko.json'), 'utf8')) as Record<string, string>;
const ko = JSON.parse(readFileSync(join(repoRoot, 'l10n', 'bundle.l10n.ko.json'), 'utf8')) as Record<string, string>;
/** A command's title as the Korean palette shows it. */
const command = (key: string) => `${nls.category}: ${nls[`command.${key}`]}`;

test('in Korean: the explorer and every dashboard view', { skip, timeout: 240_000 }, async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'tb-e2e-ko-'));
  const ws = join(root, 'workspace');
  makeWorkspace(ws);
  writeJournalStudy(ws, 'reviews');
  await writeJournal(ws, 'reviews', 40, { failEvery: 13, seqlen: { lengths: [32, 64, 128], repeats: 3 } });
  const vsix = buildVsix(join(root, 'trialbook.vsix'));
  const ed = new Editor(root, ws);
  ed.install(vsix);
  await ed.start({}, { locale: 'ko' });
  const pageErrors: string[] = [];
  ed.page.on('pageerror', (e) => pageErrors.push(e.message));
  t.after(async () => {
    await ed.stop();
    if (!process.env.TRIALBOOK_E2E_KEEP) rmSync(root, { recursive: true, force: true });
  });
  try {
    await ed.command(command('inspectLengths'));
    await ed.pick('reviews');
    const dash = ed.dashboard();
    await waitFor('the token-length chart', async () => ((await painted(ed, 'chart-lengths').catch(() => 0)) > 0.005 ? true : undefined), 60_000);
    // The dashboard speaks Korean: tabs, the table's headers and states, the summary.
    assert.equal(await dash.locator('.tab[data-view="curves"]').innerText(), ko['Learning curves']);
    assert.equal(await dash.locator('.tab[data-view="lengths"]').innerText(), ko['Token lengths']);
    assert.ok((await dash.locator('#trials thead').innerText()).includes(ko.state!));
    assert.ok((await dash.locator('#trials tbody').innerText()).includes(ko.complete!));
    assert.match(await dash.locator('#summary').innerText(), new RegExp(ko['{0} trials']!.replace('{0}', '40')));
    assert.match(await dash.locator('#length-stats').innerText(), /텍스트 \d+개 · 평균/);
    for (const v of ['curves', 'history', 'importance', 'slice', 'pcp', 'groups', 'lengths']) {
      await dash.locator(`.tab[data-view="${v}"]`).click();
      await ed.page.waitForTimeout(500);
      await ed.screenshot(`ko-${v}.png`);
    }
    // The sequence-length runs, grouped by max_seq_len, with the recommendation in Korean.
    await dash.locator('.tab[data-view="groups"]').click();
    await dash.locator('#scope').selectOption('seqlen');
    await waitFor('the seqlen groups', async () => ((await dash.locator('#recommendation').innerText().catch(() => '')).startsWith('max_seq_len') ? true : undefined), 10_000);
    assert.match(await dash.locator('#recommendation').innerText(), /max_seq_len = \d+: 평균 val_loss/);
    await ed.screenshot('ko-groups-seqlen.png');
    await ed.page.locator('.activitybar .action-item a[aria-label^="Trialbook"]').first().click();
    const view = ed.page.locator('.pane', { has: ed.page.locator('.pane-header', { hasText: nls['view.trials']! }) });
    await view.locator('.monaco-list-row', { hasText: ko['Sequence length']! }).first().waitFor({ timeout: 10_000 });
    await ed.screenshot('ko-explorer.png');
    assert.deepEqual(pageErrors, []);
  } catch (e) {
    await ed.screenshot('failed-korean.png').catch(() => undefined);
    throw e;
  }
});
