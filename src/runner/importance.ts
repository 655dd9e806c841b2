/**
 * Hyperparameter importance: a small random-forest regressor fitted on (params → objective) of
 * the complete trials, then out-of-bag permutation importance: how much each tree's error on
 * the trials it did not see grows when one hyperparameter's values are shuffled among them.
 * Shares are normalised to sum to 1. Simpler than fANOVA, and honest about what it is.
 */
import { Rng } from '../core/rng';
import type { ParamValue } from '../protocol/messages';

export const IMPORTANCE_METHOD = 'random forest (64 trees) + out-of-bag permutation importance';

export interface Importance {
  name: string;
  /** Share of the total error increase, 0..1. */
  share: number;
}

interface Node {
  feature: number;
  threshold: number;
  left?: Node;
  right?: Node;
  value: number;
}

/** Turns parameter values into numbers: log scale for wide positive ranges, categories by index. */
export function encodeFeatures(rows: Array<Record<string, ParamValue>>): { names: string[]; X: number[][] } {
  const names = [...new Set(rows.flatMap((r) => Object.keys(r)))].sort();
  const columns = names.map((name) => {
    const vals = rows.map((r) => r[name]);
    if (vals.every((v) => typeof v === 'number')) {
      const nums = vals as number[];
      const lo = Math.min(...nums);
      const hi = Math.max(...nums);
      return lo > 0 && hi / lo >= 20 ? nums.map(Math.log) : nums;
    }
    const cats = [...new Set(vals.map((v) => String(v)))].sort();
    return vals.map((v) => cats.indexOf(String(v)));
  });
  // A hyperparameter that never varied explains nothing: leave it out.
  const keep = columns.map((c) => c.some((v) => v !== c[0]));
  return {
    names: names.filter((_, j) => keep[j]),
    X: rows.map((_, i) => columns.filter((_, j) => keep[j]).map((c) => c[i])),
  };
}

function grow(X: number[][], y: number[], idx: number[], depth: number, rng: Rng, mtry: number): Node {
  const n = idx.length;
  let total = 0;
  let totalSq = 0;
  for (const i of idx) {
    total += y[i];
    totalSq += y[i] * y[i];
  }
  const node: Node = { feature: -1, threshold: 0, value: total / n };
  if (depth >= 8 || n < 4) return node;
  const d = X[0].length;
  const features = rng.shuffle([...Array(d).keys()]).slice(0, mtry) as number[];
  let bestGain = 1e-12;
  const parent = totalSq - (total * total) / n;
  for (const f of features) {
    const sorted = [...idx].sort((a, b) => X[a][f] - X[b][f]);
    // Running sums give each split's squared error in O(1): one pass per feature, not one per split.
    let sum = 0;
    let sq = 0;
    for (let k = 1; k <= n - 2; k++) {
      const yk = y[sorted[k - 1]];
      sum += yk;
      sq += yk * yk;
      if (k < 2) continue;
      const lo = X[sorted[k - 1]][f];
      const hi = X[sorted[k]][f];
      if (lo === hi) continue;
      const right = total - sum;
      const gain = parent - (sq - (sum * sum) / k) - (totalSq - sq - (right * right) / (n - k));
      if (gain > bestGain) {
        bestGain = gain;
        node.feature = f;
        node.threshold = (lo + hi) / 2;
      }
    }
  }
  if (node.feature < 0) return node;
  const l = idx.filter((i) => X[i][node.feature] <= node.threshold);
  const r = idx.filter((i) => X[i][node.feature] > node.threshold);
  node.left = grow(X, y, l, depth + 1, rng, mtry);
  node.right = grow(X, y, r, depth + 1, rng, mtry);
  return node;
}

function predict(n: Node, x: number[]): number {
  while (n.left && n.right) n = x[n.feature] <= n.threshold ? n.left : n.right;
  return n.value;
}

/** Importance of each hyperparameter, or undefined with fewer than `minTrials` usable trials. */
export function importance(rows: Array<Record<string, ParamValue>>, values: number[], seed = 1, trees = 64, minTrials = 5): Importance[] | undefined {
  if (rows.length < minTrials) return undefined;
  const { names, X } = encodeFeatures(rows);
  if (names.length === 0) return [];
  const rng = new Rng(seed);
  const n = X.length;
  const d = names.length;
  const mtry = d <= 3 ? d : Math.max(2, Math.round(d / 2));
  const gain = new Array<number>(d).fill(0);
  let used = 0;
  for (let t = 0; t < trees; t++) {
    const bag = Array.from({ length: n }, () => rng.int(n));
    const inBag = new Set(bag);
    const oob = [...Array(n).keys()].filter((i) => !inBag.has(i));
    if (oob.length < 2) continue;
    const tree = grow(X, values, bag, 0, rng, mtry);
    const base = oob.reduce((a, i) => a + (predict(tree, X[i]) - values[i]) ** 2, 0);
    for (let f = 0; f < d; f++) {
      const perm = rng.shuffle(oob.map((i) => X[i][f])) as number[];
      const err = oob.reduce((a, i, k) => {
        const x = [...X[i]];
        x[f] = perm[k];
        return a + (predict(tree, x) - values[i]) ** 2;
      }, 0);
      gain[f] += (err - base) / oob.length;
    }
    used++;
  }
  if (used === 0) return undefined;
  const clipped = gain.map((g) => Math.max(0, g / used));
  const total = clipped.reduce((a, b) => a + b, 0);
  return names
    .map((name, f) => ({ name, share: total > 0 ? clipped[f] / total : 0 }))
    .sort((a, b) => b.share - a.share);
}
