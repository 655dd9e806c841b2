/**
 * Dashboard webview (bundled to dist/webview.js as an IIFE). Receives the study's view and live
 * metrics by postMessage; draws the trial table and the charts with chart.js; posts back the
 * trial a user picks, chart images for the notes, and how long the first render took.
 * No remote resources: everything is in this bundle and the CSS next to it.
 */
import { Chart, registerables, registry, type ChartConfiguration } from 'chart.js';
import { BarWithErrorBar, BarWithErrorBarsController } from 'chartjs-chart-error-bars';
import { LinearAxis, LineSegment, ParallelCoordinatesController, PCPScale } from 'chartjs-chart-pcp';
import { appendMetric } from '../protocol/curve';
import { ToWebview, type FromWebview, type Metric, type StudyView, type TrialView } from '../protocol/messages';
import { buildTable, sortedTrials, type SortKey } from './table';
import { bestSoFar, pcpAxes } from './series';

Chart.register(...registerables, BarWithErrorBarsController, BarWithErrorBar, ParallelCoordinatesController, PCPScale);
// The PCP axis is a scale class used as a dataset element: register it as an element explicitly.
registry.addElements(LinearAxis, LineSegment);

interface VsCodeApi {
  postMessage(m: FromWebview): void;
  getState(): unknown;
  setState(s: unknown): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

const vscode = acquireVsCodeApi();
const app = document.getElementById('app')!;
const boot = JSON.parse(app.dataset.state ?? '{}') as { studyFile?: string; strings?: Record<string, string> };
const saved = (vscode.getState() ?? {}) as { selected?: number; sort?: SortKey; desc?: boolean; filter?: string };
// The extension keeps the study file in the serializer state; the rest is view state.
vscode.setState({ ...saved, studyFile: boot.studyFile });
const S = (key: string, fallback: string): string => boot.strings?.[key] ?? fallback;

let study: StudyView | undefined;
let selected = saved.selected;
let sortKey: SortKey = saved.sort ?? 'value';
let sortDesc = saved.desc ?? false;
let filter = saved.filter ?? '';
const charts = new Map<string, Chart>();
let firstRender = true;
const t0 = performance.now();

function saveState(): void {
  vscode.setState({ studyFile: boot.studyFile, selected, sort: sortKey, desc: sortDesc, filter });
}

/** Theme colours from VS Code's CSS variables (light, dark and high contrast alike). */
function themeColor(name: string, fallback: string): string {
  const v = getComputedStyle(document.body).getPropertyValue(name).trim();
  return v || fallback;
}
function palette(): { fg: string; grid: string; line: string[]; best: string } {
  return {
    fg: themeColor('--vscode-foreground', '#888'),
    grid: themeColor('--vscode-editorWidget-border', 'rgba(128,128,128,0.3)'),
    line: ['--vscode-charts-blue', '--vscode-charts-orange', '--vscode-charts-green', '--vscode-charts-purple', '--vscode-charts-red', '--vscode-charts-yellow'].map((n, i) => themeColor(n, ['#3794ff', '#d18616', '#89d185', '#b180d7', '#f14c4c', '#cca700'][i]!)),
    best: themeColor('--vscode-charts-yellow', '#cca700'),
  };
}

function layout(): void {
  app.innerHTML = `
<header><h1 id="title"></h1><span id="summary"></span></header>
<p id="shared" class="shared" hidden></p>
<div class="grid">
  <section data-chart="history"><h2>${S('history', 'Optimisation history')}</h2><div class="box"><canvas id="chart-history"></canvas></div><p class="empty" hidden>${S('noTrials', 'No finished trials yet.')}</p></section>
  <section data-chart="curves"><h2 id="curves-title">${S('curves', 'Loss curves')}</h2><div class="box"><canvas id="chart-curves"></canvas></div><p class="empty" hidden>${S('noCurves', 'No curve yet: pick a trial in the table.')}</p></section>
  <section data-chart="pcp"><h2>${S('pcp', 'Hyperparameters vs objective')}</h2><div class="box"><canvas id="chart-pcp"></canvas></div><p class="empty" hidden>${S('noTrials', 'No finished trials yet.')}</p></section>
  <section data-chart="seqlen"><h2>${S('seqlen', 'Sequence-length study (mean ± std)')}</h2><div class="box"><canvas id="chart-seqlen"></canvas></div><p class="empty" hidden>${S('noSeqlen', 'Run the sequence-length study to fill this chart.')}</p></section>
  <section data-chart="lengths"><h2>${S('lengths', 'Token lengths')}</h2><div class="box"><canvas id="chart-lengths"></canvas></div><p class="empty" hidden>${S('noLengths', 'Run Inspect Token Lengths to fill this chart.')}</p></section>
</div>
<section class="table-section">
  <div class="toolbar"><input id="filter" type="search" placeholder="${S('filter', 'Filter trials (state, #, parameter value)')}" aria-label="${S('filter', 'Filter trials')}"><span id="count"></span></div>
  <div class="table-wrap"><table id="trials"><thead></thead><tbody></tbody></table></div>
</section>`;
  const input = document.getElementById('filter') as HTMLInputElement;
  input.value = filter;
  input.addEventListener('input', () => {
    filter = input.value;
    saveState();
    renderTable();
  });
  document.querySelector('.table-wrap')!.addEventListener('scroll', onTableScroll, { passive: true });
  const table = document.getElementById('trials')!;
  table.addEventListener('click', (ev) => {
    const th = (ev.target as HTMLElement).closest('th');
    if (th?.dataset.key) {
      const key = th.dataset.key as SortKey;
      sortDesc = key === sortKey ? !sortDesc : false;
      sortKey = key;
      saveState();
      renderTable();
      return;
    }
    const tr = (ev.target as HTMLElement).closest('tr[data-trial]') as HTMLElement | null;
    if (tr) select(Number(tr.dataset.trial));
  });
}

function select(trial: number): void {
  selected = trial;
  saveState();
  vscode.postMessage({ type: 'selectTrial', trial });
  for (const el of document.querySelectorAll('tr.selected')) el.classList.remove('selected');
  document.querySelector(`tr[data-trial="${trial}"]`)?.classList.add('selected');
  drawCurves();
}

/**
 * The table is virtualised: only the rows around the scroll position are in the DOM (spacer rows
 * stand in for the rest), so 1,000 trials cost the same first layout as 80.
 */
const WINDOW_ROWS = 80;
let rowHeight = 21;
let tableRows: TrialView[] = [];
let windowStart = -1;

function renderTable(): void {
  if (!study) return;
  tableRows = sortedTrials(study, sortKey, sortDesc, filter);
  const { head } = buildTable(study, [], sortKey, sortDesc, selected);
  const table = document.getElementById('trials')!;
  table.querySelector('thead')!.innerHTML = head;
  table.dataset.rows = String(tableRows.length);
  document.getElementById('count')!.textContent = `${tableRows.length} / ${study.trials.length}`;
  windowStart = -1;
  renderRowWindow();
}

function renderRowWindow(): void {
  if (!study) return;
  const wrap = document.querySelector('.table-wrap') as HTMLElement;
  const first = Math.max(0, Math.min(tableRows.length - WINDOW_ROWS, Math.floor(wrap.scrollTop / rowHeight) - WINDOW_ROWS / 4));
  const start = Math.max(0, first);
  if (start === windowStart) return;
  windowStart = start;
  const end = Math.min(tableRows.length, start + WINDOW_ROWS);
  const { body } = buildTable(study, tableRows.slice(start, end), sortKey, sortDesc, selected);
  const tbody = document.querySelector('#trials tbody') as HTMLElement;
  tbody.innerHTML = `<tr class="spacer top"></tr>${body}<tr class="spacer bottom"></tr>`;
  // Spacer heights through the CSSOM: the CSP forbids inline style attributes.
  (tbody.firstElementChild as HTMLElement).style.height = `${start * rowHeight}px`;
  (tbody.lastElementChild as HTMLElement).style.height = `${(tableRows.length - end) * rowHeight}px`;
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
    const wrap = document.querySelector('.table-wrap') as HTMLElement;
    const visibleFirst = Math.floor(wrap.scrollTop / rowHeight);
    // Re-render when the viewport nears either edge of the rendered window.
    if (windowStart < 0 || visibleFirst < windowStart + 5 || visibleFirst + 30 > windowStart + WINDOW_ROWS) {
      windowStart = -2;
      renderRowWindow();
    }
  });
}

