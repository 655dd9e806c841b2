/**
 * Study results for people and tools: the StudyView the editor and dashboard draw, the
 * Markdown that goes into the notes, CSV and JSON. Everything is derived from stored trials.
 */
import type { LoadedStudy } from '../core/study';
import type { StudyView, TrialView } from '../protocol/messages';
import type { CheckpointOrigin, StoredTrial } from '../store/types';
import { importance, IMPORTANCE_METHOD, type Importance } from './importance';
import { seqlenTag, summarizeSeqlen, type SeqlenSummary } from './seqlen';
import { hyperbandTag } from '../tuners/hyperband';
import { bestTrial } from './study-runner';

function bestEpochOf(t: StoredTrial): number | undefined {
  const v = t.result?.bestEpoch;
  return typeof v === 'number' ? v : undefined;
}

function bracketOf(t: StoredTrial): string | undefined {
  const tag = t.tag;
  if (!tag) return undefined;
  const hb = hyperbandTag(t);
  if (hb) return `s=${hb.bracket} r=${hb.round}`;
  const asha = tag.asha as { rung?: unknown } | undefined;
  if (asha && typeof asha.rung === 'number') return `rung ${asha.rung}`;
  return undefined;
}

export function toTrialView(t: StoredTrial, withCurve = true): TrialView {
  const duration = t.startedAt !== undefined && t.finishedAt !== undefined ? (t.finishedAt - t.startedAt) / 1000 : undefined;
  const view: TrialView = { number: t.number, state: t.state, params: t.params, value: t.value ?? null };
  if (t.values) view.values = t.values;
  const be = bestEpochOf(t);
  if (be !== undefined) view.bestEpoch = be;
  if (t.epochs !== undefined) view.epochs = t.epochs;
  if (duration !== undefined) view.durationS = duration;
  if (t.error && t.state === 'failed') view.error = t.error;
  if (withCurve) view.curve = t.curve;
  const b = bracketOf(t);
  if (b) view.bracket = b;
  return view;
}

/** The study as the explorer and dashboard see it: tuning trials, best one, seqlen summary. */
export function studyView(loaded: LoadedStudy, trials: StoredTrial[]): StudyView {
  const { study } = loaded;
  const tuning = trials.filter((t) => !seqlenTag(t));
  const best = bestTrial(tuning, study.objective.direction);
  const view: StudyView = {
    name: study.name,
    file: loaded.file,
    objective: { metric: study.objective.metric, direction: study.objective.direction },
    tuner: study.tuner.type,
    trials: tuning.map((t) => toTrialView(t)),
    bestTrial: best?.number ?? null,
  };
  if (trials.some((t) => seqlenTag(t))) {
    const summary = summarizeSeqlen(trials);
    view.seqlen = summary.rows.map((r) => ({ maxLen: r.maxLen, mean: r.valLoss.mean, std: r.valLoss.std, n: r.n }));
    view.seqlenBest = summary.best;
  }
  return view;
}

/** Complete trials best first, then pruned, running and failed ones. */
export function sortTrials(view: StudyView): TrialView[] {
  const sign = view.objective.direction === 'minimize' ? 1 : -1;
  const rank = (t: TrialView): number => (t.state === 'complete' ? 0 : t.state === 'pruned' ? 1 : t.state === 'running' || t.state === 'queued' ? 2 : 3);
  return [...view.trials].sort((a, b) => rank(a) - rank(b) || (a.value !== null && b.value !== null ? sign * (a.value - b.value) : 0) || a.number - b.number);
}

/**
 * Importance needs comparable values: with multi-fidelity tuners (Hyperband, ASHA) only the
 * runs at the longest budget count when there are enough of them, else each configuration's
 * longest run.
 */
export function importanceTrials(view: StudyView): { trials: TrialView[]; note: string } {
  const done = view.trials.filter((t) => t.state === 'complete' && t.value !== null && Number.isFinite(t.value));
  const budgets = new Set(done.map((t) => t.epochs ?? 0));
  if (budgets.size <= 1) return { trials: done, note: `${done.length} complete trials` };
  const top = Math.max(...budgets);
  const atTop = done.filter((t) => (t.epochs ?? 0) === top);
  if (atTop.length >= 5) return { trials: atTop, note: `the ${atTop.length} complete trials at the longest budget (${top} epochs)` };
  const longest = new Map<string, TrialView>();
  for (const t of done) {
    const key = JSON.stringify(Object.entries(t.params).sort());
    const prev = longest.get(key);
    if (!prev || (t.epochs ?? 0) > (prev.epochs ?? 0)) longest.set(key, t);
  }
  return { trials: [...longest.values()], note: `each configuration's longest run (${longest.size}; budgets differ, so treat this as rough)` };
}

