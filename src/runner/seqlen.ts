/**
 * The sequence-length study: for each max_seq_len, `repeats` runs with fresh initialisation
 * and reshuffled data (seed = base + repeat) at fixed other hyperparameters. Runs are ordinary
 * journal trials tagged {seqlen: {maxLen, repeat}}, so the study resumes like any other; the
 * plan below is just a trial source for the study runner.
 */
import type { LoadedStudy } from '../core/study';
import { UserError } from '../core/errors';
import type { Params, ParamValue } from '../protocol/messages';
import type { StoredTrial } from '../store/types';
import { mean, std, welchTTest } from '../tuners/stats';
import type { Suggestion, TrialRecord } from '../tuners/types';
import { willRerun } from './failure-policy';
import type { TrialSource } from './study-runner';

export interface SeqlenTag {
  maxLen: number;
  repeat: number;
}

export function seqlenTag(t: { tag?: Record<string, unknown> }): SeqlenTag | undefined {
  const s = t.tag?.seqlen as SeqlenTag | undefined;
  return s && typeof s.maxLen === 'number' && typeof s.repeat === 'number' ? s : undefined;
}

/**
 * The hyperparameters held fixed: the study's `fixed` values, the midpoint of each range
 * (geometric for log scales), the middle choice, `false` for booleans; `override` wins.
 * `how` says where each value came from, for the report.
 */
export function fixedParams(loaded: LoadedStudy, override: Params = {}): { params: Params; how: Record<string, string> } {
  const params: Params = {};
  const how: Record<string, string> = {};
  for (const [name, d] of Object.entries(loaded.study.searchSpace)) {
    if (name === 'max_seq_len') continue;
    let v: ParamValue;
    if (d.type === 'fixed') [v, how[name]] = [d.value, 'fixed'];
    else if (d.type === 'float') [v, how[name]] = [d.log ? Math.sqrt(d.low * d.high) : (d.low + d.high) / 2, d.log ? 'geometric midpoint' : 'midpoint'];
    else if (d.type === 'int') {
      const step = d.step ?? 1;
      const mid = d.log ? Math.sqrt(d.low * d.high) : (d.low + d.high) / 2;
      [v, how[name]] = [d.low + Math.round((mid - d.low) / step) * step, 'midpoint'];
    } else if (d.type === 'choice') [v, how[name]] = [d.values[Math.floor((d.values.length - 1) / 2)], 'middle choice'];
    else [v, how[name]] = [false, 'default (false)'];
    params[name] = v;
  }
  for (const [k, v] of Object.entries(override)) {
    if (k === 'max_seq_len') throw new UserError(`--params: max_seq_len is what the sequence-length study varies; use --lengths`, 'E_USAGE');
    params[k] = v;
    how[k] = '--params';
  }
  return { params, how };
}

/** Did this length fail for good with out-of-memory? Then its other repeats are not run. */
function gaveUp(trials: StoredTrial[], maxLen: number, maxRetries: number): boolean {
  return trials.some((t) => seqlenTag(t)?.maxLen === maxLen && t.state === 'failed' && !willRerun(t, maxRetries) && t.failures?.at(-1)?.reason === 'oom');
}

export class SeqlenPlan implements TrialSource {
  readonly name = 'seqlen';
  constructor(
    private readonly lengths: number[],
    private readonly repeats: number,
    private readonly params: Params,
    private readonly maxRetries: number,
  ) {}

  suggest(_history: TrialRecord[], stored: StoredTrial[]): Suggestion {
    for (const maxLen of this.lengths) {
      if (gaveUp(stored, maxLen, this.maxRetries)) continue;
      for (let repeat = 0; repeat < this.repeats; repeat++) {
        if (stored.some((t) => seqlenTag(t)?.maxLen === maxLen && seqlenTag(t)?.repeat === repeat)) continue;
        return { kind: 'trial', params: { ...this.params, max_seq_len: maxLen }, tag: { seqlen: { maxLen, repeat }, repeat } };
      }
    }
    return { kind: 'done' };
  }
}

export interface Stat {
  mean: number | null;
  std: number | null;
}

