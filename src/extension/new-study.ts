/**
 * "New Study" wizard: data file → text and label columns (detected from the header, the
 * suggested one first, label values shown with their counts) → vocabulary → model (a preset
 * trained from scratch or a pretrained folder) → notes file → name. Writes NAME.trialbook.json
 * with defaults that fit that data and model (core/study-defaults.ts, as `trialbook init`) and
 * Bayesian optimisation, validated with the same schema the CLI uses.
 */
import { existsSync } from 'node:fs';
import { basename, dirname, extname, join, relative } from 'node:path';
import * as vscode from 'vscode';
import { writeFileAtomic } from '../core/fsutil';
import { sortLabels } from '../core/labels';
import { parseStudy, type StudyInput } from '../core/study';
import { defaultTuner, measureData, studyDefaults } from '../core/study-defaults';
import { readTable } from '../core/table';
import { WEIGHT_LAYOUT_FILES } from '../engine/weight-files';

const TEXT_GUESSES = ['document', 'text', 'review', 'sentence', 'content', 'body'];
const LABEL_GUESSES = ['label', 'labels', 'sentiment', 'class', 'target', 'y'];

async function pickFile(title: string, glob: string, opts: { optional?: boolean; filters?: Record<string, string[]> } = {}): Promise<vscode.Uri | null | undefined> {
  const found = await vscode.workspace.findFiles(glob, '**/{node_modules,.trialbook,.git,.e2e}/**', 200);
  type Item = vscode.QuickPickItem & { uri?: vscode.Uri; browse?: boolean; none?: boolean };
  const items: Item[] = found
    .sort((a, b) => a.fsPath.localeCompare(b.fsPath))
    .map((uri) => ({ label: basename(uri.fsPath), description: vscode.workspace.asRelativePath(uri), uri }));
  if (opts.optional) items.push({ label: vscode.l10n.t('None'), none: true });
  items.push({ label: vscode.l10n.t('Browse…'), browse: true });
  const pick = await vscode.window.showQuickPick(items, { title, ignoreFocusOut: true, matchOnDescription: true });
  if (!pick) return undefined;
  if (pick.none) return null;
  if (pick.uri) return pick.uri;
  const chosen = await vscode.window.showOpenDialog({ title, canSelectMany: false, filters: opts.filters });
  return chosen?.[0];
}

function guess(header: string[], names: string[], fallback: number): number {
  const i = header.findIndex((h) => names.includes(h.trim().toLowerCase()));
  return i >= 0 ? i : Math.min(fallback, header.length - 1);
}

function rel(from: string, to: string): string {
  const r = relative(from, to).split('\\').join('/');
  return r.startsWith('.') ? r : `./${r}`;
}

/** A preset trained from scratch, or a folder with a pretrained checkpoint (config.json and its weights). */
async function pickModel(title: string): Promise<{ preset?: string; folder?: string } | undefined> {
  const found = await vscode.workspace.findFiles(`**/{${WEIGHT_LAYOUT_FILES.join(',')}}`, '**/{node_modules,.trialbook,.git,.e2e}/**', 50);
  type Item = vscode.QuickPickItem & { preset?: string; folder?: string; browse?: boolean };
  const items: Item[] = [
    { label: 'tiny', description: vscode.l10n.t('from scratch: 128 hidden, 2 layers — fast, for small data and trying things'), preset: 'tiny' },
    { label: 'mini', description: vscode.l10n.t('from scratch: 256 hidden, 4 layers'), preset: 'mini' },
    { label: 'small', description: vscode.l10n.t('from scratch: 512 hidden, 4 layers'), preset: 'small' },
    ...[...new Set(found.map((u) => dirname(u.fsPath)))].sort().map((folder) => ({ label: basename(folder), description: vscode.l10n.t('pretrained: {0}', vscode.workspace.asRelativePath(folder)), folder })),
    { label: vscode.l10n.t('Browse for a pretrained model folder…'), browse: true },
  ];
  const pick = await vscode.window.showQuickPick(items, { title, ignoreFocusOut: true });
  if (!pick?.browse) return pick;
  const chosen = await vscode.window.showOpenDialog({ title, canSelectFiles: false, canSelectFolders: true, canSelectMany: false });
  return chosen?.[0] ? { folder: chosen[0].fsPath } : undefined;
}

