/** `predict` job: a saved model labels every row of a file; the output is written atomically. */
import { extname, resolve } from 'node:path';
import { writeFileAtomic } from '../../core/fsutil';
import { tsvField } from '../../core/table';
import { predictModel } from '../../engine';
import type { PredictJobOptions } from '../../protocol/messages';
import type { JobContext } from '../context';
import { encodeTextFile } from '../data';
import { readModelInfo, scoringMaxLen } from './model-info';

export interface PredictJobResult {
  out: string;
  rows: number;
  /** Predicted rows per label. */
  counts: Record<string, number>;
  maxLen: number;
  truncated: number;
}


export async function predictJob(o: PredictJobOptions, ctx: JobContext): Promise<PredictJobResult> {
  const info = readModelInfo(o.model);
  const maxLen = scoringMaxLen(info, o.maxLen);
  ctx.log('info', info.tokenizer.source);
  const input = resolve(o.input);
  const out = resolve(o.out);
  ctx.progress(0, undefined, 'reading and tokenizing');
  const enc = encodeTextFile(input, { textColumn: o.textColumn, vocabPath: info.vocabPath, maxLen, flags: info.tokenizer.flags });
  ctx.checkCancelled();
  const backend = await ctx.backend(o.backend);
  ctx.progress(0, enc.split.count, `predicting ${enc.split.count} rows on ${backend.name}`);
  const preds = await predictModel(info.dir, enc.split, { onLog: (level, text) => ctx.log(level, text) });
  ctx.checkCancelled();
  const counts: Record<string, number> = Object.fromEntries(info.labels.map((l) => [l, 0]));
  const lines: string[] = [];
  const jsonl = extname(out).toLowerCase() === '.jsonl';
  if (!jsonl) lines.push([...enc.columns, 'predicted_label', 'probability'].map(tsvField).join('\t'));
  preds.forEach((p, i) => {
    const label = info.labels[p.label] ?? String(p.label);
    counts[label] = (counts[label] ?? 0) + 1;
    const prob = p.probs[p.label];
    if (jsonl) {
      const probs = Object.fromEntries(info.labels.map((l, k) => [l, round(p.probs[k])]));
      lines.push(JSON.stringify({ line: enc.lines[i], text: enc.texts[i], label, probability: round(prob), probs }));
    } else lines.push([...enc.rows[i], label, String(round(prob))].map(tsvField).join('\t'));
  });
  writeFileAtomic(out, `${lines.join('\n')}\n`);
  return { out, rows: preds.length, counts, maxLen, truncated: enc.truncated };
}

const round = (x: number) => Math.round(x * 1e6) / 1e6;