export interface SeqlenRow {
  maxLen: number;
  /** Complete runs. */
  n: number;
  failed: number;
  valLoss: Stat;
  valAccuracy: Stat;
  secondsPerEpoch: Stat;
  memoryMiB: Stat;
  /** Welch's t-test of val loss against the best length (null for the best itself or n < 2). */
  pValue: number | null;
  /** Why this length has no result, e.g. out of memory. */
  error?: string;
}

export interface SeqlenSummary {
  rows: SeqlenRow[];
  best: number | null;
  runnerUp: number | null;
  significant: boolean | null;
  recommendation: string;
}

function stat(xs: number[]): Stat {
  return { mean: xs.length ? mean(xs) : null, std: xs.length > 1 ? std(xs) : null };
}

function num(r: Record<string, unknown> | undefined, key: string): number | undefined {
  const v = r?.[key];
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

function valLossOf(t: StoredTrial): number | undefined {
  return num(t.result, 'bestValLoss') ?? t.value;
}

/** Per-length statistics and the recommendation (lowest mean val loss; significance at 0.05). */
export function summarizeSeqlen(trials: StoredTrial[], lengths?: number[]): SeqlenSummary {
  const runs = trials.filter((t) => seqlenTag(t));
  const all = [...new Set([...(lengths ?? []), ...runs.map((t) => seqlenTag(t)!.maxLen)])].sort((a, b) => a - b);
  const losses = new Map<number, number[]>();
  const rows: SeqlenRow[] = all.map((maxLen) => {
    const mine = runs.filter((t) => seqlenTag(t)!.maxLen === maxLen);
    const done = mine.filter((t) => t.state === 'complete');
    const failed = mine.filter((t) => t.state === 'failed');
    const pick = (f: (t: StoredTrial) => number | undefined): number[] => done.map(f).filter((v): v is number => v !== undefined);
    const vl = pick(valLossOf);
    losses.set(maxLen, vl);
    const row: SeqlenRow = {
      maxLen,
      n: done.length,
      failed: failed.length,
      valLoss: stat(vl),
      valAccuracy: stat(pick((t) => num(t.result, 'bestValAccuracy'))),
      secondsPerEpoch: stat(pick((t) => num(t.result, 'secondsPerEpoch'))),
      memoryMiB: stat(pick((t) => num(t.result, 'peakRssMiB'))),
      pValue: null,
    };
    if (done.length === 0) {
      const last = failed.at(-1);
      const f = last?.failures?.at(-1);
      row.error = !last ? 'not run yet' : f?.reason === 'oom' ? `out of memory after micro-batching (${f.cause ?? 'no detail'})` : `failed: ${last.error}`;
    }
    return row;
  });
  const ranked = rows.filter((r) => r.valLoss.mean !== null).sort((a, b) => a.valLoss.mean! - b.valLoss.mean!);
  const best = ranked[0];
  if (!best) return { rows, best: null, runnerUp: null, significant: null, recommendation: 'no length has a complete run yet' };
  for (const r of rows) {
    if (r === best) continue;
    const a = losses.get(best.maxLen)!;
    const b = losses.get(r.maxLen)!;
    r.pValue = a.length >= 2 && b.length >= 2 ? welchTTest(a, b).p : null;
  }
  const second = ranked[1];
  const fmt = (s: Stat): string => `${s.mean!.toFixed(4)}${s.std !== null ? ` ± ${s.std.toFixed(4)}` : ''}`;
  let recommendation = `max_seq_len ${best.maxLen}: lowest mean val loss (${fmt(best.valLoss)}, n=${best.n})`;
  let significant: boolean | null = null;
  if (second) {
    const p = second.pValue;
    significant = p === null ? null : p < 0.05;
    recommendation +=
      p === null
        ? `; too few runs to test the difference to ${second.maxLen} (${fmt(second.valLoss)})`
        : significant
          ? `; better than the runner-up ${second.maxLen} (${fmt(second.valLoss)}) with Welch p = ${p.toPrecision(2)} < 0.05`
          : `; but not significantly better than the runner-up ${second.maxLen} (${fmt(second.valLoss)}, Welch p = ${p.toPrecision(2)} ≥ 0.05)` +
            (second.maxLen < best.maxLen ? ` — ${second.maxLen} is as good within noise and cheaper` : '');
  }
  return { rows, best: best.maxLen, runnerUp: second?.maxLen ?? null, significant, recommendation };
}
