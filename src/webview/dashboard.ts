/**
 * Dashboard webview (bundled to dist/webview.js as an IIFE). Receives the study's view and live
 * metrics by postMessage; shows one analysis view at a time (learning curves with overlay and
 * comparison, optimisation history, importance, slices, parallel coordinates, groups, token
 * lengths) above the trial table; posts back the trials a user picks, chart images for the
 * notes, and how long the first render took. No remote resources: everything is in this bundle
 * and the CSS next to it.
 */
import { Chart, registerables, registry, type ChartConfiguration } from 'chart.js';
import { LinearAxis, LineSegment, ParallelCoordinatesController, PCPScale } from 'chartjs-chart-pcp';
import { appendMetric } from '../protocol/curve';
import { ToWebview, type FromWebview, type StudyView, type TrialView } from '../protocol/messages';
import { curvesConfig, groupConfig, historyConfig, importanceConfig, lengthsConfig, METRIC_LABEL, pcpConfig, pcpModel, sliceConfig, sliceParams, type Brushes, type ChartContext, type PcpModel } from './charts';
import { CURVE_METRICS, type CurveMetric } from './curves';
import { parseFilter, type TrialFilter } from './filter';
import { CONFIGURATION, groupOptions, groupTrials, type Grouping } from './groups';
import { compareTable, escapeHtml, fmt, paramNames, sortedTrials, stateLabel, tableColumns, tableRows, type Say, type SortKey, type TableColumns } from './table';
import { STRINGS } from '../protocol/webview-strings';
import { LIGHT, screenPalette, type Palette } from './theme';

Chart.register(...registerables, ParallelCoordinatesController, PCPScale);
// The PCP axis is a scale class used as a dataset element: register it as an element explicitly.
registry.addElements(LinearAxis, LineSegment);

