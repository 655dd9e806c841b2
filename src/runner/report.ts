/**
 * Study results for people and tools: the StudyView the editor and dashboard draw, the
 * Markdown that goes into the notes, CSV and JSON. Everything is derived from stored trials.
 */
import type { LoadedStudy, Study } from '../core/study';
import type { Metric, StudyView, TrialView } from '../protocol/messages';
import { isEpochSummary } from '../protocol/curve';
import type { CheckpointOrigin, StoredTrial } from '../store/types';
import { importance, IMPORTANCE_METHOD } from './importance';
import { seqlenTag, summarizeSeqlen, type SeqlenSummary } from './seqlen';
import { hyperbandTag } from '../tuners/hyperband';
import { bestTrial } from './study-runner';

function num(r: Record<string, unknown> | undefined, key: string): number | undefined {
  const v = r?.[key];
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
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

/** Stopped by the user or interrupted: not the trial's fault, and Resume runs it again. */
const RESUMABLE = new Set(['cancelled', 'interrupted']);

function viewState(t: StoredTrial): TrialView['state'] {
  return t.state === 'failed' && RESUMABLE.has(t.failures?.at(-1)?.reason ?? '') ? 'cancelled' : t.state;
}

/**
 * Validation loss and accuracy at the best epoch: from the result when the trial finished, else
 * from the epochs it has scored so far (a running or stopped trial).
 */
function bestScores(t: StoredTrial): { bestEpoch?: number; valLoss?: number; valAccuracy?: number } {
  const bestEpoch = num(t.result, 'bestEpoch');
  const valLoss = num(t.result, 'bestValLoss');
  const valAccuracy = num(t.result, 'bestValAccuracy');
  if (valLoss !== undefined) return { bestEpoch, valLoss, valAccuracy };
  let best: Metric | undefined;
  for (const m of t.curve) if (isEpochSummary(m) && m.val_loss != null && (!best || m.val_loss < best.val_loss!)) best = m;
  if (!best) return bestEpoch !== undefined ? { bestEpoch } : {};
  return { bestEpoch: bestEpoch ?? best.epoch, valLoss: best.val_loss!, ...(best.val_accuracy != null ? { valAccuracy: best.val_accuracy } : {}) };
}

export function toTrialView(t: StoredTrial, withCurve = true): TrialView {
  const duration = t.startedAt !== undefined && t.finishedAt !== undefined ? (t.finishedAt - t.startedAt) / 1000 : undefined;
  const view: TrialView = { number: t.number, state: viewState(t), params: t.params, value: t.value ?? null };
  if (t.values) view.values = t.values;
  for (const [k, v] of Object.entries(bestScores(t))) if (v !== undefined) (view as Record<string, unknown>)[k] = v;
  if (t.epochs !== undefined) view.epochs = t.epochs;
  if (duration !== undefined) view.durationS = duration;
  if (t.error && t.state === 'failed') view.error = t.error;
  if (withCurve) view.curve = t.curve;
  const b = bracketOf(t);
  if (b) view.bracket = b;
  // A promotion that continued a checkpoint inherits the epochs in it (from scratch: none).
  if (t.resumeFrom !== undefined) {
    view.resumeFrom = t.resumeFrom;
    const from = t.checkpoint;
    if (from && from.source !== 'none' && from.source !== 'own' && from.epoch !== undefined) view.inheritedEpochs = from.epoch;
  }
  const sl = seqlenTag(t);
  if (sl) view.seqlen = { maxLen: sl.maxLen, repeat: sl.repeat };
  return view;
}

function spaceView(space: Study['searchSpace']): NonNullable<StudyView['space']> {
  const out: NonNullable<StudyView['space']> = {};
  for (const [name, d] of Object.entries(space)) {
    if (d.type === 'float' || d.type === 'int') out[name] = { type: d.type, low: d.low, high: d.high, ...(d.log ? { log: true } : {}) };
    else if (d.type === 'choice') out[name] = { type: 'choice', values: d.values };
    else if (d.type === 'fixed') out[name] = { type: 'fixed', values: [d.value] };
    else out[name] = { type: 'bool', values: [false, true] };
  }
  return out;
}

/** The study as the explorer and dashboard see it: tuning trials, best one, seqlen summary and runs. */
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
    space: spaceView(study.searchSpace),
    maxSeqLen: study.training.max_seq_len,
  };
  const latest = trials.filter((t) => t.state === 'complete' && typeof t.result?.backend === 'string').sort((a, b) => (a.finishedAt ?? 0) - (b.finishedAt ?? 0)).at(-1);
  if (latest) view.runtime = `${String(latest.result!.backend)}${typeof latest.result!.matmul === 'string' ? ` (matmuls on ${latest.result!.matmul})` : ''}`;
  if (trials.some((t) => seqlenTag(t))) {
    const summary = summarizeSeqlen(trials);
    view.seqlen = summary.rows.map((r) => ({
      maxLen: r.maxLen,
      mean: r.valLoss.mean,
      std: r.valLoss.std,
      n: r.n,
      accuracy: r.valAccuracy,
      secondsPerEpoch: r.secondsPerEpoch,
      pValue: r.pValue,
      ...(r.error ? { error: r.error } : {}),
    }));
    view.seqlenBest = summary.best;
    view.seqlenRecommendation = summary.recommendation;
    view.seqlenRuns = trials.filter((t) => seqlenTag(t)).map((t) => toTrialView(t));
  }
  return view;
}

