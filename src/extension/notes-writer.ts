/**
 * "Insert Results into Notes": the study's report (top trials, best configuration) plus a PNG of
 * a dashboard chart, written into the notes file between the study's markers by the pure
 * src/core/notes.ts. The edit goes through a WorkspaceEdit on the open document (so Undo
 * restores the file) and touches only the block's range.
 */
import { mkdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import * as vscode from 'vscode';
import { writeFileAtomic } from '../core/fsutil';
import { detectEmbedStyle, imageEmbed, upsertNotesBlock } from '../core/notes';
import { renderMarkdownReport, type ReportExtras } from '../runner/report';
import type { DashboardPanel } from './dashboard';
import type { Log } from './log';
import { readSettings } from './settings';
import type { StudyEntry } from './studies';

export interface InsertOutcome {
  notes: string;
  action: 'inserted' | 'replaced' | 'unchanged';
  image?: string;
}

/** Where the notes live: the study's `notes`, else a Markdown file the user picks. */
export async function notesFileFor(entry: StudyEntry): Promise<string | undefined> {
  const loaded = entry.loaded!;
  if (loaded.study.notes) return loaded.resolve(loaded.study.notes);
  const active = vscode.window.activeTextEditor?.document;
  if (active?.languageId === 'markdown' && active.uri.scheme === 'file') return active.uri.fsPath;
  const picked = await vscode.window.showOpenDialog({ title: vscode.l10n.t('Notes file for study {0}', loaded.study.name), filters: { Markdown: ['md'] }, canSelectMany: false });
  return picked?.[0]?.fsPath;
}

/** Smallest range that differs between two texts: the edit (and its undo) covers only that. */
function changedRange(doc: vscode.TextDocument, next: string): { range: vscode.Range; text: string } {
  const old = doc.getText();
  let start = 0;
  while (start < old.length && start < next.length && old[start] === next[start]) start++;
  let endOld = old.length;
  let endNew = next.length;
  while (endOld > start && endNew > start && old[endOld - 1] === next[endNew - 1]) {
    endOld--;
    endNew--;
  }
  return { range: new vscode.Range(doc.positionAt(start), doc.positionAt(endOld)), text: next.slice(start, endNew) };
}

export async function insertResults(entry: StudyEntry, notesPath: string, panel: DashboardPanel | undefined, log: Log, extras: ReportExtras = {}, chart = 'history'): Promise<InsertOutcome> {
  const view = entry.view!;
  const doc = await vscode.workspace.openTextDocument(vscode.Uri.file(notesPath));
  const setting = readSettings().embedStyle;
  const style = setting === 'auto' ? detectEmbedStyle(doc.getText()) : setting;

  let body = renderMarkdownReport(view, extras).trimEnd();
  let image: string | undefined;
  const dataUrl = panel ? await panel.chartPng(chart) : undefined;
  if (dataUrl?.startsWith('data:image/png;base64,')) {
    // Beside the notes, in a folder of its own, named after the study: re-inserting overwrites it.
    image = join(dirname(notesPath), 'trialbook', `${view.name}-${chart}.png`);
    mkdirSync(dirname(image), { recursive: true });
    writeFileAtomic(image, Buffer.from(dataUrl.slice('data:image/png;base64,'.length), 'base64'));
    const relPath = relative(dirname(notesPath), image).split('\\').join('/');
    body += `\n\n${imageEmbed(style, relPath, `${view.name} ${chart}`)}`;
  } else {
    log.warn(`notes: no chart image (the dashboard did not answer); inserting the table only`);
  }

  const r = upsertNotesBlock(doc.getText(), view.name, body);
  if (!r.ok) {
    const err = new Error(`${vscode.workspace.asRelativePath(doc.uri)}: ${r.message}`) as Error & { line?: number };
    err.line = r.line;
    throw err;
  }
  if (r.action !== 'unchanged') {
    const edit = new vscode.WorkspaceEdit();
    const { range, text } = changedRange(doc, r.text);
    edit.replace(doc.uri, range, text);
    if (!(await vscode.workspace.applyEdit(edit))) throw new Error(vscode.l10n.t('{0}: the editor refused the edit', notesPath));
    await doc.save();
  }
  log.info(`notes: ${r.action} the block of study ${view.name} in ${notesPath}${image ? ` with ${image}` : ''}`);
  return { notes: notesPath, action: r.action, image };
}