function setChart(id: string, config: ChartConfiguration | undefined): void {
  const section = document.querySelector(`section[data-chart="${id}"]`) as HTMLElement;
  const box = section.querySelector('.box') as HTMLElement;
  const empty = section.querySelector('.empty') as HTMLElement;
  const old = charts.get(id);
  if (!config) {
    old?.destroy();
    charts.delete(id);
    box.hidden = true;
    empty.hidden = false;
    return;
  }
  box.hidden = false;
  empty.hidden = true;
  if (old && (old.config as { type?: string }).type === (config as { type?: string }).type) {
    old.data = config.data;
    old.options = config.options ?? {};
    old.update('none');
    return;
  }
  old?.destroy();
  charts.set(id, new Chart(document.getElementById(`chart-${id}`) as HTMLCanvasElement, config));
}

const baseOptions = () => {
  const p = palette();
  Chart.defaults.color = p.fg;
  Chart.defaults.borderColor = p.grid;
  return { animation: false as const, responsive: true, maintainAspectRatio: false, plugins: { legend: { labels: { boxWidth: 12 } } } };
};

function drawHistory(): void {
  const v = study!;
  const p = palette();
  const done = v.trials.filter((t) => t.value !== null && (t.state === 'complete' || t.state === 'pruned')).sort((a, b) => a.number - b.number);
  if (!done.length) return setChart('history', undefined);
  const best = bestSoFar(done, v.objective.direction);
  setChart('history', {
    type: 'scatter',
    data: {
      datasets: [
        { type: 'scatter', label: v.objective.metric, data: done.map((t) => ({ x: t.number, y: t.value! })), backgroundColor: done.map((t) => (t.number === v.bestTrial ? p.best : p.line[0]!)), pointRadius: done.length > 300 ? 2 : 3 },
        { type: 'line', label: S('bestSoFar', 'best so far'), data: best, borderColor: p.line[1], pointRadius: 0, stepped: true, borderWidth: 2 },
      ],
    },
    options: { ...baseOptions(), parsing: false, normalized: true, scales: { x: { type: 'linear', title: { display: true, text: S('trial', 'trial') } }, y: { title: { display: true, text: v.objective.metric } } } },
  } as ChartConfiguration);
}

