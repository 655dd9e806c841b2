/**
 * Pre-flight check before a study spends CPU hours (the editor's Start Tuning, `trialbook tune`):
 * the files it needs exist (errors: nothing starts), and its settings can train at all
 * (warnings naming the key): warm-up no shorter than a trial, a batch larger than the train
 * split, a learning rate range made for the other kind of model. Also what the tuner will spend
 * (runs and epochs), for the confirmation and the ETA. Reads only the study's files.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../core/errors';
import { HYPERPARAMETERS } from '../core/params';
import type { SplitManifest } from '../core/split-types';
import { studySplitDir } from '../core/split';
import type { DimensionSpec, LoadedStudy, Study } from '../core/study';
import { FROM_SCRATCH_LR_MIN, PRETRAINED_LR_MAX } from '../core/study-defaults';
import { isPreset } from '../engine/config';
import { WEIGHT_LAYOUT_FILES } from '../engine/weight-files';
import { planHyperband } from '../tuners/hyperband';

export interface PreflightIssue {
  level: 'error' | 'warning';
  /** The study file's key path the issue is about. */
  key: string;
  message: string;
}

export interface Preflight {
  issues: PreflightIssue[];
  /** Train split rows: counted in the split, else estimated from the data file (`estimated`). */
  trainRows?: number;
  estimated?: boolean;
  valRows?: number;
  budget: Budget;
}

/** What the tuner spends: runs (promotions included) and epochs, at most. */
export interface Budget {
  runs: number;
  epochs: number;
}

/** Values a hyperparameter can take, or its study default when the space leaves it out. */
function valuesOf(d: DimensionSpec | undefined, fallback: number): number[] {
  if (!d) return [fallback];
  if (d.type === 'fixed') return typeof d.value === 'number' ? [d.value] : [fallback];
  if (d.type === 'choice') return d.values.filter((v): v is number => typeof v === 'number');
  if (d.type === 'float' || d.type === 'int') return [d.low, d.high];
  return [fallback];
}

/** Epochs one trial trains at most. */
function trialEpochs(study: Study): number {
  const t = study.tuner;
  return t.type === 'hyperband' || t.type === 'asha' ? t.max_epochs : Math.max(...valuesOf(study.searchSpace.epochs, study.training.epochs));
}

export function tunerBudget(study: Study): Budget {
  const t = study.tuner;
  const repeats = study.budget.repeats;
  if (t.type === 'hyperband') {
    const plan = planHyperband(t.max_epochs, t.factor, t.hyperband_iterations);
    return { runs: plan.runs * repeats, epochs: plan.epochs * repeats };
  }
  const runs = study.budget.maxTrials * repeats;
  return { runs, epochs: runs * trialEpochs(study) };
}

/** Rows of each split, counted by an existing split or estimated from the data file's lines and ratios. */
export function splitRows(loaded: LoadedStudy): { train?: number; val?: number; estimated?: boolean } {
  try {
    const m = JSON.parse(readFileSync(join(studySplitDir(loaded), 'manifest.json'), 'utf8')) as SplitManifest;
    const sum = (c: Record<string, number>) => Object.values(c).reduce((a, b) => a + b, 0);
    return { train: sum(m.counts.train), val: sum(m.counts.val) };
  } catch {
    // Not split yet: count lines (a quick byte scan; files beyond 256 MiB are not guessed at).
  }
  const file = loaded.resolve(loaded.study.data.file);
  if (!existsSync(file) || statSync(file).size > 256 * 2 ** 20) return {};
  const bytes = readFileSync(file);
  let lines = 0;
  for (let i = 0; i < bytes.length; i++) if (bytes[i] === 10) lines++;
  if (bytes.length && bytes[bytes.length - 1] !== 10) lines++;
  const rows = Math.max(0, lines - 1);
  const r = loaded.study.data.ratios;
  const total = r[0] + r[1] + r[2];
  return { train: Math.floor((rows * r[0]) / total), val: Math.floor((rows * r[1]) / total), estimated: true };
}

