/**
 * `tokenize` and `lengths` jobs for the editor: a study's split encoded at max_len (cached for
 * trials), and the token-length statistics a user reads to choose max_seq_len.
 */
import { loadStudy } from '../../core/study';
import { createTokenizer, lengthHistogram, lengthStats, loadVocab, readTextColumn, tokenLengths, type LengthStats } from '../../core/tokenizer';
import type { LengthsJobOptions, TokenizeJobOptions } from '../../protocol/messages';
import type { JobContext } from '../context';
import { encodedStudySplits } from '../data';

export interface TokenizeJobResult {
  maxLen: number;
  labels: string[];
  vocabSize: number;
  counts: { train: number; val: number; test: number };
}

export async function tokenizeJob(o: TokenizeJobOptions, ctx: JobContext): Promise<TokenizeJobResult> {
  const loaded = loadStudy(o.study);
  const maxLen = o.maxLen ?? loaded.study.training.max_seq_len;
  const ds = await encodedStudySplits(loaded, maxLen, loaded.resolve(loaded.study.tokenizer.vocab), ctx);
  return { maxLen, labels: ds.labels, vocabSize: ds.vocabSize, counts: { train: ds.train.count, val: ds.val.count, test: ds.test.count } };
}

export interface LengthsJobResult {
  stats: LengthStats;
  /** [bucket lower bound, count] pairs, as the dashboard draws them (StudyView.lengths). */
  histogram: Array<[number, number]>;
  width: number;
  /** The last bucket holds every longer text (the tail). */
  overflowFrom?: number;
  /** Share of texts longer than each asked max_len. */
  truncated: Record<string, number>;
}

export async function lengthsJob(o: LengthsJobOptions, ctx: JobContext): Promise<LengthsJobResult> {
  const loaded = loadStudy(o.study);
  const { study } = loaded;
  ctx.progress(0, undefined, `reading ${study.data.file}`);
  const { texts } = readTextColumn(loaded.resolve(study.data.file), { textCol: study.data.textColumn });
  ctx.checkCancelled();
  ctx.progress(0, texts.length, `measuring ${texts.length} texts`);
  const tok = createTokenizer(loadVocab(loaded.resolve(study.tokenizer.vocab)), { lowercase: study.tokenizer.lowercase, stripAccents: study.tokenizer.stripAccents });
  const lengths = tokenLengths(tok, texts);
  const stats = lengthStats(lengths);
  // Fine bars over the bulk (twice the 90th percentile, and past max_seq_len), the long tail in one
  // last bar: max_seq_len is chosen from the bulk; the truncation shares tell the tail.
  const h = lengthHistogram(lengths, 40, Math.min(stats.p99, Math.max(2 * stats.p90, Math.ceil(1.25 * study.training.max_seq_len))));
  const truncated: Record<string, number> = {};
  for (const m of o.maxLens ?? study.seqlen.lengths) {
    let over = 0;
    for (let i = 0; i < lengths.length; i++) if (lengths[i] > m) over++;
    truncated[String(m)] = lengths.length ? over / lengths.length : 0;
  }
  return { stats, histogram: h.edges.map((e, i) => [e, h.counts[i]]), width: h.width, ...(h.overflowFrom !== undefined ? { overflowFrom: h.overflowFrom } : {}), truncated };
}