interface VsCodeApi {
  postMessage(m: FromWebview): void;
  getState(): unknown;
  setState(s: unknown): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

const VIEWS = ['curves', 'history', 'importance', 'slice', 'pcp', 'groups', 'lengths'] as const;
type ViewName = (typeof VIEWS)[number];
type Scope = 'tuning' | 'seqlen';

interface SavedState {
  view?: ViewName;
  picked?: number[];
  sort?: SortKey;
  desc?: boolean;
  filter?: string;
  metric?: 'auto' | CurveMetric;
  groupBy?: string;
  groupMetric?: 'val_loss' | 'val_accuracy';
  scope?: Scope;
}

const vscode = acquireVsCodeApi();
const app = document.getElementById('app')!;
const boot = JSON.parse(app.dataset.state ?? '{}') as { studyFile?: string; strings?: Record<string, string> };
const ui: SavedState = (vscode.getState() ?? {}) as SavedState;
ui.view ??= 'curves';
ui.picked ??= [];
ui.sort ??= 'value';
ui.desc ??= false;
ui.filter ??= '';
ui.metric ??= 'auto';
ui.groupMetric ??= 'val_loss';
// The extension keeps the study file in the serializer state; the rest is view state.
const saveState = (): void => vscode.setState({ ...ui, studyFile: boot.studyFile });
saveState();

/** Translated text (the extension sends the strings; English is the fallback), `{0}`… filled in. */
const say: Say = (key, ...args) => args.reduce<string>((s, a, i) => s.split(`{${i}}`).join(String(a)), boot.strings?.[key] ?? STRINGS[key]);

let study: StudyView | undefined;
let byNumber = new Map<number, TrialView>();
const charts = new Map<string, Chart>();
// Devtools and the e2e tests read the drawn data here.
(window as unknown as { trialbookCharts: Map<string, Chart> }).trialbookCharts = charts;
const brushes: Brushes = new Map();
let pcp: PcpModel | undefined;
/** Views drawn since the last change of data or theme. */
const fresh = new Set<ViewName>();
let firstRender = true;
const t0 = performance.now();
/** When the first study arrived (its parse included in the render time). */
let received: number | undefined;

const $ = <T extends HTMLElement = HTMLElement>(sel: string): T => document.querySelector(sel) as T;

function layout(): void {
  const tab = (v: ViewName) => `<button role="tab" class="tab" data-view="${v}" aria-selected="false">${escapeHtml(say(`view.${v}`))}</button>`;
  const view = (v: ViewName, toolbar: string, body: string) => `<section class="view" data-view="${v}" hidden><div class="view-toolbar">${toolbar}</div>${body}<p class="empty" hidden></p><div class="aux"></div></section>`;
  const box = (v: string) => `<div class="box"><canvas id="chart-${v}"></canvas></div>`;
  const metricOptions = ['auto', ...CURVE_METRICS].map((m) => `<option value="${m}">${escapeHtml(m === 'auto' ? say('metric.auto') : say(METRIC_LABEL[m as CurveMetric]))}</option>`).join('');
  app.innerHTML = `
<header><h1 id="title"></h1><span id="summary"></span></header>
<p id="shared" class="shared" hidden></p>
<nav class="tabs" role="tablist">${VIEWS.map(tab).join('')}</nav>
${view('curves', `<label>${escapeHtml(say('show'))} <select id="metric">${metricOptions}</select></label><span class="hint">${escapeHtml(say('hint.curves'))}</span>`, `<h2 id="curves-title"></h2>${box('curves')}`)}
${view('history', '', box('history'))}
${view('importance', '', box('importance'))}
${view('slice', `<span class="hint">${escapeHtml(say('hint.slice'))}</span>`, '<div class="slices"></div>')}
${view('pcp', `<span class="hint">${escapeHtml(say('hint.pcp'))}</span><button id="clear-brushes" hidden>${escapeHtml(say('clearBrushes'))}</button>`, box('pcp'))}
${view('groups', `<label>${escapeHtml(say('groupBy'))} <select id="group-by"></select></label><label><select id="group-metric"><option value="val_loss">${escapeHtml(say('metric.val_loss'))}</option><option value="val_accuracy">${escapeHtml(say('metric.val_accuracy'))}</option></select></label>`, box('groups'))}
${view('lengths', '', box('lengths'))}
<section class="table-section">
  <div class="toolbar"><select id="scope" hidden><option value="tuning">${escapeHtml(say('scope.tuning'))}</option><option value="seqlen">${escapeHtml(say('scope.seqlen'))}</option></select><input id="filter" type="search" placeholder="${escapeHtml(say('filter'))}" aria-label="${escapeHtml(say('filterLabel'))}"><button id="clear-picked" hidden></button><span id="count"></span></div>
  <p id="filter-note" class="note" hidden></p>
  <div class="table-wrap"><table id="trials"><thead></thead><tbody></tbody></table></div>
</section>`;
  for (const b of document.querySelectorAll<HTMLElement>('.tab')) b.addEventListener('click', () => showView(b.dataset.view as ViewName));
  const filter = $<HTMLInputElement>('#filter');
  filter.value = ui.filter!;
  filter.addEventListener('input', () => {
    ui.filter = filter.value;
    saveState();
    renderTable();
  });
  bindChoice('#metric', 'metric', 'curves');
  $<HTMLSelectElement>('#group-by').addEventListener('change', (e) => {
    ui.groupBy = (e.target as HTMLSelectElement).value;
    saveState();
    redraw('groups');
  });
  bindChoice('#group-metric', 'groupMetric', 'groups');
  $<HTMLSelectElement>('#scope').addEventListener('change', (e) => {
    ui.scope = (e.target as HTMLSelectElement).value as Scope;
    ui.groupBy = undefined;
    saveState();
    renderTable();
    redraw('groups');
  });
  $('#clear-picked').addEventListener('click', () => pick([]));
  $('#clear-brushes').addEventListener('click', () => {
    brushes.clear();
    afterBrush();
  });
  $('.table-wrap').addEventListener('scroll', onTableScroll, { passive: true });
  $('#trials').addEventListener('click', onTableClick);
  $('.view[data-view="history"]').addEventListener('click', (ev) => pickFromChart('history', ev));
  attachBrushing($<HTMLCanvasElement>('#chart-pcp'));
  // VS Code swaps the body's theme class and its CSS variables: recolour every chart.
  new MutationObserver(() => {
    fresh.clear();
    if (study) drawView();
  }).observe(document.body, { attributes: true, attributeFilter: ['class'] });
}

// ---- views ----

function showView(v: ViewName): void {
  ui.view = v;
  saveState();
  for (const b of document.querySelectorAll<HTMLElement>('.tab')) {
    const on = b.dataset.view === v;
    b.classList.toggle('active', on);
    b.setAttribute('aria-selected', String(on));
  }
  for (const s of document.querySelectorAll<HTMLElement>('.view')) s.hidden = s.dataset.view !== v;
  if (study) drawView();
}

/** A select that shows the saved choice `key`, and on change saves the new one and redraws `view`. */
function bindChoice<K extends 'metric' | 'groupMetric'>(selector: string, key: K, view: ViewName): void {
  const select = $<HTMLSelectElement>(selector);
  select.value = ui[key]!;
  select.addEventListener('change', () => {
    ui[key] = select.value as SavedState[K];
    saveState();
    redraw(view);
  });
}

function redraw(v: ViewName): void {
  fresh.delete(v);
  if (ui.view === v && study) drawView();
}

function drawView(): void {
  const v = ui.view!;
  if (fresh.has(v)) return;
  fresh.add(v);
  const s0 = performance.now();
  ({ curves: drawCurves, history: drawHistory, importance: drawImportance, slice: drawSlices, pcp: drawPcp, groups: drawGroups, lengths: drawLengths })[v]();
  performance.measure(`trialbook:${v}`, { start: s0, end: performance.now() });
}

function context(p: Palette = screenPalette()): ChartContext {
  return { view: study!, p, say, byNumber };
}

/** Draws (or replaces) a chart; no config: the view's empty text instead. */
function setChart(id: string, view: ViewName, config: ChartConfiguration | undefined, empty = ''): void {
  const section = $(`.view[data-view="${view}"]`);
  const canvas = document.getElementById(`chart-${id}`) as HTMLCanvasElement | null;
  const box = canvas?.parentElement;
  const note = section.querySelector('.empty') as HTMLElement;
  const old = charts.get(id);
  if (!config) {
    old?.destroy();
    charts.delete(id);
    if (box) box.hidden = true;
    note.hidden = !empty;
    note.textContent = empty;
    return;
  }
  if (box) box.hidden = false;
  note.hidden = true;
  old?.destroy();
  charts.set(id, new Chart(canvas!, config));
}

function aux(view: ViewName, html: string): void {
  ($(`.view[data-view="${view}"] .aux`)).innerHTML = html;
}

/**
 * Trials whose curves are shown: the picked ones with any running trial streaming beside them;
 * nothing picked: the running trial (else the best), with all its metrics.
 */
function shownTrials(): TrialView[] {
  const picked = ui.picked!.map((n) => byNumber.get(n)).filter((t): t is TrialView => !!t);
  const running = [...study!.trials, ...(study!.seqlenRuns ?? [])].filter((t) => t.state === 'running' && !picked.includes(t));
  if (picked.length) return [...picked, ...running];
  if (running.length) return running;
  return [byNumber.get(study!.bestTrial ?? -1) ?? scopeTrials()[0]].filter((t): t is TrialView => !!t);
}

/** Faint context behind an overlay: the other scored trials of the scope, best first (at most 60). */
function faintTrials(shown: TrialView[]): TrialView[] {
  const sign = study!.objective.direction === 'minimize' ? 1 : -1;
  return scopeTrials()
    .filter((t) => t.value !== null && !shown.includes(t))
    .sort((a, b) => sign * (a.value! - b.value!))
    .slice(0, 60);
}

function drawCurves(): void {
  const shown = shownTrials();
  const several = shown.length > 1 || ui.metric !== 'auto';
  const title = shown.length === 1 ? `${say('view.curves')} — ${say('trialN', shown[0]!.number)}` : say('overlayN', shown.length);
  $('#curves-title').textContent = title;
  $('#curves-title').dataset.shown = shown.map((t) => t.number).join(',');
  setChart('curves', 'curves', shown.length ? curvesConfig(context(), shown, ui.metric!, several ? faintTrials(shown) : []) : undefined, say('noCurves'));
  aux('curves', shown.length > 1 ? `<h3>${escapeHtml(say('compare'))}</h3>${compareTable(study!, shown, say)}` : '');
}

function drawHistory(): void {
  setChart('history', 'history', historyConfig(context()), say('noTrials'));
}

function drawImportance(): void {
  const imp = study!.importance;
  setChart('importance', 'importance', importanceConfig(context()), imp?.why ? say('importanceWhy', imp.why) : say('noTrials'));
  aux('importance', imp?.values ? `<p class="note">${escapeHtml(say('importanceMethod', imp.method, imp.on))}</p>` : '');
}

function drawSlices(): void {
  const grid = $('.view[data-view="slice"] .slices');
  const params = sliceParams(study!);
  for (const [id, c] of charts) if (id.startsWith('slice-')) (c.destroy(), charts.delete(id));
  grid.innerHTML = params.map((n, i) => `<div class="slice"><h3>${escapeHtml(n)}${study!.space?.[n]?.log ? ' (log)' : ''}</h3><div class="box small"><canvas id="chart-slice-${i}"></canvas></div></div>`).join('');
  const note = $('.view[data-view="slice"] .empty');
  note.hidden = params.length > 0;
  note.textContent = say('noTrials');
  const ctx = context();
  params.forEach((n, i) => {
    const config = sliceConfig(ctx, n);
    if (config) charts.set(`slice-${i}`, new Chart(document.getElementById(`chart-slice-${i}`) as HTMLCanvasElement, config));
  });
}

function drawPcp(): void {
  pcp = pcpModel(study!, brushes);
  setChart('pcp', 'pcp', pcp ? pcpConfig(context(), pcp, brushes) : undefined, say('noPcp'));
  $('#clear-brushes').hidden = brushes.size === 0;
  const shownOf = pcp && pcp.trials.length < study!.trials.filter((t) => t.state === 'complete').length ? say('bestOf', pcp.trials.length, study!.trials.filter((t) => t.state === 'complete').length) : '';
  const colours = pcp ? say('pcpColours', study!.objective.metric) : '';
  aux('pcp', `<p class="note">${[colours, shownOf].filter(Boolean).map(escapeHtml).join(' · ')}</p>`);
}

function drawGroups(): void {
  const trials = scopeTrials();
  const options = groupOptions(trials);
  const select = $<HTMLSelectElement>('#group-by');
  const label = (o: string) => (o === CONFIGURATION ? say('byConfiguration') : o);
  select.innerHTML = options.map((o) => `<option value="${escapeHtml(o)}">${escapeHtml(label(o))}</option>`).join('');
  if (!ui.groupBy || !options.includes(ui.groupBy)) ui.groupBy = options.includes('max_seq_len') ? 'max_seq_len' : options[0];
  select.value = ui.groupBy ?? '';
  if (!ui.groupBy) {
    setChart('groups', 'groups', undefined, say('noGroups'));
    aux('groups', '');
    return;
  }
  const g = groupTrials(trials, ui.groupBy, ui.groupMetric!, ui.groupMetric === 'val_accuracy' ? 'maximize' : 'minimize');
  setChart('groups', 'groups', groupConfig(context(), g, ui.groupMetric!), say('noCurves'));
  aux('groups', groupTable(g));
}

function groupTable(g: Grouping): string {
  const metric = ui.groupMetric!;
  const other = metric === 'val_loss' ? 'val_accuracy' : 'val_loss';
  const ms = (x: { mean: number | null; std: number | null }) => (x.mean === null ? '—' : `${fmt(x.mean)}${x.std !== null ? ` ± ${fmt(x.std)}` : ''}`);
  const name = (key: string, i: number) => (g.by === CONFIGURATION ? say('configN', i + 1) : `${g.by} = ${key}`);
  const rows = g.groups
    .map((x, i) => `<tr class="${x.key === g.best ? 'best' : ''}" data-group="${escapeHtml(x.key)}" title="${escapeHtml(`${g.by === CONFIGURATION ? `${Object.entries(x.trials[0]!.params).filter(([k]) => k !== 'seed').map(([k, v]) => `${k}=${fmt(v)}`).join(' ')}\n` : ''}${x.trials.map((t) => `#${t.number}`).join(' ')}`)}"><td>${escapeHtml(name(x.key, i))}${x.key === g.best ? ' ★' : ''}</td><td class="num">${x.n}</td><td class="num">${ms(x.score)}</td><td class="num">${ms(x.other)}</td><td class="num">${x.p === null ? '—' : x.p.toPrecision(2)}</td></tr>`)
    .join('');
  const best = g.groups.find((x) => x.key === g.best);
  const second = g.groups.find((x) => x.key === g.runnerUp);
  let rec = '';
  if (best) {
    const bi = g.groups.indexOf(best);
    rec = say('recBest', name(best.key, bi), metric, ms(best.score), best.n);
    if (second) {
      const si = g.groups.indexOf(second);
      rec +=
        second.p === null
          ? say('recTooFew', name(second.key, si))
          : second.p < 0.05
            ? say('recSignificant', name(second.key, si), second.p.toPrecision(2))
            : say('recNotSignificant', name(second.key, si), second.p.toPrecision(2));
    }
  }
  return `<p class="recommendation" id="recommendation">${escapeHtml(rec)}</p><table class="groups"><thead><tr><th>${escapeHtml(say('group'))}</th><th>n</th><th>${metric} (${escapeHtml(say('meanStd'))})</th><th>${other}</th><th>${escapeHtml(say('welchP'))}</th></tr></thead><tbody>${rows}</tbody></table>`;
}

function drawLengths(): void {
  const l = study!.lengths;
  setChart('lengths', 'lengths', lengthsConfig(context()), say('noLengths'));
  if (!l?.stats) return aux('lengths', '');
  const s = l.stats;
  const cut = study!.maxSeqLen !== undefined ? l.truncated[String(study!.maxSeqLen)] : undefined;
  const parts = [say('lengthStats', s.count, s.mean.toFixed(1), s.p50, s.p95, s.p99, s.max)];
  if (cut !== undefined) parts.push(say('truncatedAt', study!.maxSeqLen!, (cut * 100).toFixed(1)));
  if (l.overflowFrom !== undefined) parts.push(say('tailBar', l.histogram.at(-1)![1], l.overflowFrom));
  const others = Object.entries(l.truncated).filter(([k]) => k !== String(study!.maxSeqLen)).map(([k, v]) => `${k}: ${(v * 100).toFixed(1)}%`);
  if (others.length) parts.push(`${say('truncated')} — ${others.join(' · ')}`);
  aux('lengths', `<p class="note" id="length-stats">${parts.map(escapeHtml).join('<br>')}</p>`);
}

// ---- selection ----

function pick(numbers: number[]): void {
  ui.picked = numbers;
  saveState();
  if (numbers.length) vscode.postMessage({ type: 'selectTrial', trial: numbers[0]!, trials: numbers });
  const set = new Set(numbers);
  for (const tr of document.querySelectorAll<HTMLElement>('#trials tbody tr[data-trial]')) {
    const on = set.has(Number(tr.dataset.trial));
    tr.classList.toggle('selected', on);
    const box = tr.querySelector('input') as HTMLInputElement | null;
    if (box) box.checked = on;
  }
  updatePickedButton();
  redraw('curves');
}

function updatePickedButton(): void {
  const b = $('#clear-picked');
  b.hidden = ui.picked!.length < 2;
  b.textContent = say('clearPicked', ui.picked!.length);
}

function onTableClick(ev: Event): void {
  const e = ev as MouseEvent;
  const target = e.target as HTMLElement;
  const th = target.closest('th');
  if (th?.dataset.key) {
    const key = th.dataset.key as SortKey;
    ui.desc = key === ui.sort ? !ui.desc : false;
    ui.sort = key;
    saveState();
    renderTable();
    return;
  }
  const tr = target.closest('tr[data-trial]') as HTMLElement | null;
  if (!tr) return;
  const n = Number(tr.dataset.trial);
  const toggle = e.ctrlKey || e.metaKey || e.shiftKey || target.closest('td.pick') !== null;
  if (!toggle) return pick([n]);
  pick(ui.picked!.includes(n) ? ui.picked!.filter((x) => x !== n) : [...ui.picked!, n]);
}

function pickFromChart(id: string, ev: Event): void {
  const chart = charts.get(id);
  if (!chart) return;
  const hit = chart.getElementsAtEventForMode(ev, 'nearest', { intersect: true }, false)[0];
  const point = hit && (chart.data.datasets[hit.datasetIndex]!.data[hit.index] as { x?: number } | undefined);
  if (point?.x !== undefined && byNumber.has(point.x)) {
    pick([point.x]);
    showView('curves');
  }
}

// ---- parallel-coordinates brushing ----

interface AxisElement {
  x: number;
  top: number;
  bottom: number;
  getValueForPixel(px: number): number;
}

/** Dragging along an axis keeps the trials inside the range; a double-click clears that axis. */
function attachBrushing(canvas: HTMLCanvasElement): void {
  let drag: { axis: string; from: number } | undefined;
  const axisAt = (ev: PointerEvent | MouseEvent): { name: string; el: AxisElement; y: number } | undefined => {
    const chart = charts.get('pcp');
    if (!chart) return undefined;
    const r = canvas.getBoundingClientRect();
    const [x, y] = [ev.clientX - r.left, ev.clientY - r.top];
    for (let i = 0; i < chart.data.datasets.length; i++) {
      const el = chart.getDatasetMeta(i).dataset as unknown as AxisElement | undefined;
      if (el && Math.abs(el.x - x) <= 12 && y >= el.top - 4 && y <= el.bottom + 4) return { name: (chart.data.datasets[i] as { axisName?: string }).axisName!, el, y };
    }
    return undefined;
  };
  canvas.addEventListener('pointerdown', (ev) => {
    const a = axisAt(ev);
    if (!a) return;
    drag = { axis: a.name, from: a.el.getValueForPixel(a.y) };
    canvas.setPointerCapture(ev.pointerId);
  });
  canvas.addEventListener('pointermove', (ev) => {
    if (!drag) return;
    const chart = charts.get('pcp')!;
    const i = chart.data.datasets.findIndex((d) => (d as { axisName?: string }).axisName === drag!.axis);
    const el = chart.getDatasetMeta(i).dataset as unknown as AxisElement;
    const y = Math.min(el.bottom, Math.max(el.top, ev.clientY - canvas.getBoundingClientRect().top));
    const to = el.getValueForPixel(y);
    brushes.set(drag.axis, [Math.min(drag.from, to), Math.max(drag.from, to)]);
    chart.draw();
  });
  canvas.addEventListener('pointerup', () => {
    if (drag) afterBrush();
    drag = undefined;
  });
  canvas.addEventListener('dblclick', (ev) => {
    const a = axisAt(ev);
    if (a && brushes.delete(a.name)) afterBrush();
  });
}

function afterBrush(): void {
  redraw('pcp');
  renderTable();
}

// ---- table ----

function scope(): Scope {
  const hasRuns = !!study?.seqlenRuns?.length;
  if (!hasRuns) return 'tuning';
  return ui.scope ?? (study!.trials.length ? 'tuning' : 'seqlen');
}

function scopeTrials(): TrialView[] {
  return scope() === 'seqlen' ? (study!.seqlenRuns ?? []) : study!.trials;
}

/**
 * The table is virtualised: only the rows around the scroll position are in the DOM (spacer rows
 * stand in for the rest), so 1,000 trials cost the same first layout as 80.
 */
const WINDOW_ROWS = 80;
let rowHeight = 21;
let rows: TrialView[] = [];
let columns: TableColumns | undefined;
let windowStart = -1;

function renderTable(): void {
  if (!study) return;
  const trials = scopeTrials();
  const filter: TrialFilter = parseFilter(ui.filter!, paramNames(trials), study.objective.metric);
  // Brushed ranges filter the tuning trials (the parallel coordinates draw those).
  const inBrush = scope() === 'tuning' && brushes.size && pcp ? (t: TrialView) => !pcp!.outside.has(t.number) && pcp!.trials.includes(t) : undefined;
  rows = sortedTrials(study, trials, ui.sort!, ui.desc!, filter, inBrush);
  columns = tableColumns(study, trials, say, ui.sort!, ui.desc!, scope() === 'seqlen');
  const table = $('#trials');
  table.querySelector('thead')!.innerHTML = columns.head;
  table.dataset.rows = String(rows.length);
  $('#count').textContent = `${rows.length} / ${trials.length}`;
  const sc = $<HTMLSelectElement>('#scope');
  sc.hidden = !study.seqlenRuns?.length;
  sc.value = scope();
  const note = $('#filter-note');
  const notes = [...(filter.unknown.length ? [say('unknownColumn', filter.unknown.join(', '), [study.objective.metric, 'val_loss', 'val_accuracy', 'state', 'epochs', ...paramNames(trials)].filter((v, i, a) => a.indexOf(v) === i).join(', '))] : []), ...(inBrush ? [say('brushed')] : [])];
  note.hidden = !notes.length;
  note.textContent = notes.join(' ');
  updatePickedButton();
  windowStart = -1;
  renderRowWindow();
}

function renderRowWindow(): void {
  if (!study || !columns) return;
  const wrap = $('.table-wrap');
  const start = Math.max(0, Math.min(rows.length - WINDOW_ROWS, Math.floor(wrap.scrollTop / rowHeight) - WINDOW_ROWS / 4));
  if (start === windowStart) return;
  windowStart = start;
  const end = Math.min(rows.length, start + WINDOW_ROWS);
  const tbody = $('#trials tbody');
  tbody.innerHTML = `<tr class="spacer top"></tr>${tableRows(study, rows.slice(start, end), columns, new Set(ui.picked), say)}<tr class="spacer bottom"></tr>`;
  // Spacer heights through the CSSOM: the CSP forbids inline style attributes.
  (tbody.firstElementChild as HTMLElement).style.height = `${start * rowHeight}px`;
  (tbody.lastElementChild as HTMLElement).style.height = `${(rows.length - end) * rowHeight}px`;
}

let scrollQueued = false;
function onTableScroll(): void {
  if (scrollQueued) return;
  scrollQueued = true;
  requestAnimationFrame(() => {
    scrollQueued = false;
    // Measured once the table is on screen (not on the first-render path).
    const row = document.querySelector('#trials tbody tr[data-trial]') as HTMLElement | null;
    if (row?.offsetHeight) rowHeight = row.offsetHeight;
    const visibleFirst = Math.floor($('.table-wrap').scrollTop / rowHeight);
    // Re-render when the viewport nears either edge of the rendered window.
    if (windowStart < 0 || visibleFirst < windowStart + 5 || visibleFirst + 30 > windowStart + WINDOW_ROWS) {
      windowStart = -2;
      renderRowWindow();
    }
  });
}

// ---- the study ----

function render(): void {
  const v = study!;
  byNumber = new Map([...v.trials, ...(v.seqlenRuns ?? [])].map((t) => [t.number, t]));
  $('#title').textContent = v.name;
  const count = (s: TrialView['state']): number => v.trials.filter((t) => t.state === s).length;
  const states = (['complete', 'running', 'cancelled', 'failed', 'pruned'] as const).filter((s) => count(s) > 0).map((s) => `${count(s)} ${stateLabel(say, s)}`);
  const runs = v.seqlenRuns?.length ? ` · ${say('seqlenRunsN', v.seqlenRuns.length)}` : '';
  $('#summary').textContent = `${v.tuner} · ${v.objective.metric} (${say(`direction.${v.objective.direction}`)}) · ${say('trialsN', v.trials.length)}${states.length ? `: ${states.join(', ')}` : ''}${runs}`;
  renderShared();
  fresh.clear();
  for (const [name, step] of [['table', renderTable], ['view', drawView]] as const) {
    const s0 = performance.now();
    step();
    // Visible in the webview's devtools (Performance panel) and to the e2e timing checks.
    performance.measure(`trialbook:${name}`, { start: s0, end: performance.now() });
  }
  if (firstRender) {
    firstRender = false;
    // After layout and paint of the first frame: what the user waits for.
    requestAnimationFrame(() => vscode.postMessage({ type: 'rendered', ms: performance.now() - received!, sinceStart: performance.now() - t0, rows: v.trials.length }));
  }
}

/** A study shared through PostgreSQL: where (password already hidden), read-only, the connection. */
function renderShared(): void {
  const el = $('#shared');
  const s = study?.shared;
  if (!s) {
    el.hidden = true;
    return;
  }
  el.hidden = false;
  el.className = `shared ${s.status}`;
  el.dataset.status = s.status;
  el.dataset.workers = String(s.workers);
  if (s.status === 'connecting') el.textContent = say('sharedConnecting', s.where);
  else if (s.status === 'offline') el.textContent = say('sharedOffline', s.where, s.message ?? '', s.readAt ? new Date(s.readAt).toLocaleTimeString() : '—');
  else {
    const who = !s.exists ? say('sharedNoStudy') : s.workers ? say('sharedWorkers', s.workers) : say('sharedIdle');
    el.textContent = say('sharedLive', s.where, who);
  }
}

/**
 * A chart for the notes as PNG: drawn again off screen in the light palette on white, so the
 * image reads the same whatever the editor's theme and wherever the notes are opened.
 */
function chartPng(name: string): string {
  if (!study) return '';
  const ctx = context(LIGHT);
  const config = name === 'curves' ? curvesConfig(ctx, shownTrials(), ui.metric!, []) : name === 'lengths' ? lengthsConfig(ctx) : name === 'importance' ? importanceConfig(ctx) : historyConfig(ctx);
  if (!config) return '';
  const canvas = document.createElement('canvas');
  canvas.className = 'offscreen';
  canvas.width = 960;
  canvas.height = 480;
  document.body.appendChild(canvas);
  const options = { ...(config.options ?? {}), responsive: false, devicePixelRatio: 1 };
  const chart = new Chart(canvas, { ...config, options, plugins: [...(config.plugins ?? []), { id: 'background', beforeDraw: (c: Chart) => ((c.ctx.fillStyle = LIGHT.bg), c.ctx.fillRect(0, 0, c.width, c.height)) }] } as ChartConfiguration);
  const url = canvas.toDataURL('image/png');
  chart.destroy();
  canvas.remove();
  return url;
}

let pendingMetrics = false;
window.addEventListener('message', (ev) => {
  const p0 = performance.now();
  const r = ToWebview.safeParse(ev.data);
  performance.measure('trialbook:parse', { start: p0, end: performance.now() });
  if (!r.success) return;
  const m = r.data;
  switch (m.type) {
    case 'study':
      received ??= p0;
      // Importance follows in its own message when it changed: keep showing the last one until then.
      study = { ...m.study, importance: m.study.importance ?? study?.importance };
      render();
      break;
    case 'importance':
      if (!study) break;
      study.importance = m.importance;
      redraw('importance');
      break;
    case 'metric': {
      const t = byNumber.get(m.trial);
      if (!t) break;
      appendMetric((t.curve ??= []), m.metric);
      // Coalesce bursts of metrics into one redraw per frame.
      if (!pendingMetrics) {
        pendingMetrics = true;
        requestAnimationFrame(() => {
          pendingMetrics = false;
          redraw('curves');
        });
      }
      break;
    }
    case 'showTrial':
      ui.picked = [m.trial];
      if (study) {
        pick([m.trial]);
        showView('curves');
      } else ui.view = 'curves';
      break;
    case 'showView':
      if ((VIEWS as readonly string[]).includes(m.view)) showView(m.view as ViewName);
      break;
    case 'requestChartPng':
      vscode.postMessage({ type: 'chartPng', requestId: m.requestId, chart: m.chart, dataUrl: chartPng(m.chart) });
      break;
  }
});

layout();
showView(ui.view!);
vscode.postMessage({ type: 'ready' });