export function viewImportance(view: StudyView): Importance[] | undefined {
  const { trials } = importanceTrials(view);
  return importance(trials.map((t) => t.params), trials.map((t) => t.value!));
}

export interface ReportExtras {
  /** Test-split score of the best trial's model (only on request). */
  test?: { loss: number; accuracy: number; count: number };
  /** Full sequence-length summary (the view only has val loss). */
  seqlen?: SeqlenSummary;
  /** How many rows the Markdown trial table shows. */
  top?: number;
  /** Where each promoted trial's latest attempt started from (Hyperband, ASHA). */
  promotions?: PromotionOrigin[];
}

export interface PromotionOrigin {
  trial: number;
  from: number;
  /** own: its own checkpoint; local / database: the source trial's; none: from scratch. */
  source: CheckpointOrigin['source'];
  epoch?: number;
  reason?: string;
}

/** Promoted trials and where their training started (recorded by the runner and the workers). */
export function promotionOrigins(trials: StoredTrial[]): PromotionOrigin[] {
  const out: PromotionOrigin[] = [];
  for (const t of trials) {
    if (t.resumeFrom === undefined || !t.checkpoint) continue;
    const c = t.checkpoint;
    out.push({ trial: t.number, from: t.resumeFrom, source: c.source, ...(c.epoch !== undefined ? { epoch: c.epoch } : {}), ...(c.reason ? { reason: c.reason } : {}) });
  }
  return out;
}

function fmt(v: number | null | undefined, digits = 4): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '—';
  return Math.abs(v) !== 0 && (Math.abs(v) < 1e-3 || Math.abs(v) >= 1e5) ? v.toExponential(2) : trimZeros(v.toFixed(digits));
}

/** 0.5000 → 0.5, 60 → 60 (only zeros after a decimal point go). */
function trimZeros(s: string): string {
  return s.includes('.') ? s.replace(/\.?0+$/, '') : s;
}

