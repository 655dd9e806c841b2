/**
 * Defaults that fit the data and the model, for a new study (the editor's New Study wizard and
 * `trialbook init`). A pretrained BERT is fine-tuned gently (learning rate 5e-6–1e-4, the users'
 * Keras Tuner space); a preset trained from scratch needs a learning rate ten times higher and
 * gains nothing from freezing its random body. Batch sizes leave every epoch enough optimizer
 * steps, warm-up is a fraction of the steps a trial actually takes, and max_seq_len covers the
 * texts' token lengths. `studyDefaults` is pure; `measureData` reads the vocabulary to measure the texts.
 */
import { defaultSearchSpace, type DimensionSpec, type StudyInput, type TunerSpec } from './study';
import { createTokenizer, lengthStats, loadVocab, tokenLengths } from './tokenizer';

/** A from-scratch model learns at 2e-4–2e-3 (README's learning check: tiny 5e-4–1e-3, mini 3e-4). */
const FROM_SCRATCH_LR = { low: 2e-4, high: 2e-3 } as const;
/** Fine-tuning a pretrained BERT: above this it diverges or forgets what it learned. */
export const PRETRAINED_LR_MAX = 5e-4;
/** Below this a from-scratch model barely moves in a few epochs. */
export const FROM_SCRATCH_LR_MIN = 1e-4;

/** Fewest optimizer steps an epoch should have: below, a batch size is too large for the data. */
const MIN_STEPS_PER_EPOCH = 20;
const BATCH_SIZES = [16, 32, 64, 128, 256, 512];

export interface DataFacts {
  /** Rows of the train split (measured, or estimated as rows × the train ratio). */
  trainRows: number;
  /** A pretrained folder (fine-tuning) rather than a preset trained from scratch. */
  pretrained: boolean;
  /** Token lengths of the texts ([CLS] and [SEP] included), when measured. */
  p90?: number;
  p99?: number;
}

export interface StudyDefaults {
  training: NonNullable<StudyInput['training']>;
  searchSpace: Record<string, DimensionSpec>;
  budget: NonNullable<StudyInput['budget']>;
  seqlen: NonNullable<StudyInput['seqlen']>;
  /** Epochs one trial trains at most (what warm-up is a fraction of). */
  epochs: number;
}

/** Up to three batch sizes that give each epoch at least MIN_STEPS_PER_EPOCH steps (16 at least). */
export function batchSizes(trainRows: number): number[] {
  const fit = BATCH_SIZES.filter((b) => b * MIN_STEPS_PER_EPOCH <= trainRows);
  const from = trainRows >= 10_000 ? fit.indexOf(32) : 0;
  const chosen = fit.slice(Math.max(0, from), Math.max(0, from) + 3);
  return chosen.length ? chosen : [Math.max(1, Math.min(16, Math.floor(trainRows / 2)))];
}

/**
 * The smallest power of two (32–512) at or above a token-length percentile. max_seq_len covers 90%
 * of the texts (cost grows with it); the sequence-length study tries longer ones, up to the 99th.
 */
export function maxSeqLenFor(percentile: number | undefined): number {
  if (!percentile) return 128;
  let len = 32;
  while (len < percentile && len < 512) len *= 2;
  return len;
}

export function studyDefaults(f: DataFacts): StudyDefaults {
  const epochs = 3;
  const batches = batchSizes(f.trainRows);
  const largest = Math.max(...batches);
  // The shortest trial (largest batch) decides: warm-up must end well inside it.
  const fewestSteps = Math.ceil(f.trainRows / largest) * epochs;
  const warmups = [...new Set([0, Math.round(fewestSteps * 0.05), Math.round(fewestSteps * 0.1)])];
  const maxLen = maxSeqLenFor(f.p90);
  const stepsPerEpoch = Math.ceil(f.trainRows / Math.min(...batches));
  const searchSpace: Record<string, DimensionSpec> = f.pretrained
    ? { ...defaultSearchSpace(), warmup_steps: { type: 'choice', values: warmups }, batch_size: { type: 'choice', values: batches } }
    : {
        learning_rate: { type: 'float', low: FROM_SCRATCH_LR.low, high: FROM_SCRATCH_LR.high, log: true },
        warmup_steps: { type: 'choice', values: warmups },
        dropout_rate: { type: 'float', low: 0, high: 0.3 },
        batch_size: { type: 'choice', values: batches },
      };
  const lengths = [32, 64, 128, 256, 512].filter((l) => l <= Math.max(64, maxSeqLenFor(f.p99)));
  return {
    training: { epochs, max_seq_len: maxLen, patience: 2, logEverySteps: Math.max(1, Math.min(50, Math.round(stepsPerEpoch / 10))) },
    searchSpace,
    budget: { maxTrials: 20, repeats: 1 },
    seqlen: { lengths, repeats: 3 },
    epochs,
  };
}

/** The tuner of a new study; Hyperband's top budget is three times a plain trial's epochs. */
export function defaultTuner(type: TunerSpec['type'], epochs: number): StudyInput['tuner'] {
  if (type === 'hyperband') return { type, max_epochs: epochs * 3, factor: 3 };
  if (type === 'asha') return { type, min_epochs: 1, max_epochs: epochs * 3, factor: 3 };
  return { type };
}

/** Texts measured for the defaults: an even sample is enough for percentiles. */
const SAMPLE = 5_000;

/**
 * What the defaults need from the data: the train split's rows (the ratios applied to the rows
 * that have a label) and the 90th/99th percentiles of token lengths with the study's vocabulary.
 */
export function measureData(texts: readonly string[], vocabPath: string, trainShare = 0.8, opts: { lowercase?: boolean; stripAccents?: boolean } = {}): Omit<DataFacts, 'pretrained'> {
  const tok = createTokenizer(loadVocab(vocabPath), { lowercase: opts.lowercase ?? false, stripAccents: opts.stripAccents ?? false });
  const step = Math.max(1, Math.floor(texts.length / SAMPLE));
  const sample = texts.filter((_, i) => i % step === 0);
  const stats = lengthStats(tokenLengths(tok, sample));
  return { trainRows: Math.max(1, Math.floor(texts.length * trainShare)), p90: stats.p90, p99: stats.p99 };
}
