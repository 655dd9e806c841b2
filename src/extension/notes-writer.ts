/**
 * "Insert Results into Notes": the study's report (top trials, best configuration) plus a PNG of
 * a dashboard chart, written into the notes file between the study's markers by
 * src/core/notes-file.ts, as `report --notes` does. A UTF-8 file the editor also reads as UTF-8
 * is edited through a WorkspaceEdit on the open document (so Undo restores it), touching only the
 * block's range; any other file (EUC-KR, Latin-1, UTF-16, or read in another encoding) is written
 * on disk in its own encoding, since saving the document could change bytes outside the block.
 */
import { mkdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import * as vscode from 'vscode';
import { writeFileAtomic } from '../core/fsutil';
import { detectEmbedStyle, imageEmbed } from '../core/notes';
import { describeNotesChange, readNotesFile, updateNotes, writeNotesBlock } from '../core/notes-file';
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
  const onDisk = readNotesFile(notesPath);
  const doc = await vscode.workspace.openTextDocument(vscode.Uri.file(notesPath));
  const viaEditor = (onDisk.encoding === 'utf8' || onDisk.encoding === 'utf8bom') && doc.encoding === onDisk.encoding;
  if (!viaEditor && doc.isDirty) throw new Error(vscode.l10n.t('{0}: save or revert the notes first (they have unsaved changes, and this file is written on disk in its own encoding)', notesPath));
  const setting = readSettings().embedStyle;
  const style = setting === 'auto' ? detectEmbedStyle(viaEditor ? doc.getText() : onDisk.text) : setting;

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

  let change;
  if (viaEditor) {
    change = updateNotes({ file: vscode.workspace.asRelativePath(doc.uri), text: doc.getText(), encoding: onDisk.encoding }, view.name, body);
    if (change.action !== 'unchanged') {
      const edit = new vscode.WorkspaceEdit();
      const { range, text } = changedRange(doc, change.text);
      edit.replace(doc.uri, range, text);
      if (!(await vscode.workspace.applyEdit(edit))) throw new Error(vscode.l10n.t('{0}: the editor refused the edit', notesPath));
      await doc.save();
    }
  } else {
    change = writeNotesBlock(notesPath, view.name, body);
  }
  log.info(`notes: ${describeNotesChange(change, view.name, notesPath)}${image ? ` with ${image}` : ''}`);
  return { notes: notesPath, action: change.action, image };
}
