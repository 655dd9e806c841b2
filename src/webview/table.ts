/** The trial table: sort, filter and HTML rows (built as one string: 1,000 rows in one DOM write). */
import type { StudyView, TrialView } from '../protocol/messages';

export type SortKey = 'number' | 'state' | 'value' | 'duration' | `param:${string}`;

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

export function fmt(v: unknown): string {
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) return '—';
    if (v !== 0 && (Math.abs(v) < 1e-3 || Math.abs(v) >= 1e5)) return v.toExponential(2);
    return String(Number(v.toFixed(4)));
  }
  if (v === undefined || v === null) return '—';
  return String(v);
}

export function paramNames(view: StudyView): string[] {
  return [...new Set(view.trials.flatMap((t) => Object.keys(t.params)))].sort();
}

function sortValue(t: TrialView, key: SortKey): number | string {
  if (key === 'number') return t.number;
  if (key === 'state') return t.state;
  if (key === 'duration') return t.durationS ?? Number.POSITIVE_INFINITY;
  if (key === 'value') return t.value ?? Number.POSITIVE_INFINITY;
  const v = t.params[key.slice(6)];
  return typeof v === 'number' ? v : String(v ?? '');
}

export function sortedTrials(view: StudyView, key: SortKey, desc: boolean, filter: string): TrialView[] {
  const words = filter.toLowerCase().split(/\s+/).filter(Boolean);
  const rows = words.length
    ? view.trials.filter((t) => {
        const hay = `#${t.number} ${t.state} ${Object.entries(t.params).map(([k, v]) => `${k}=${v}`).join(' ')}`.toLowerCase();
        return words.every((w) => hay.includes(w));
      })
    : [...view.trials];
  // For the objective, "ascending" means best first whatever the direction.
  const flip = key === 'value' && view.objective.direction === 'maximize' ? -1 : 1;
  const sign = (desc ? -1 : 1) * flip;
  return rows.sort((a, b) => {
    const x = sortValue(a, key);
    const y = sortValue(b, key);
    const c = typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y));
    return (Number.isNaN(c) ? 0 : c) * sign || a.number - b.number;
  });
}

export function buildTable(view: StudyView, rows: TrialView[], key: SortKey, desc: boolean, selected: number | undefined): { head: string; body: string } {
  const names = paramNames(view);
  const th = (k: SortKey, label: string): string => `<th data-key="${escapeHtml(k)}" class="${k === key ? (desc ? 'sorted desc' : 'sorted') : ''}" title="sort">${escapeHtml(label)}</th>`;
  const head = `<tr>${th('number', '#')}${th('state', 'state')}${th('value', view.objective.metric)}${th('duration', 'duration (s)')}${names.map((n) => th(`param:${n}`, n)).join('')}</tr>`;
  const out: string[] = [];
  for (const t of rows) {
    const cls = [`state-${t.state}`, t.number === view.bestTrial ? 'best' : '', t.number === selected ? 'selected' : ''].filter(Boolean).join(' ');
    const dur = t.durationS !== undefined ? fmt(Math.round(t.durationS * 10) / 10) : '—';
    out.push(
      `<tr data-trial="${t.number}" class="${cls}"><td>${t.number}${t.number === view.bestTrial ? ' ★' : ''}</td><td><span class="badge">${t.state}</span></td><td class="num">${fmt(t.value)}</td><td class="num">${dur}</td>${names.map((n) => `<td>${escapeHtml(fmt(t.params[n]))}</td>`).join('')}</tr>`,
    );
  }
  return { head, body: out.join('') };
}