/** Runs the wizard; returns the new study file, or undefined if the user cancelled. */
export async function newStudyWizard(): Promise<string | undefined> {
  const title = vscode.l10n.t('New Trialbook Study');
  const data = await pickFile(vscode.l10n.t('{0} (1/7): data file with texts and labels', title), '**/*.{tsv,csv}', { filters: { Data: ['tsv', 'csv', 'txt'] } });
  if (!data) return undefined;
  const table = readTable(data.fsPath);
  if (table.header.length < 2) throw new Error(vscode.l10n.t('{0}: needs at least two columns (a text and a label), found {1}', data.fsPath, table.header.length));

  const sample = (i: number): string => table.records.slice(0, 3).map((r) => (r.fields[i] ?? '').slice(0, 40)).join(' | ');
  const columns = (pre: number): Array<vscode.QuickPickItem & { index: number }> =>
    table.header.map((h, i) => ({ label: h, description: i === pre ? vscode.l10n.t('suggested') : '', detail: sample(i), index: i }));
  const textDefault = guess(table.header, TEXT_GUESSES, 1);
  // The suggested column first: Enter takes it.
  const textItems = columns(textDefault).sort((a, b) => (a.index === textDefault ? -1 : b.index === textDefault ? 1 : 0));
  const textCol = await vscode.window.showQuickPick(textItems, { title: vscode.l10n.t('{0} (2/7): text column', title), ignoreFocusOut: true, placeHolder: table.header[textDefault] });
  if (!textCol) return undefined;

  const labelDefault = guess(table.header, LABEL_GUESSES, table.header.length - 1);
  const labelItems = columns(labelDefault).filter((c) => c.index !== textCol.index);
  for (const it of labelItems) {
    const counts = new Map<string, number>();
    for (const r of table.records) {
      const v = (r.fields[it.index] ?? '').trim();
      counts.set(v, (counts.get(v) ?? 0) + 1);
    }
    // A label column has few distinct values; show them with their counts.
    it.detail = counts.size <= 20 ? sortLabels(counts.keys()).map((k) => `${k || '(empty)'}: ${counts.get(k)}`).join(' · ') : vscode.l10n.t('{0} distinct values — not a label column?', counts.size);
  }
  labelItems.sort((a, b) => (a.index === labelDefault ? -1 : b.index === labelDefault ? 1 : 0));
  const labelCol = await vscode.window.showQuickPick(labelItems, { title: vscode.l10n.t('{0} (3/7): label column (values and counts)', title), ignoreFocusOut: true });
  if (!labelCol) return undefined;

  const vocab = await pickFile(vscode.l10n.t('{0} (4/7): WordPiece vocabulary (vocab.txt)', title), '**/*vocab*.txt', { filters: { Vocabulary: ['txt'] } });
  if (!vocab) return undefined;
  const model = await pickModel(vscode.l10n.t('{0} (5/7): model', title));
  if (!model) return undefined;
  const notes = await pickFile(vscode.l10n.t('{0} (6/7): research notes (Markdown) for the results', title), '**/*.md', { optional: true, filters: { Markdown: ['md'] } });
  if (notes === undefined) return undefined;

  const dir = dirname(data.fsPath);
  const suggested = basename(data.fsPath, extname(data.fsPath)).replace(/[^A-Za-z0-9._-]+/g, '-') || 'study';
  const name = await vscode.window.showInputBox({
    title: vscode.l10n.t('{0} (7/7): study name', title),
    value: suggested,
    ignoreFocusOut: true,
    validateInput: (v) => (/^[A-Za-z0-9._-]+$/.test(v) ? (existsSync(join(dir, `${v}.trialbook.json`)) ? vscode.l10n.t('{0}.trialbook.json already exists', v) : undefined) : vscode.l10n.t('use letters, digits, dot, dash or underscore')),
  });
  if (!name) return undefined;

  const file = join(dir, `${name}.trialbook.json`);
  const labelled = table.records.filter((r) => (r.fields[labelCol.index] ?? '').trim() !== '');
  const d = studyDefaults({ ...measureData(labelled.map((r) => r.fields[textCol.index] ?? ''), vocab.fsPath), pretrained: model.preset === undefined });
  const spec: StudyInput = {
    name,
    data: { file: rel(dir, data.fsPath), textColumn: textCol.label, labelColumn: labelCol.label },
    tokenizer: { vocab: rel(dir, vocab.fsPath) },
    model: model.preset ?? rel(dir, model.folder!),
    training: d.training,
    searchSpace: d.searchSpace,
    tuner: defaultTuner('bayesian', d.epochs),
    budget: d.budget,
    seqlen: d.seqlen,
    ...(notes ? { notes: rel(dir, notes.fsPath) } : {}),
  };
  parseStudy(spec, file);
  // No $schema key: package.json's jsonValidation maps *.trialbook.json to the bundled schema.
  writeFileAtomic(file, JSON.stringify(spec, null, 2) + '\n');
  return file;
}