function cell(v: unknown): string {
  const s = typeof v === 'number' ? fmt(v) : v === undefined || v === null ? '—' : String(v);
  return s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function paramNames(trials: TrialView[]): string[] {
  return [...new Set(trials.flatMap((t) => Object.keys(t.params)))].sort();
}

/** The notes form: top trials, the best configuration as JSON, importance, seqlen table. */
export function renderMarkdownReport(view: StudyView, extras: ReportExtras = {}): string {
  const out: string[] = [];
  const sorted = sortTrials(view);
  const counts = ['complete', 'pruned', 'failed', 'running', 'queued'].map((s) => [s, view.trials.filter((t) => t.state === s).length] as const).filter(([, n]) => n > 0);
  out.push(`## Study \`${view.name}\``, '');
  out.push(`Tuner **${view.tuner}**, objective **${view.objective.metric}** (${view.objective.direction}); ${view.trials.length} trials (${counts.map(([s, n]) => `${n} ${s}`).join(', ') || 'none yet'}).`, '');
  const best = view.trials.find((t) => t.number === view.bestTrial);
  if (best) {
    out.push(`### Best trial: #${best.number} — ${view.objective.metric} ${fmt(best.value)}${best.bestEpoch !== undefined ? ` at epoch ${best.bestEpoch}` : ''}`, '');
    out.push('```json', JSON.stringify(best.params, null, 2), '```', '');
    if (extras.test) out.push(`Test split (best trial's model, evaluated on request): loss ${fmt(extras.test.loss)}, accuracy ${fmt(extras.test.accuracy)} on ${extras.test.count} examples.`, '');
  }
  if (sorted.length) {
    const names = paramNames(view.trials);
    const top = sorted.slice(0, extras.top ?? 10);
    out.push(`### Top trials${top.length < sorted.length ? ` (${top.length} of ${sorted.length})` : ''}`, '');
    const brackets = view.trials.some((t) => t.bracket);
    out.push(`| # | state | ${view.objective.metric} | best epoch | epochs |${brackets ? ' bracket |' : ''} duration (s) | ${names.join(' | ')} |`);
    out.push(`|---|---|---|---|---|${brackets ? '---|' : ''}---|${names.map(() => '---|').join('')}`);
    for (const t of top) {
      const state = `${t.state}${t.error ? ` (${cell(t.error.split(':')[0])})` : ''}`;
      const dur = cell(t.durationS !== undefined ? Math.round(t.durationS * 10) / 10 : undefined);
      out.push(`| ${t.number} | ${state} | ${cell(t.value)} | ${cell(t.bestEpoch)} | ${cell(t.epochs)} |${brackets ? ` ${cell(t.bracket)} |` : ''} ${dur} | ${names.map((n) => cell(t.params[n])).join(' | ')} |`);
    }
    out.push('');
  }
  const imp = viewImportance(view);
  if (imp && imp.length) {
    out.push(`### Hyperparameter importance`, '', `Method: ${IMPORTANCE_METHOD}, on ${importanceTrials(view).note}.`, '');
    out.push('| hyperparameter | share |', '|---|---|');
    for (const i of imp) out.push(`| ${i.name} | ${(i.share * 100).toFixed(1)}% |`);
    out.push('');
  }
  const scratch = (extras.promotions ?? []).filter((p) => p.source === 'none');
  if (scratch.length) {
    out.push('### Promotions trained from scratch', '', 'These promoted trials could not continue the checkpoint of the trial they were promoted from, so they trained their whole budget from epoch 1:', '');
    for (const p of scratch) out.push(`- #${p.trial} (promoted from #${p.from}): ${p.reason ?? 'no checkpoint'}`);
    out.push('');
  }
  if (extras.seqlen) out.push(...renderSeqlenMarkdown(extras.seqlen));
  else if (view.seqlen?.length) {
    out.push('### Sequence length', '', '| max_seq_len | runs | val loss (mean ± std) |', '|---|---|---|');
    for (const r of view.seqlen) out.push(`| ${r.maxLen} | ${r.n} | ${fmt(r.mean)}${r.std !== null ? ` ± ${fmt(r.std)}` : ''} |`);
    out.push('');
  }
  return out.join('\n');
}

export function renderSeqlenMarkdown(s: SeqlenSummary): string[] {
  const sig = (v: number, d: number): string => (v === 0 ? '0' : Math.abs(v) < 1e-4 ? v.toExponential(1) : String(Number(v.toPrecision(d))));
  const ms = (x: { mean: number | null; std: number | null }, d = 4): string => (x.mean === null ? '—' : `${sig(x.mean, d)}${x.std !== null ? ` ± ${sig(x.std, 2)}` : ''}`);
  const out = ['### Sequence length', '', '| max_seq_len | runs | val loss | val accuracy | s/epoch | memory (MiB) | Welch p vs best |', '|---|---|---|---|---|---|---|'];
  for (const r of s.rows) {
    if (r.n === 0) out.push(`| ${r.maxLen} | 0 | ${cell(r.error)} | — | — | — | — |`);
    else out.push(`| ${r.maxLen}${r.maxLen === s.best ? ' (best)' : ''} | ${r.n}${r.failed ? ` (+${r.failed} failed)` : ''} | ${ms(r.valLoss)} | ${ms(r.valAccuracy)} | ${ms(r.secondsPerEpoch, 3)} | ${ms(r.memoryMiB, 4)} | ${r.pValue === null ? '—' : r.pValue.toPrecision(2)} |`);
  }
  out.push('', `Recommendation: ${s.recommendation}.`, '');
  return out;
}

function csvField(v: unknown): string {
  const s = v === undefined || v === null ? '' : String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function renderCsvReport(view: StudyView): string {
  const names = paramNames(view.trials);
  const head = ['number', 'state', view.objective.metric, 'best_epoch', 'epochs', 'duration_s', 'bracket', 'error', ...names];
  const rows = sortTrials(view).map((t) => [t.number, t.state, t.value, t.bestEpoch, t.epochs, t.durationS, t.bracket, t.error, ...names.map((n) => t.params[n])].map(csvField).join(','));
  return [head.map(csvField).join(','), ...rows].join('\n') + '\n';
}

export function buildJsonReport(view: StudyView, extras: ReportExtras = {}): Record<string, unknown> {
  const best = view.trials.find((t) => t.number === view.bestTrial) ?? null;
  return {
    study: view.name,
    file: view.file,
    objective: view.objective,
    tuner: view.tuner,
    best: best && { number: best.number, value: best.value, bestEpoch: best.bestEpoch ?? null, params: best.params },
    trials: sortTrials(view).map(({ curve: _c, ...t }) => t),
    importance: { method: IMPORTANCE_METHOD, on: importanceTrials(view).note, values: viewImportance(view) ?? null },
    ...(extras.seqlen ? { seqlen: extras.seqlen } : {}),
    ...(extras.test ? { test: extras.test } : {}),
    ...(extras.promotions?.length ? { promotions: extras.promotions } : {}),
  };
}
