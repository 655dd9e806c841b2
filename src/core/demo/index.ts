/**
 * The demo workspace: a generated corpus, a char vocab built from it, a research-log-style
 * notes file and a study small enough to tune on a laptop CPU in a few minutes.
 */
import { join } from 'node:path';
import { writeFileAtomic } from '../fsutil';
import type { StudyInput } from '../study';
import { parseStudy } from '../study';
import { buildCharVocab } from '../tokenizer/build-vocab';
import { generateDemoCorpus, type DemoReview } from './corpus';

export { generateDemoCorpus, type DemoReview, type DemoOptions } from './corpus';

/** TSV cell: the generator never emits tabs or newlines, but keep the file valid regardless. */
function cell(s: string): string {
  return s.replace(/[\t\r\n]+/g, ' ');
}

export function demoTsv(reviews: DemoReview[]): string {
  const lines = ['id\tdocument\tlabel'];
  reviews.forEach((r, i) => lines.push(`${1000000 + i}\t${cell(r.text)}\t${r.label}`));
  return lines.join('\n') + '\n';
}

export function demoStudy(): StudyInput {
  return {
    name: 'demo',
    data: { file: 'reviews.tsv', textColumn: 'document', labelColumn: 'label', ratios: [0.8, 0.1, 0.1], seed: 42 },
    tokenizer: { vocab: 'vocab.txt', lowercase: false, stripAccents: false },
    model: 'tiny',
    training: { epochs: 2, max_seq_len: 64, patience: 2, logEverySteps: 10 },
    objective: { metric: 'val_loss', direction: 'minimize' },
    searchSpace: {
      // Trained from scratch on ~2,000 reviews: far higher rates than fine-tuning a pretrained BERT.
      learning_rate: { type: 'float', low: 3e-4, high: 3e-3, log: true },
      warmup_steps: { type: 'choice', values: [0, 10, 50] },
      freeze_body: { type: 'bool' },
      dropout_rate: { type: 'float', low: 0, high: 0.5 },
      batch_size: { type: 'choice', values: [16, 32] },
    },
    tuner: { type: 'hyperband', max_epochs: 3, factor: 3, hyperband_iterations: 1 },
    budget: { maxTrials: 6, repeats: 1 },
    seqlen: { lengths: [32, 64, 128], repeats: 3 },
    notes: 'notes.md',
  };
}

const NOTES = `# 게임 리뷰 감성 분석 — Trialbook demo

Research log for the demo study (synthetic Steam-style reviews, binary sentiment).
See [[demo.trialbook.json]] for the study and [[HyperBand]] for how the tuner spends epochs.

## 일자별 정리
- 훈련 / 검증 / 테스트 데이터 : 8 : 1 : 1
- 토큰 길이 분포를 보고 \`max_seq_length\`를 정한다.

![[token-lengths.png]]

### 결과
Trialbook writes the results of the study below, between its markers, and updates them in place.
`;

/** What `trialbook demo` and examples/demo use. */
export const DEMO_DEFAULTS = { count: 2400, seed: 7 } as const;

export interface DemoWorkspaceOptions {
  count: number;
  seed: number;
  vocabSize?: number;
}

/** Writes reviews.tsv, vocab.txt, notes.md and demo.trialbook.json into `dir`. */
export function writeDemoWorkspace(dir: string, opts: DemoWorkspaceOptions): void {
  const reviews = generateDemoCorpus({ count: opts.count, seed: opts.seed });
  const vocab = buildCharVocab(reviews.map((r) => r.text), opts.vocabSize ?? 2000);
  const study = demoStudy();
  parseStudy(study, join(dir, 'demo.trialbook.json')); // the demo must always be a valid study
  writeFileAtomic(join(dir, 'reviews.tsv'), demoTsv(reviews));
  writeFileAtomic(join(dir, 'vocab.txt'), vocab.join('\n') + '\n');
  writeFileAtomic(join(dir, 'notes.md'), NOTES);
  writeFileAtomic(join(dir, 'demo.trialbook.json'), JSON.stringify(study, null, 2) + '\n');
}
