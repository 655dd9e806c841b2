/**
 * The e2e workspace: a small demo workspace generated here (reviews.tsv, vocab.txt, notes.md,
 * demo.trialbook.json), shaped like examples/demo but with a plain-markdown notes file and a
 * balanced 200-row corpus, so each assertion knows what to expect. Journals are written
 * through the real store.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { JournalStore } from '../../src/store/journal';
import type { Params } from '../../src/protocol/messages';

export const repoRoot = resolve(__dirname, '..', '..');

export function makeWorkspace(dir: string): { study: string; notes: string } {
  mkdirSync(dir, { recursive: true });
  const good = ['좋아요', '재밌다', '최고', '감동', 'great', 'fun'];
  const bad = ['별로', '지루해', '최악', '실망', 'boring', 'bad'];
  const rows = ['id\tdocument\tlabel'];
  for (let i = 0; i < 200; i++) {
    const pos = i % 2 === 0;
    const words = pos ? good : bad;
    rows.push(`${i}\t${words[i % 6]} ${words[(i * 7) % 6]} 영화 ${i}\t${pos ? 1 : 0}`);
  }
  writeFileSync(join(dir, 'reviews.tsv'), rows.join('\n') + '\n');
  const vocab = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', ...new Set([...good, ...bad, '영화'].join('').split('')), ...'abcdefghijklmnopqrstuvwxyz0123456789'.split('')];
  writeFileSync(join(dir, 'vocab.txt'), vocab.join('\n') + '\n');
  writeFileSync(join(dir, 'notes.md'), '# Demo research log\n\nResults from the demo study go below.\n\n## 2026-11-25\n\n- tried the demo study\n');
  const study = {
    name: 'demo',
    data: { file: './reviews.tsv', textColumn: 'document', labelColumn: 'label' },
    tokenizer: { vocab: './vocab.txt' },
    model: 'tiny',
    training: { epochs: 3, max_seq_len: 32 },
    searchSpace: {
      learning_rate: { type: 'float', low: 5e-6, high: 1e-4, log: true },
      dropout_rate: { type: 'float', low: 0, high: 0.5 },
      batch_size: { type: 'choice', values: [16, 32] },
    },
    tuner: { type: 'random' },
    budget: { maxTrials: 6 },
    notes: './notes.md',
  };
  writeFileSync(join(dir, 'demo.trialbook.json'), JSON.stringify(study, null, 2) + '\n');
  return { study: join(dir, 'demo.trialbook.json'), notes: join(dir, 'notes.md') };
}

/** A finished study of `n` trials written through the journal store (what a tuning run leaves). */
export async function writeJournal(studyDir: string, name: string, n: number, opts: { failEvery?: number } = {}): Promise<void> {
  const store = new JournalStore(join(studyDir, '.trialbook', name), { lockSignals: false });
  let at = Date.now() - n * 1000;
  for (let i = 0; i < n; i++) {
    const lr = 5e-6 * Math.pow(20, ((i * 37) % 100) / 100);
    const params: Params = { learning_rate: lr, dropout_rate: ((i * 13) % 50) / 100, batch_size: i % 3 === 0 ? 16 : 32 };
    const q = 0.3 + Math.abs(Math.log10(lr) + 4.7) * 0.2 + (Number(params.dropout_rate) - 0.2) ** 2;
    await store.append({ type: 'created', trial: i, params, epochs: 3, at: at++ });
    await store.append({ type: 'started', trial: i, worker: 'e2e', at: at++ });
    if (opts.failEvery && i % opts.failEvery === opts.failEvery - 1) {
      await store.append({ type: 'failed', trial: i, reason: 'oom: out of memory at batch 32', cause: 'oom', at: at++ });
      continue;
    }
    for (let e = 1; e <= 3; e++) await store.append({ type: 'metric', trial: i, metric: { epoch: e, train_loss: q + 0.4 / e, val_loss: q + 0.5 / e, val_accuracy: 1 - q / 2 }, at: at++ });
    await store.append({ type: 'finished', trial: i, value: q + 0.5 / 3, result: { bestEpoch: 3 }, at: (at += 900) });
  }
  await store.close();
}
