/**
 * The worker's view of the data layer: a study's encoded splits, and labelled or unlabelled
 * files tokenized with a model's vocab. The one place that calls src/core's split and
 * tokenizer modules, so the jobs read as plain steps.
 */
import type { EncodedDataset, EncodedSplit } from '../core/encoded';
import type { LoadedStudy } from '../core/study';
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

export async function encodedStudySplits(_study: LoadedStudy | string, _maxLen: number, _vocabPath: string, _ctx: JobContext): Promise<EncodedDataset> {
  throw new Error('the split/tokenizer modules are not available in this build');
}

export function encodeLabelledFile(_file: string, _o: { textColumn?: string; labelColumn?: string; labels: string[]; vocabPath: string; maxLen: number }): EncodedFile {
  throw new Error('the tokenizer is not available in this build');
}

export function encodeTextFile(_file: string, _o: { textColumn?: string; vocabPath: string; maxLen: number }): EncodedFile {
  throw new Error('the tokenizer is not available in this build');
}