/** The checks on the study's settings, given the train split's size (pure). */
export function checkSettings(study: Study, trainRows: number | undefined, estimated = false): PreflightIssue[] {
  const out: PreflightIssue[] = [];
  const space = study.searchSpace;
  // A misspelt hyperparameter is the run's own one-line error (with did-you-mean): no guesses around it.
  if (Object.keys(space).some((name) => !(name in HYPERPARAMETERS))) return out;
  const fromScratch = isPreset(study.model);
  const epochs = trialEpochs(study);
  const batches = valuesOf(space.batch_size, 32);
  const rows = `${estimated ? 'about ' : ''}${trainRows} train rows`;
  if (trainRows !== undefined) {
    const big = Math.max(...batches);
    if (big > trainRows) out.push({ level: 'warning', key: 'searchSpace.batch_size', message: `batch_size ${big} is larger than the train split (${rows}): such a trial takes one step an epoch; use at most ${Math.max(1, Math.floor(trainRows / 20))}` });
    const fewest = Math.ceil(trainRows / Math.min(big, trainRows)) * epochs;
    const warmup = Math.max(...valuesOf(space.warmup_steps, 0));
    if (warmup >= fewest) {
      out.push({
        level: 'warning',
        key: space.warmup_steps ? 'searchSpace.warmup_steps' : 'training',
        message: `warm-up of up to ${warmup} steps, but a trial at batch_size ${big} trains only ${fewest} steps (${rows}, ${epochs} epochs): its learning rate never leaves warm-up; keep warm-up within about 10% of that (≤ ${Math.max(0, Math.round(fewest * 0.1))})`,
      });
    }
  }
  const lrs = valuesOf(space.learning_rate, 5e-5);
  const [lo, hi] = [Math.min(...lrs), Math.max(...lrs)];
  const lrKey = space.learning_rate ? 'searchSpace.learning_rate' : 'searchSpace';
  if (fromScratch && hi <= FROM_SCRATCH_LR_MIN) out.push({ level: 'warning', key: lrKey, message: `learning rates ${lo}–${hi} suit fine-tuning a pretrained BERT; "${study.model}" is trained from scratch and barely moves at or below ${FROM_SCRATCH_LR_MIN} in a few epochs (try 2e-4–2e-3)` });
  // A frozen body trains only the classification head, which wants the larger rates.
  const frozen = space.freeze_body?.type === 'fixed' ? space.freeze_body.value === true : space.freeze_body?.type === 'choice' && space.freeze_body.values.every((v) => v === true);
  if (!fromScratch && !frozen && hi > PRETRAINED_LR_MAX) out.push({ level: 'warning', key: lrKey, message: `learning rates up to ${hi} are high for fine-tuning a pretrained BERT (above ${PRETRAINED_LR_MAX} it tends to diverge or forget its pretraining; try 5e-6–1e-4)` });
  return out;
}

/** Every check of a loaded study: the files it needs, then its settings against the data. */
export function preflight(loaded: LoadedStudy): Preflight {
  const { study } = loaded;
  const issues: PreflightIssue[] = [];
  const missing = (key: string, path: string, what: string) => {
    if (!existsSync(path)) issues.push({ level: 'error', key, message: `${what} ${path} does not exist` });
  };
  missing('data.file', loaded.resolve(study.data.file), 'the data file');
  missing('tokenizer.vocab', loaded.resolve(study.tokenizer.vocab), 'the vocabulary');
  if (!isPreset(study.model)) {
    const dir = loaded.resolve(study.model);
    missing('model', join(dir, 'config.json'), 'the model folder needs config.json:');
    if (existsSync(dir) && !WEIGHT_LAYOUT_FILES.some((f) => existsSync(join(dir, f)))) issues.push({ level: 'error', key: 'model', message: `the model folder ${dir} has no weights (looked for ${WEIGHT_LAYOUT_FILES.join(', ')})` });
  }
  const rows = splitRows(loaded);
  issues.push(...checkSettings(study, rows.train, rows.estimated));
  return { issues, ...(rows.train !== undefined ? { trainRows: rows.train, valRows: rows.val, estimated: rows.estimated } : {}), budget: tunerBudget(study) };
}

/**
 * The check as `tune` runs it: each warning is one line to `warn`; the first error stops the
 * command with one line naming the file and the key (exit 2), before anything is written.
 */
export function requirePreflight(loaded: LoadedStudy, warn: (line: string) => void): Preflight {
  const p = preflight(loaded);
  const error = p.issues.find((i) => i.level === 'error');
  if (error) throw new UserError(`${loaded.file}: ${error.key}: ${error.message}`, 'E_PREFLIGHT');
  for (const i of p.issues) warn(`warning: ${loaded.file}: ${i.key}: ${i.message}`);
  return p;
}
