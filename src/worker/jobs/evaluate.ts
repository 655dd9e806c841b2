/** `evaluate` job: a saved model scores a labelled file, or a study's val/test split. */
import { resolve } from 'node:path';
import { UserError } from '../../core/errors';
import type { EncodedSplit } from '../../core/encoded';
import { evaluateModel, type EvalResult } from '../../engine';
import type { EvaluateJobOptions } from '../../protocol/messages';
import type { JobContext } from '../context';
import { encodeLabelledFile, encodedStudySplits } from '../data';
import { readModelInfo, scoringMaxLen } from './model-info';

export interface EvaluateJobResult extends EvalResult {
  source: string;
  maxLen: number;
  /** Rows longer than maxLen tokens (cut). */
  truncated: number;
}

export async function evaluateJob(o: EvaluateJobOptions, ctx: JobContext): Promise<EvaluateJobResult> {
  const info = readModelInfo(o.model);
  const maxLen = scoringMaxLen(info, o.maxLen);
  let split: EncodedSplit;
  let source: string;
  let truncated = 0;
  if (o.input) {
    ctx.progress(0, undefined, 'reading and tokenizing');
    ctx.log('info', info.tokenizer.source);
    const enc = encodeLabelledFile(resolve(o.input), { textColumn: o.textColumn, labelColumn: o.labelColumn, labels: info.labels, vocabPath: info.vocabPath, maxLen, flags: info.tokenizer.flags });
    split = enc.split;
    truncated = enc.truncated;
    source = resolve(o.input);
  } else if (o.study) {
    const which = o.split ?? 'test';
    const ds = await encodedStudySplits(o.study, maxLen, info.vocabPath, ctx);
    if (ds.labels.join('\u0000') !== info.labels.join('\u0000')) {
      throw new UserError(`${info.dir}: the model's labels (${info.labels.join(', ')}) differ from the study's (${ds.labels.join(', ')})`, 'E_LABELS');
    }
    split = ds[which];
    source = `${resolve(o.study)} (${which} split)`;
  } else {
    throw new UserError('evaluate: give an input file (--input) or a study and split', 'E_USAGE');
  }
  ctx.checkCancelled();
  const backend = await ctx.backend(o.backend);
  ctx.progress(0, split.count, `scoring ${split.count} rows on ${backend.name}`);
  const r = await evaluateModel(info.dir, split, { onLog: (level, text) => ctx.log(level, text) });
  return { ...r, source, maxLen, truncated };
}
