/**
 * The trial table: columns, sort, filter and HTML rows (built as one string: the visible window
 * of 1,000 rows in one DOM write), and the side-by-side comparison of picked trials.
 */
import type { StudyView, TrialView } from '../protocol/messages';
import { columnValue, matchesFilter, type TrialFilter } from './filter';
import type { StringKey } from '../protocol/webview-strings';

export type SortKey = 'number' | 'state' | 'value' | 'other' | 'bestEpoch' | 'epochs' | 'bracket' | 'duration' | 'maxLen' | `param:${string}`;

/** Translated UI text by key, `{0}`… filled from args. */
export type Say = (key: StringKey, ...args: Array<string | number>) => string;

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

export function paramNames(trials: readonly TrialView[]): string[] {
  return [...new Set(trials.flatMap((t) => Object.keys(t.params)))].sort();
}

/** The validation metric beside the objective. */
export function otherOf(view: StudyView, t: TrialView): number | undefined {
  return view.objective.metric === 'val_accuracy' ? t.valLoss : t.valAccuracy;
}
function otherName(view: StudyView): string {
  return view.objective.metric === 'val_accuracy' ? 'val_loss' : 'val_accuracy';
}

/** The objective, or for a trial still running (or stopped) the best it has scored so far. */
function objectiveSoFar(view: StudyView, t: TrialView): number | undefined {
  return t.value ?? (view.objective.metric === 'val_accuracy' ? t.valAccuracy : t.valLoss);
}

export function stateLabel(say: Say, state: TrialView['state']): string {
  return say(`state.${state}`);
}

function sortValue(view: StudyView, t: TrialView, key: SortKey): number | string | undefined {
  switch (key) {
    case 'number':
      return t.number;
    case 'state':
      return t.state;
    case 'value':
      return objectiveSoFar(view, t);
    case 'other':
      return otherOf(view, t);
    case 'bestEpoch':
      return t.bestEpoch;
    case 'epochs':
      return t.epochs;
    case 'duration':
      return t.durationS;
    case 'maxLen':
      return t.seqlen?.maxLen;
    case 'bracket':
      return t.bracket;
  }
  const v = t.params[key.slice(6)];
  return typeof v === 'number' ? v : v === undefined ? undefined : String(v);
}

/** Rows that pass the filter (and the brush), sorted; missing values last whichever the direction. */
export function sortedTrials(view: StudyView, trials: readonly TrialView[], key: SortKey, desc: boolean, filter: TrialFilter, keep?: (t: TrialView) => boolean): TrialView[] {
  const rows = trials.filter((t) => matchesFilter(t, filter, view.objective.metric) && (!keep || keep(t)));
  // For the objective, "ascending" means best first whatever the direction.
  const flip = (key === 'value' && view.objective.direction === 'maximize') || (key === 'other' && view.objective.metric === 'val_loss') ? -1 : 1;
  const sign = (desc ? -1 : 1) * flip;
  return rows.sort((a, b) => {
    const x = sortValue(view, a, key);
    const y = sortValue(view, b, key);
    if (x === undefined || y === undefined) return (x === undefined ? 1 : 0) - (y === undefined ? 1 : 0) || a.number - b.number;
    const c = typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y));
    return (Number.isNaN(c) ? 0 : c) * sign || a.number - b.number;
  });
}

/** A row's tooltip: every recorded metric, where a promoted trial started, the error. */
function trialTooltip(view: StudyView, t: TrialView, say: Say): string {
  const lines = [`${say('trialN', t.number)} — ${stateLabel(say, t.state)}`];
  const scores = [`${view.objective.metric} ${fmt(t.value)}`, `${otherName(view)} ${fmt(otherOf(view, t))}`];
  lines.push(scores.join(' · ') + (t.bestEpoch !== undefined ? ` · ${say('bestEpochN', t.bestEpoch)}` : ''));
  if (t.resumeFrom !== undefined) lines.push(t.inheritedEpochs !== undefined ? say('continued', t.resumeFrom, t.inheritedEpochs) : say('promotedScratch', t.resumeFrom));
  if (t.seqlen) lines.push(`max_seq_len ${t.seqlen.maxLen} · ${say('repeatN', t.seqlen.repeat + 1)}`);
  lines.push(...Object.entries(t.params).map(([k, v]) => `${k} = ${fmt(v)}`));
  if (t.state === 'cancelled') lines.push(say('cancelledHint'));
  if (t.error && t.state === 'failed') lines.push(t.error);
  return lines.join('\n');
}

