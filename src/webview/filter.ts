/**
 * The trial table's filter: words match anywhere in a row (state, #, parameter values); a
 * comparison keeps rows whose column compares true: `learning_rate>5e-4`, `val_accuracy>=0.9`,
 * `state=complete`, `batch_size!=64`, `#<10`. A column that does not exist is reported
 * instead of silently matching nothing.
 */
import type { TrialView } from '../protocol/messages';

type Op = '<' | '<=' | '>' | '>=' | '=' | '!=';

interface Comparison {
  column: string;
  op: Op;
  value: string;
}

export interface TrialFilter {
  words: string[];
  comparisons: Comparison[];
  /** Columns named in comparisons that no trial has. */
  unknown: string[];
}

const COMPARISON = /^([#\p{L}\w.-]+?)(<=|>=|!=|<|>|=)(.+)$/u;

/** Columns every trial has besides its parameters (and the objective, by its metric name). */
const FIELDS: Record<string, keyof TrialView> = { '#': 'number', number: 'number', state: 'state', epochs: 'epochs', best_epoch: 'bestEpoch', duration: 'durationS', bracket: 'bracket', val_loss: 'valLoss', val_accuracy: 'valAccuracy' };

export function columnValue(t: TrialView, column: string, objective: string): unknown {
  if (column === objective || column === 'value') return t.value;
  const field = FIELDS[column];
  return field ? t[field] : t.params[column];
}

export function parseFilter(text: string, paramNames: readonly string[], objective: string): TrialFilter {
  const known = new Set([...Object.keys(FIELDS), 'value', objective, ...paramNames]);
  const out: TrialFilter = { words: [], comparisons: [], unknown: [] };
  for (const token of text.trim().split(/\s+/).filter(Boolean)) {
    const m = COMPARISON.exec(token);
    if (!m) {
      out.words.push(token.toLowerCase());
      continue;
    }
    const [, column, op, value] = m as unknown as [string, string, Op, string];
    out.comparisons.push({ column, op, value });
    if (!known.has(column)) out.unknown.push(column);
  }
  return out;
}

function compare(actual: unknown, op: Op, wanted: string): boolean {
  if (actual === undefined || actual === null) return op === '!=';
  const n = Number(wanted);
  if (typeof actual === 'number' && wanted.trim() !== '' && Number.isFinite(n)) {
    switch (op) {
      case '<':
        return actual < n;
      case '<=':
        return actual <= n;
      case '>':
        return actual > n;
      case '>=':
        return actual >= n;
      case '=':
        return actual === n;
      case '!=':
        return actual !== n;
    }
  }
  const a = String(actual).toLowerCase();
  const b = wanted.toLowerCase();
  if (op === '=') return a === b;
  if (op === '!=') return a !== b;
  const c = a.localeCompare(b);
  return op === '<' ? c < 0 : op === '<=' ? c <= 0 : op === '>' ? c > 0 : c >= 0;
}

export function matchesFilter(t: TrialView, f: TrialFilter, objective: string): boolean {
  if (f.words.length) {
    const hay = `#${t.number} ${t.state} ${Object.entries(t.params).map(([k, v]) => `${k}=${v}`).join(' ')}`.toLowerCase();
    if (!f.words.every((w) => hay.includes(w))) return false;
  }
  return f.comparisons.every((c) => compare(columnValue(t, c.column, objective), c.op, c.value));
}