function curveOf(t: TrialView | undefined): Metric[] {
  return t?.curve ?? [];
}

function drawCurves(): void {
  const v = study!;
  const p = palette();
  // The picked trial; else the running one; else the best.
  const t = v.trials.find((x) => x.number === selected) ?? v.trials.find((x) => x.state === 'running') ?? v.trials.find((x) => x.number === v.bestTrial);
  const curve = curveOf(t);
  document.getElementById('curves-title')!.textContent = t ? `${S('curves', 'Loss curves')} — ${S('trial', 'trial')} ${t.number}` : S('curves', 'Loss curves');
  if (!t || !curve.length) return setChart('curves', undefined);
  // Steps inside an epoch are placed between epochs (epoch - 1 + fraction), so step and epoch rows share one axis.
  const maxStep = Math.max(1, ...curve.map((m) => m.step ?? 0));
  const x = (m: Metric): number => (m.step !== undefined ? m.epoch - 1 + m.step / (maxStep + 1) : m.epoch);
  const train = curve.filter((m) => m.train_loss !== null).map((m) => ({ x: x(m), y: m.train_loss! }));
  const val = curve.filter((m) => m.val_loss !== null && m.val_loss !== undefined && m.step === undefined).map((m) => ({ x: x(m), y: m.val_loss! }));
  setChart('curves', {
    type: 'line',
    data: {
      datasets: [
        { label: S('trainLoss', 'train loss'), data: train, borderColor: p.line[0], pointRadius: 0, borderWidth: 1.5 },
        { label: S('valLoss', 'validation loss'), data: val, borderColor: p.line[1], pointRadius: 3, borderWidth: 2 },
      ],
    },
    options: { ...baseOptions(), parsing: false, scales: { x: { type: 'linear', title: { display: true, text: S('epoch', 'epoch') } }, y: { title: { display: true, text: S('loss', 'loss') } } } },
  } as ChartConfiguration);
}

