/**
 * Token-length statistics: what a user needs to choose max_seq_length. Lengths include [CLS]
 * and [SEP] and are not truncated.
 */
import type { Tokenizer } from './encode';

export const TRUNCATION_POINTS = [64, 128, 256, 512] as const;

export interface LengthStats {
  count: number;
  mean: number;
  p50: number;
  p90: number;
  p95: number;
  p99: number;
  max: number;
  /** Share of texts longer than each max_len (fractions). */
  truncated: { '64': number; '128': number; '256': number; '512': number };
}

/** Untruncated lengths ([CLS]/[SEP] included) of every text. */
export function tokenLengths(tok: Tokenizer, texts: readonly string[]): Uint32Array {
  const out = new Uint32Array(texts.length);
  for (let i = 0; i < texts.length; i++) out[i] = tok.length(texts[i]);
  return out;
}

/** Nearest-rank percentile (a length that occurs), on sorted lengths. */
function percentile(sorted: Uint32Array, p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

/** Statistics of lengths (see tokenLengths). */
export function lengthStats(lengths: Uint32Array): LengthStats {
  const s = Uint32Array.from(lengths).sort();
  let sum = 0;
  for (let i = 0; i < s.length; i++) sum += s[i];
  const over = (m: number): number => {
    if (s.length === 0) return 0;
    let k = 0;
    for (let i = 0; i < s.length; i++) if (s[i] > m) k++;
    return k / s.length;
  };
  return {
    count: s.length,
    mean: s.length ? sum / s.length : 0,
    p50: percentile(s, 50),
    p90: percentile(s, 90),
    p95: percentile(s, 95),
    p99: percentile(s, 99),
    max: s.length ? s[s.length - 1] : 0,
    truncated: { '64': over(64), '128': over(128), '256': over(256), '512': over(512) },
  };
}

/** lengths(texts) with a tokenizer: the statistics in one call. */
export function lengths(tok: Tokenizer, texts: readonly string[]): LengthStats {
  return lengthStats(tokenLengths(tok, texts));
}

export interface Histogram {
  /** Bucket lower bounds (inclusive); bucket i is [edges[i], edges[i] + width). */
  edges: number[];
  counts: number[];
  width: number;
  /** The last bucket holds every length from here up (the long tail), when the histogram is capped. */
  overflowFrom?: number;
}

/**
 * Fixed-width histogram of lengths for the dashboard: about `buckets` bars over [0, upTo] (width a
 * whole number) and, when longer texts exist, one last bar for all of them, so a long tail does
 * not squeeze the bulk into the first few bars.
 */
export function lengthHistogram(lengths: Uint32Array, buckets = 32, upTo?: number): Histogram {
  let max = 0;
  for (let i = 0; i < lengths.length; i++) if (lengths[i] > max) max = lengths[i];
  const top = upTo !== undefined && upTo < max ? upTo : max;
  const width = Math.max(1, Math.ceil((top + 1) / Math.max(1, buckets)));
  const n = Math.floor(top / width) + 1;
  const capped = top < max;
  const counts = new Array<number>(n + (capped ? 1 : 0)).fill(0);
  for (let i = 0; i < lengths.length; i++) counts[Math.min(n, Math.floor(lengths[i] / width))]++;
  return { edges: counts.map((_, i) => i * width), counts, width, ...(capped ? { overflowFrom: n * width } : {}) };
}

/** The stats as aligned text lines for a terminal. */
export function formatLengthStats(st: LengthStats): string[] {
  const pct = (x: number): string => `${(x * 100).toFixed(2)}%`;
  return [
    `texts      ${st.count}`,
    `mean       ${st.mean.toFixed(2)} tokens (with [CLS]/[SEP])`,
    `p50 / p90  ${st.p50} / ${st.p90}`,
    `p95 / p99  ${st.p95} / ${st.p99}`,
    `max        ${st.max}`,
    `truncated  at 64: ${pct(st.truncated['64'])}, 128: ${pct(st.truncated['128'])}, 256: ${pct(st.truncated['256'])}, 512: ${pct(st.truncated['512'])}`,
  ];
}