/** Complete trials best first, then pruned, running, cancelled and failed ones. */
export function sortTrials(view: StudyView): TrialView[] {
  const sign = view.objective.direction === 'minimize' ? 1 : -1;
  const rank = (t: TrialView): number => (t.state === 'complete' ? 0 : t.state === 'pruned' ? 1 : t.state === 'running' || t.state === 'queued' ? 2 : t.state === 'cancelled' ? 3 : 4);
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
  if (atTop.length >= MIN_IMPORTANCE_TRIALS) return { trials: atTop, note: `the ${atTop.length} complete trials at the longest budget (${top} epochs)` };
  const longest = new Map<string, TrialView>();
  for (const t of done) {
    const key = JSON.stringify(Object.entries(t.params).sort());
    const prev = longest.get(key);
    if (!prev || (t.epochs ?? 0) > (prev.epochs ?? 0)) longest.set(key, t);
  }
  return { trials: [...longest.values()], note: `each configuration's longest run (${longest.size}; budgets differ, so treat this as rough)` };
}

/** Below this many comparable trials a random forest's importance is noise (shares of 0.0%). */
export const MIN_IMPORTANCE_TRIALS = 10;

/** Importance with its method and basis, or why there is none yet. */
export function viewImportance(view: StudyView): NonNullable<StudyView['importance']> {
  const { trials, note } = importanceTrials(view);
  const base = { method: IMPORTANCE_METHOD, on: note };
  if (trials.length < MIN_IMPORTANCE_TRIALS) return { ...base, values: null, why: `importance needs at least ${MIN_IMPORTANCE_TRIALS} complete trials at comparable budgets; this study has ${trials.length}` };
  const values = importance(trials.map((t) => t.params), trials.map((t) => t.value!), 1, 64, MIN_IMPORTANCE_TRIALS);
  if (!values?.length) return { ...base, values: null, why: 'no hyperparameter varies between these trials' };
  if (values.every((v) => v.share === 0)) return { ...base, values: null, why: `no hyperparameter explains the differences between these ${trials.length} trials (they are within noise)` };
  return { ...base, values };
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

/** The validation metric that is not the objective (shown beside it in every table). */
export function otherMetric(view: StudyView): { name: string; of: (t: TrialView) => number | undefined } {
  return view.objective.metric === 'val_accuracy' ? { name: 'val_loss', of: (t) => t.valLoss } : { name: 'val_accuracy', of: (t) => t.valAccuracy };
}

/** The notes form: top trials, the best configuration as JSON, importance, seqlen table. */
export function renderMarkdownReport(view: StudyView, extras: ReportExtras = {}): string {
  const out: string[] = [];
  const sorted = sortTrials(view);
  const other = otherMetric(view);
  const counts = ['complete', 'pruned', 'cancelled', 'failed', 'running', 'queued'].map((s) => [s, view.trials.filter((t) => t.state === s).length] as const).filter(([, n]) => n > 0);
  out.push(`## Study \`${view.name}\``, '');
  out.push(`Tuner **${view.tuner}**, objective **${view.objective.metric}** (${view.objective.direction}); ${view.trials.length} trials (${counts.map(([s, n]) => `${n} ${s}`).join(', ') || 'none yet'}).`, '');
  const best = view.trials.find((t) => t.number === view.bestTrial);
  if (best) {
    const at = other.of(best);
    out.push(`### Best trial: #${best.number} — ${view.objective.metric} ${fmt(best.value)}${at !== undefined ? `, ${other.name} ${fmt(at)}` : ''}${best.bestEpoch !== undefined ? ` at epoch ${best.bestEpoch}` : ''}`, '');
    out.push('```json', JSON.stringify(best.params, null, 2), '```', '');
    if (extras.test) out.push(`Test split (best trial's model, evaluated on request): loss ${fmt(extras.test.loss)}, accuracy ${fmt(extras.test.accuracy)} on ${extras.test.count} examples.`, '');
  }
  if (sorted.length) {
    const names = paramNames(view.trials);
    const top = sorted.slice(0, extras.top ?? 10);
    out.push(`### Top trials${top.length < sorted.length ? ` (${top.length} of ${sorted.length})` : ''}`, '');
    const brackets = view.trials.some((t) => t.bracket);
    out.push(`| # | state | ${view.objective.metric} | ${other.name} | best epoch | epochs |${brackets ? ' bracket |' : ''} duration (s) | ${names.join(' | ')} |`);
    out.push(`|---|---|---|---|---|---|${brackets ? '---|' : ''}---|${names.map(() => '---|').join('')}`);
    for (const t of top) {
      const state = `${t.state}${t.error && t.state === 'failed' ? ` (${cell(t.error.split(':')[0])})` : ''}`;
      const dur = cell(t.durationS !== undefined ? Math.round(t.durationS * 10) / 10 : undefined);
      const from = t.resumeFrom !== undefined ? ` (from #${t.resumeFrom})` : '';
      out.push(`| ${t.number} | ${state} | ${cell(t.value)} | ${cell(other.of(t))} | ${cell(t.bestEpoch)} | ${cell(t.epochs)}${from} |${brackets ? ` ${cell(t.bracket)} |` : ''} ${dur} | ${names.map((n) => cell(t.params[n])).join(' | ')} |`);
    }
    out.push('');
  }
  const imp = viewImportance(view);
  if (view.trials.some((t) => t.state === 'complete')) {
    out.push(`### Hyperparameter importance`, '');
    if (imp.values) {
      out.push(`Method: ${imp.method}, on ${imp.on}.`, '', '| hyperparameter | share |', '|---|---|');
      for (const i of imp.values) out.push(`| ${i.name} | ${(i.share * 100).toFixed(1)}% |`);
    } else out.push(`Not estimated: ${imp.why}.`);
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
  const other = otherMetric(view);
  const head = ['number', 'state', view.objective.metric, other.name, 'best_epoch', 'epochs', 'resumed_from', 'duration_s', 'bracket', 'error', ...names];
  const rows = sortTrials(view).map((t) => [t.number, t.state, t.value, other.of(t), t.bestEpoch, t.epochs, t.resumeFrom, t.durationS, t.bracket, t.error, ...names.map((n) => t.params[n])].map(csvField).join(','));
  return [head.map(csvField).join(','), ...rows].join('\n') + '\n';
}

export function buildJsonReport(view: StudyView, extras: ReportExtras = {}): Record<string, unknown> {
  const best = view.trials.find((t) => t.number === view.bestTrial) ?? null;
  const imp = viewImportance(view);
  return {
    study: view.name,
    file: view.file,
    objective: view.objective,
    tuner: view.tuner,
    best: best && { number: best.number, value: best.value, valLoss: best.valLoss ?? null, valAccuracy: best.valAccuracy ?? null, bestEpoch: best.bestEpoch ?? null, params: best.params },
    trials: sortTrials(view).map(({ curve: _c, ...t }) => t),
    importance: { method: imp.method, on: imp.on, values: imp.values, ...(imp.why ? { why: imp.why } : {}) },
    ...(extras.seqlen ? { seqlen: extras.seqlen } : {}),
    ...(extras.test ? { test: extras.test } : {}),
    ...(extras.promotions?.length ? { promotions: extras.promotions } : {}),
  };
}
