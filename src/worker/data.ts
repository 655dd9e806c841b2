/**
 * The worker's view of the data layer: a study's encoded splits, and labelled or unlabelled
 * files tokenized with a model's vocab. The one place that calls src/core's split and
 * tokenizer modules, so the jobs read as plain steps.
 */
import { join } from 'node:path';
import type { EncodedDataset, EncodedSplit } from '../core/encoded';
import { atLine, UserError } from '../core/errors';
import { labelIndex, normaliseLabel } from '../core/labels';
import { splitFromStudy } from '../core/split';
import { loadStudy, studyStateDir, type LoadedStudy } from '../core/study';
import { findColumn, readTable, type Table } from '../core/table';
import type { JobContext } from './context';

export interface EncodedFile {
  split: EncodedSplit;
  /** Rows cut at maxLen. */
  truncated: number;
  /** Header of the file, and each data row's cells, texts and 1-based line numbers. */
  columns: string[];
  rows: string[][];
  texts: string[];
  lines: number[];
}

/** The study's split (made or reused) tokenized at maxLen (cached beside the study). */
export async function encodedStudySplits(study: LoadedStudy | string, maxLen: number, vocabPath: string, ctx: JobContext): Promise<EncodedDataset> {
  const loaded = typeof study === 'string' ? loadStudy(study) : study;
  ctx.progress(0, undefined, 'splitting data');
  const split = splitFromStudy(loaded);
  if (!split.reused) for (const line of split.report) ctx.log('info', line);
  ctx.checkCancelled();
  ctx.progress(0, undefined, `tokenizing (max_len ${maxLen})`);
  return encodeStudySplit(split.manifest.fingerprint, loaded, vocabPath, maxLen);
}

const TEXT_COLUMNS = ['text', 'document', 'sentence', 'review', 'content'];

function textColumnOf(table: Table, asked: string | undefined): number {
  if (asked !== undefined) return findColumn(table, asked, 'text column');
  const i = table.header.findIndex((h) => TEXT_COLUMNS.includes(h.trim().toLowerCase()));
  if (i !== -1) return i;
  throw new UserError(`${table.file}: no text column named ${TEXT_COLUMNS.join(', ')}; name it with --text-col (the columns are: ${table.header.map((h) => JSON.stringify(h)).join(', ')})`, 'E_DATA');
}

/** A labelled table tokenized with a model's vocab; labels must be ones the model knows. */
export function encodeLabelledFile(file: string, o: { textColumn?: string; labelColumn?: string; labels: string[]; vocabPath: string; maxLen: number }): EncodedFile {
  const table = readTable(file);
  const tc = textColumnOf(table, o.textColumn);
  const lc = findColumn(table, o.labelColumn ?? 'label', 'label column');
  const index = labelIndex(o.labels);
  const labels = new Int32Array(table.records.length);
  table.records.forEach((r, i) => {
    const name = normaliseLabel(r.fields[lc] ?? '');
    const id = index.get(name);
    if (id === undefined) throw atLine(file, r.line, `label ${JSON.stringify(name)} is not one the model knows (${o.labels.join(', ')})`);
    labels[i] = id;
  });
  return encodeTable(table, tc, labels, o.vocabPath, o.maxLen);
}

/** A table's text column tokenized with a model's vocab (labels, if any, are ignored). */
export function encodeTextFile(file: string, o: { textColumn?: string; vocabPath: string; maxLen: number }): EncodedFile {
  const table = readTable(file);
  const tc = textColumnOf(table, o.textColumn);
  return encodeTable(table, tc, new Int32Array(table.records.length), o.vocabPath, o.maxLen);
}

function encodeTable(table: Table, textCol: number, labels: Int32Array, vocabPath: string, maxLen: number): EncodedFile {
  const texts = table.records.map((r) => r.fields[textCol] ?? '');
  const { ids, lengths, truncated } = encodeTexts(texts, vocabPath, maxLen);
  return {
    split: { maxLen, count: texts.length, ids, lengths, labels },
    truncated,
    columns: table.header,
    rows: table.records.map((r) => r.fields),
    texts,
    lines: table.records.map((r) => r.line),
  };
}

// --- tokenizer calls (src/core/tokenizer) ---------------------------------------------------

function encodeStudySplit(_fingerprint: string, loaded: LoadedStudy, vocabPath: string, maxLen: number): Promise<EncodedDataset> {
  void join(studyStateDir(loaded), 'encoded');
  void vocabPath;
  void maxLen;
  throw new Error('the tokenizer is not available in this build');
}

function encodeTexts(_texts: string[], _vocabPath: string, _maxLen: number): { ids: Int32Array; lengths: Uint16Array; truncated: number } {
  throw new Error('the tokenizer is not available in this build');
}
