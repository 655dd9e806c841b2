/**
 * The worker's view of the data layer: a study's encoded splits, and labelled or unlabelled
 * files tokenized with a model's vocab. The one place that calls src/core's split and
 * tokenizer modules, so the jobs read as plain steps.
 */
import { join } from 'node:path';
import type { EncodedDataset, EncodedSplit } from '../core/encoded';
import { atLine, quotedList, UserError } from '../core/errors';
import { labelIndex, normaliseLabel } from '../core/labels';
import { splitFromStudy, studySplitDir } from '../core/split';
import { createTokenizer, loadEncodedDataset, loadVocab, type BasicOptions } from '../core/tokenizer';
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
  return encodeStudySplit(ctx, loaded, vocabPath, maxLen);
}

const TEXT_COLUMNS = ['text', 'document', 'sentence', 'review', 'content'];

function textColumnOf(table: Table, asked: string | undefined): number {
  if (asked !== undefined) return findColumn(table, asked, 'text column');
  const i = table.header.findIndex((h) => TEXT_COLUMNS.includes(h.trim().toLowerCase()));
  if (i !== -1) return i;
  throw new UserError(`${table.file}: no text column named ${TEXT_COLUMNS.join(', ')}; name it with --text-col (the columns are: ${quotedList(table.header)})`, 'E_DATA');
}

/** A labelled table tokenized with a model's vocab; labels must be ones the model knows. */
export function encodeLabelledFile(file: string, o: { textColumn?: string; labelColumn?: string; labels: string[]; vocabPath: string; maxLen: number; flags?: TokenizerFlags }): EncodedFile {
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
  return encodeTable(table, tc, labels, o.vocabPath, o.maxLen, o.flags ?? {});
}

/** A table's text column tokenized with a model's vocab (labels, if any, are ignored). */
export function encodeTextFile(file: string, o: { textColumn?: string; vocabPath: string; maxLen: number; flags?: TokenizerFlags }): EncodedFile {
  const table = readTable(file);
  const tc = textColumnOf(table, o.textColumn);
  return encodeTable(table, tc, new Int32Array(table.records.length), o.vocabPath, o.maxLen, o.flags ?? {});
}

function encodeTable(table: Table, textCol: number, labels: Int32Array, vocabPath: string, maxLen: number, flags: TokenizerFlags): EncodedFile {
  const texts = table.records.map((r) => {
    const t = r.fields[textCol];
    if (t === undefined) throw atLine(table.file, r.line, `the row has ${r.fields.length} field(s), no ${JSON.stringify(table.header[textCol])} column`);
    return t;
  });
  const { ids, lengths, truncated } = encodeTexts(texts, vocabPath, maxLen, flags);
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

function encodeStudySplit(ctx: JobContext, loaded: LoadedStudy, vocabPath: string, maxLen: number): EncodedDataset {
  const t = loaded.study.tokenizer;
  return loadEncodedDataset({
    splitDir: studySplitDir(loaded),
    vocabPath,
    maxLen,
    cacheDir: join(studyStateDir(loaded), 'encoded'),
    lowercase: t.lowercase,
    stripAccents: t.stripAccents,
    warn: (m) => ctx.log('warn', m),
    onCache: ({ hit, file }) => ctx.log('debug', `encoded cache ${hit ? 'hit' : 'written'}: ${file}`),
  });
}

/** Tokenizer flags of a model folder (core/tokenizer readTokenizerConfig); cased by default. */
export type TokenizerFlags = BasicOptions;

function encodeTexts(texts: string[], vocabPath: string, maxLen: number, flags: TokenizerFlags): { ids: Int32Array; lengths: Uint16Array; truncated: number } {
  return createTokenizer(loadVocab(vocabPath), flags).encodeBatch(texts, maxLen);
}