/** Lines beyond this many are unreadable (and slow): the PCP shows the best ones. */
const PCP_MAX_LINES = 200;

function drawPcp(): void {
  const v = study!;
  const p = palette();
  const sign = v.objective.direction === 'minimize' ? 1 : -1;
  const complete = v.trials.filter((t) => t.state === 'complete' && t.value !== null);
  const done = complete.length > PCP_MAX_LINES ? [...complete].sort((a, b) => sign * (a.value! - b.value!)).slice(0, PCP_MAX_LINES) : complete;
  const title = document.querySelector('section[data-chart="pcp"] h2') as HTMLElement;
  title.textContent = S('pcp', 'Hyperparameters vs objective') + (done.length < complete.length ? ` — ${S('bestOf', 'best {0} of {1}').replace('{0}', String(done.length)).replace('{1}', String(complete.length))}` : '');
  const axes = pcpAxes(done, v.objective.metric);
  if (done.length < 2 || axes.length < 2) return setChart('pcp', undefined);
  const best = v.bestTrial;
  // Per-line colours as arrays (indexable options), much cheaper than scriptable ones.
  const faint = p.line[0] + (done.length > 100 ? '33' : '88');
  const colors = done.map((t) => (t.number === best ? p.best : faint));
  const widths = done.map((t) => (t.number === best ? 3 : 1));
  setChart('pcp', {
    type: 'pcp',
    data: {
      labels: done.map((t) => `#${t.number}`),
      datasets: axes.map((a) => ({ label: a.label, data: a.values, borderColor: colors, borderWidth: widths })),
    },
    options: {
      ...baseOptions(),
      plugins: { legend: { display: false } },
      elements: { point: { radius: 0 } },
    },
  } as unknown as ChartConfiguration);
}

function drawSeqlen(): void {
  const rows = (study!.seqlen ?? []).filter((r) => r.mean !== null);
  const p = palette();
  if (!rows.length) return setChart('seqlen', undefined);
  setChart('seqlen', {
    type: 'barWithErrorBars',
    data: {
      labels: rows.map((r) => String(r.maxLen)),
      datasets: [{ label: S('valLossMean', 'validation loss (mean ± std)'), data: rows.map((r) => ({ y: r.mean!, yMin: r.mean! - (r.std ?? 0), yMax: r.mean! + (r.std ?? 0) })), backgroundColor: p.line[2] + '99', borderColor: p.line[2] }],
    },
    options: { ...baseOptions(), scales: { x: { title: { display: true, text: 'max_seq_len' } }, y: { beginAtZero: false } } },
  } as unknown as ChartConfiguration);
}

function drawLengths(): void {
  const l = study!.lengths;
  const p = palette();
  if (!l || !l.histogram.length) return setChart('lengths', undefined);
  const truncated = Object.entries(l.truncated).map(([len, share]) => `${len}: ${(share * 100).toFixed(1)}%`).join(' · ');
  setChart('lengths', {
    type: 'bar',
    data: { labels: l.histogram.map(([len]) => String(len)), datasets: [{ label: `${S('examples', 'examples')} — ${S('truncated', 'truncated')} ${truncated}`, data: l.histogram.map(([, n]) => n), backgroundColor: p.line[3] }] },
    options: { ...baseOptions(), scales: { x: { title: { display: true, text: S('tokens', 'tokens') } } } },
  } as ChartConfiguration);
}