export interface TableColumns {
  keys: SortKey[];
  head: string;
}

export function tableColumns(view: StudyView, trials: readonly TrialView[], say: Say, key: SortKey, desc: boolean, seqlen: boolean): TableColumns {
  const names = paramNames(trials).filter((n) => !(seqlen && n === 'max_seq_len'));
  const cols: Array<[SortKey, string]> = [['number', '#'], ['state', say('col.state')]];
  if (seqlen) cols.push(['maxLen', 'max_seq_len']);
  cols.push(['value', view.objective.metric], ['other', otherName(view)], ['bestEpoch', say('col.bestEpoch')], ['epochs', say('col.epochs')]);
  if (trials.some((t) => t.bracket)) cols.push(['bracket', say('col.bracket')]);
  cols.push(['duration', say('col.duration')]);
  cols.push(...names.map((n) => [`param:${n}`, n] as [SortKey, string]));
  const th = ([k, label]: [SortKey, string]): string => `<th data-key="${escapeHtml(k)}" class="${k === key ? (desc ? 'sorted desc' : 'sorted') : ''}">${escapeHtml(label)}</th>`;
  return { keys: cols.map(([k]) => k), head: `<tr><th class="pick" aria-label="${escapeHtml(say('col.pick'))}"></th>${cols.map(th).join('')}</tr>` };
}

export function tableRows(view: StudyView, rows: readonly TrialView[], cols: TableColumns, picked: ReadonlySet<number>, say: Say): string {
  const out: string[] = [];
  for (const t of rows) {
    const best = t.number === view.bestTrial;
    const cls = [`state-${t.state}`, best ? 'best' : '', picked.has(t.number) ? 'selected' : ''].filter(Boolean).join(' ');
    const cells = cols.keys.map((k) => {
      if (k === 'number') return `<td class="num">${t.number}${best ? ' ★' : ''}</td>`;
      if (k === 'state') return `<td><span class="badge">${escapeHtml(stateLabel(say, t.state))}</span></td>`;
      if (k === 'epochs') return `<td class="num">${fmt(t.epochs)}${t.inheritedEpochs !== undefined ? ` <span class="from">(${escapeHtml(say('fromTrial', t.resumeFrom!))})</span>` : ''}</td>`;
      if (k === 'duration') return `<td class="num">${t.durationS !== undefined ? fmt(Math.round(t.durationS * 10) / 10) : '—'}</td>`;
      const v = sortValue(view, t, k);
      return `<td class="${typeof v === 'number' ? 'num' : ''}">${escapeHtml(fmt(v))}</td>`;
    });
    out.push(
      `<tr data-trial="${t.number}" class="${cls}" title="${escapeHtml(trialTooltip(view, t, say))}"><td class="pick"><input type="checkbox" tabindex="-1" ${picked.has(t.number) ? 'checked' : ''} aria-label="#${t.number}"></td>${cells.join('')}</tr>`,
    );
  }
  return out.join('');
}

/** Picked trials side by side: scores, budget and every hyperparameter; cells that differ are marked. */
export function compareTable(view: StudyView, trials: readonly TrialView[], say: Say): string {
  const rows: Array<[string, (t: TrialView) => unknown]> = [
    [say('col.state'), (t) => stateLabel(say, t.state)],
    [view.objective.metric, (t) => objectiveSoFar(view, t)],
    [otherName(view), (t) => otherOf(view, t)],
    [say('col.bestEpoch'), (t) => t.bestEpoch],
    [say('col.epochs'), (t) => t.epochs],
    [say('col.duration'), (t) => (t.durationS !== undefined ? Math.round(t.durationS * 10) / 10 : undefined)],
    ...paramNames(trials).map((n) => [n, (t: TrialView) => columnValue(t, n, view.objective.metric)] as [string, (t: TrialView) => unknown]),
  ];
  const head = `<tr><th></th>${trials.map((t) => `<th data-trial="${t.number}">#${t.number}${t.number === view.bestTrial ? ' ★' : ''}</th>`).join('')}</tr>`;
  const body = rows
    .map(([label, get]) => {
      const cells = trials.map((t) => fmt(get(t)));
      const differs = new Set(cells).size > 1;
      return `<tr class="${differs ? 'differs' : ''}"><th>${escapeHtml(label)}</th>${cells.map((c) => `<td class="num">${escapeHtml(c)}</td>`).join('')}</tr>`;
    })
    .join('');
  return `<table class="compare"><thead>${head}</thead><tbody>${body}</tbody></table>`;
}
