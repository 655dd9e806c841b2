/**
 * A small generated study for worker and CLI tests: two classes told apart by their words, a
 * char-level WordPiece vocab (KR-BERT style: each char, and ##char for word-inner ones), and a
 * study file training a `tiny` model from scratch at a short max_seq_len.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { resolveParams } from '../../src/core/params';
import { loadStudy } from '../../src/core/study';
import type { JobInput, TrialJobOptions } from '../../src/protocol/messages';
import { trialJobInput } from '../../src/worker/jobs/trial-types';

const POS = ['정말 좋다', '최고 영화', '재미 있다', '감동 최고', '좋다 정말 재미'];
const NEG = ['너무 별로', '지루 하다', '최악 영화', '시간 아깝다', '별로 지루'];

/** Writes data.tsv, vocab.txt and tiny.trialbook.json into `dir`; returns the study path. */
export function makeStudy(dir: string, rows = 120, extra: Record<string, unknown> = {}): string {
  const lines = ['text\tlabel'];
  for (let i = 0; i < rows; i++) {
    const pos = i % 2 === 0;
    const words = pos ? POS : NEG;
    // Distinct rows (the splitter removes duplicates): a number makes each one unique.
    lines.push(`${words[i % words.length]} ${i}\t${pos ? 'pos' : 'neg'}`);
  }
  writeFileSync(join(dir, 'data.tsv'), `${lines.join('\n')}\n`);
  const chars = new Set<string>();
  for (const s of [...POS, ...NEG, '0123456789']) for (const ch of s) if (ch !== ' ') chars.add(ch);
  const vocab = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', ...[...chars].sort(), ...[...chars].sort().map((c) => `##${c}`)];
  writeFileSync(join(dir, 'vocab.txt'), `${vocab.join('\n')}\n`);
  const study = {
    name: 'tiny-test',
    data: { file: 'data.tsv', textColumn: 'text', labelColumn: 'label', ratios: [0.7, 0.15, 0.15] },
    tokenizer: { vocab: 'vocab.txt' },
    model: 'tiny',
    training: { epochs: 2, max_seq_len: 16, logEverySteps: 2, patience: 2 },
    searchSpace: { learning_rate: { type: 'fixed', value: 0.001 }, batch_size: { type: 'choice', values: [8, 16] } },
    tuner: { type: 'random' },
    ...extra,
  };
  const file = join(dir, 'tiny.trialbook.json');
  writeFileSync(file, JSON.stringify(study, null, 2));
  return file;
}


/** The trial job the study runner would send for `given` hyperparameters of the study in `file`. */
export function trialJob(file: string, given: Record<string, unknown>, options: Omit<TrialJobOptions, 'study' | 'params'> = {}): JobInput {
  const loaded = loadStudy(file);
  return trialJobInput(loaded, resolveParams(loaded.study, loaded.file, given).params, options);
}
