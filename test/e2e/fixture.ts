/**
 * The e2e workspace: the demo corpus (examples/demo: 2,400 Korean game reviews and their char
 * vocabulary) with a plain-markdown notes file and `demo.trialbook.json`, a real study of the
 * tiny model (Hyperband over 3 epochs: 6 short trials, one promoted), so each assertion knows
 * what to expect. Journals of finished studies are written through the real store.
 */
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { JournalStore } from '../../src/store/journal';
import type { Params } from '../../src/protocol/messages';

export const repoRoot = resolve(__dirname, '..', '..');

/** The demo study: real training of `tiny`, about 30 s on two cores. */
export const DEMO_STUDY = {
  name: 'demo',
  data: { file: './reviews.tsv', textColumn: 'document', labelColumn: 'label' },
  tokenizer: { vocab: './vocab.txt' },
  model: 'tiny',
  training: { epochs: 3, max_seq_len: 64, logEverySteps: 10 },
  searchSpace: {
    learning_rate: { type: 'float', low: 3e-4, high: 3e-3, log: true },
    warmup_steps: { type: 'choice', values: [0, 10] },
    dropout_rate: { type: 'float', low: 0, high: 0.3 },
    batch_size: { type: 'choice', values: [32] },
  },
  tuner: { type: 'hyperband', max_epochs: 3, factor: 3 },
  budget: { maxTrials: 6 },
  seqlen: { lengths: [32, 64], repeats: 2 },
  notes: './notes.md',
};

/** The search space writeJournal's trials come from. */
export const JOURNAL_SPACE = {
  learning_rate: { type: 'float', low: 5e-6, high: 1e-4, log: true },
  dropout_rate: { type: 'float', low: 0, high: 0.5 },
  batch_size: { type: 'choice', values: [16, 32] },
};

export function makeWorkspace(dir: string): { study: string; notes: string } {
  mkdirSync(dir, { recursive: true });
  for (const f of ['reviews.tsv', 'vocab.txt']) copyFileSync(join(repoRoot, 'examples', 'demo', f), join(dir, f));
  writeFileSync(join(dir, 'notes.md'), '# Demo research log\n\nResults from the demo study go below.\n\n## 2026-11-25\n\n- tried the demo study\n');
  writeFileSync(join(dir, 'demo.trialbook.json'), JSON.stringify(DEMO_STUDY, null, 2) + '\n');
  return { study: join(dir, 'demo.trialbook.json'), notes: join(dir, 'notes.md') };
}

/** A study file for a journal written by writeJournal (same data, its search space); `extra` overrides keys. */
export function writeJournalStudy(dir: string, name: string, extra: Record<string, unknown> = {}): string {
  const file = join(dir, `${name}.trialbook.json`);
  writeFileSync(file, JSON.stringify({ ...DEMO_STUDY, name, searchSpace: JOURNAL_SPACE, tuner: { type: 'random' }, notes: undefined, ...extra }, null, 2));
  return file;
}

/**
 * A finished study of `n` trials written through the journal store (what a tuning run leaves),
 * with epoch rows as the engine logs them; `seqlen` adds sequence-length runs (lengths × repeats).
 */
export async function writeJournal(studyDir: string, name: string, n: number, opts: { failEvery?: number; seqlen?: { lengths: number[]; repeats: number } } = {}): Promise<void> {
  const store = new JournalStore(join(studyDir, '.trialbook', name), { lockSignals: false });
  let at = Date.now() - n * 1000;
  const epochs = async (trial: number, q: number): Promise<void> => {
    for (let e = 1; e <= 3; e++) await store.append({ type: 'metric', trial, metric: { epoch: e, step: e * 60, train_loss: q + 0.4 / e, val_loss: q + 0.5 / e, val_accuracy: 1 - q / 2 - 0.1 / e }, at: at++ });
    await store.append({ type: 'finished', trial, value: q + 0.5 / 3, result: { bestEpoch: 3, bestValLoss: q + 0.5 / 3, bestValAccuracy: 1 - q / 2 - 0.1 / 3, backend: 'wasm' }, at: (at += 900) });
  };
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
    await epochs(i, q);
  }
  let k = n;
  for (const maxLen of opts.seqlen?.lengths ?? []) {
    for (let r = 0; r < opts.seqlen!.repeats; r++, k++) {
      await store.append({ type: 'created', trial: k, params: { learning_rate: 2e-5, dropout_rate: 0.2, batch_size: 32, max_seq_len: maxLen }, epochs: 3, tag: { seqlen: { maxLen, repeat: r }, repeat: r }, at: at++ });
      await store.append({ type: 'started', trial: k, worker: 'e2e', at: at++ });
      await epochs(k, 0.3 + 32 / maxLen / 10 + r / 100);
    }
  }
  await store.close();
}