function render(): void {
  const v = study!;
  document.getElementById('title')!.textContent = v.name;
  const n = (s: string): number => v.trials.filter((t) => t.state === s).length;
  document.getElementById('summary')!.textContent = `${v.tuner} · ${v.objective.metric} (${v.objective.direction}) · ${v.trials.length} ${S('trials', 'trials')}: ${n('complete')} ${S('complete', 'complete')}, ${n('running')} ${S('running', 'running')}, ${n('failed')} ${S('failed', 'failed')}, ${n('pruned')} ${S('pruned', 'pruned')}`;
  renderShared();
  const steps: Array<[string, () => void]> = [['table', renderTable], ['curves', drawCurves], ['history', drawHistory], ['pcp', drawPcp], ['seqlen', drawSeqlen], ['lengths', drawLengths]];
  for (const [name, step] of steps) {
    const s0 = performance.now();
    step();
    // Visible in the webview's devtools (Performance panel) and to the e2e timing checks.
    performance.measure(`trialbook:${name}`, { start: s0, end: performance.now() });
  }
  if (firstRender) {
    firstRender = false;
    // After layout and paint of the first frame: what the user waits for.
    requestAnimationFrame(() => vscode.postMessage({ type: 'rendered', ms: performance.now() - t0, rows: v.trials.length }));
  }
}

/** A study shared through PostgreSQL: where (password already hidden), read-only, the connection. */
function renderShared(): void {
  const el = document.getElementById('shared')!;
  const s = study?.shared;
  if (!s) {
    el.hidden = true;
    return;
  }
  const fill = (text: string, ...args: string[]): string => args.reduce((out, a, i) => out.replace(`{${i}}`, a), text);
  el.hidden = false;
  el.className = `shared ${s.status}`;
  el.dataset.status = s.status;
  el.dataset.workers = String(s.workers);
  if (s.status === 'connecting') el.textContent = fill(S('sharedConnecting', 'Shared study: connecting to {0}…'), s.where);
  else if (s.status === 'offline') el.textContent = fill(S('sharedOffline', 'Shared study at {0} is offline: {1} — showing the trials read at {2}; reconnecting.'), s.where, s.message ?? '', s.readAt ? new Date(s.readAt).toLocaleTimeString() : '—');
  else {
    const who = !s.exists ? S('sharedNoStudy', 'no worker has started it yet') : s.workers ? fill(S('sharedWorkers', '{0} workers running'), String(s.workers)) : S('sharedIdle', 'no worker running');
    el.textContent = fill(S('sharedLive', 'Shared study at {0}, read-only here · {1}'), s.where, who);
  }
}

/** PNG of a chart on an opaque background (a transparent PNG is unreadable in a dark theme viewer). */
function chartPng(name: string): string {
  const chart = charts.get(name) ?? charts.get('history') ?? [...charts.values()][0];
  if (!chart) return '';
  const src = chart.canvas;
  const out = document.createElement('canvas');
  out.width = src.width;
  out.height = src.height;
  const ctx = out.getContext('2d')!;
  ctx.fillStyle = themeColor('--vscode-editor-background', '#ffffff');
  ctx.fillRect(0, 0, out.width, out.height);
  ctx.drawImage(src, 0, 0);
  return out.toDataURL('image/png');
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
      study = m.study;
      render();
      break;
    case 'metric': {
      const t = study?.trials.find((x) => x.number === m.trial);
      if (!t) break;
      appendMetric((t.curve ??= []), m.metric);
      // Coalesce bursts of metrics into one redraw per frame.
      if (!pendingMetrics) {
        pendingMetrics = true;
        requestAnimationFrame(() => {
          pendingMetrics = false;
          drawCurves();
        });
      }
      break;
    }
    case 'showTrial':
      if (study) select(m.trial);
      else selected = m.trial;
      break;
    case 'requestChartPng':
      vscode.postMessage({ type: 'chartPng', requestId: m.requestId, chart: m.chart, dataUrl: chartPng(m.chart) });
      break;
  }
});

layout();
vscode.postMessage({ type: 'ready' });
