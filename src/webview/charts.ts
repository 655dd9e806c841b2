/**
 * Chart configurations, one builder per view, from the study and a palette. Builders are pure:
 * the dashboard draws them on screen with the theme's palette and again, off screen, with the
 * light palette for the notes' image.
 */
import type { ChartConfiguration, ChartDataset, Plugin } from 'chart.js';
import type { StudyView, TrialView } from '../protocol/messages';
import { curvePoints, inheritedCurves, stepsPerEpoch, type CurveMetric } from './curves';
import type { Grouping } from './groups';
import { axisLabel, bestSoFar, logTicks, objectiveColor, paramAxis, scoredTrials, varyingParams, type ParamAxis } from './series';
import type { StringKey } from '../protocol/webview-strings';
import { fmt, type Say } from './table';
import { withAlpha, type Palette } from './theme';

export interface ChartContext {
  view: StudyView;
  p: Palette;
  say: Say;
  /** Every trial and sequence-length run by number (promotions look up their parents). */
  byNumber: ReadonlyMap<number, TrialView>;
}

/** What each dataset shows, kept on the dataset for tooltips, the legend and the e2e checks. */
export interface SeriesMeta {
  trial?: number;
  metric?: string;
  role?: 'own' | 'inherited' | 'faint' | 'band' | 'best' | 'marker';
  from?: number;
}

type Dataset = ChartDataset<'line' | 'scatter' | 'bar', unknown> & SeriesMeta;

function base(p: Palette) {
  return {
    animation: false as const,
    responsive: true,
    maintainAspectRatio: false,
    color: p.fg,
    plugins: {
      legend: { labels: { boxWidth: 12, color: p.fg, filter: (item: { datasetIndex?: number }, data: { datasets: Dataset[] }) => !['faint', 'band', 'marker'].includes(data.datasets[item.datasetIndex ?? 0]?.role ?? '') } },
      tooltip: { titleColor: '#fff', bodyColor: '#fff' },
    },
  };
}

/**
 * A chart of {x, y} points, already in chart.js's internal form so not parsed again (each
 * dataset sorted by x: chart.js then takes an axis' range from the ends).
 */
function pointsChart(p: Palette, type: 'line' | 'scatter', datasets: Dataset[], options: Record<string, unknown>, plugins: Plugin[] = []): ChartConfiguration {
  return { type, data: { datasets }, options: { ...base(p), parsing: false, normalized: true, ...options }, plugins } as unknown as ChartConfiguration;
}

/** A linear axis over whole numbers (epochs, trial numbers): half a step of room either side, ticks on whole numbers only. */
function wholeAxis(first: number, last: number): Record<string, unknown> {
  // A round step (1, 2, 5, 10, 20, 50, …) giving at most about a dozen ticks.
  const rough = Math.max(1, (last - first) / 12);
  const decade = 10 ** Math.floor(Math.log10(rough));
  const every = [1, 2, 5, 10].map((m) => m * decade).find((s) => s >= rough)!;
  const start = Math.ceil(first / every) * every;
  return {
    type: 'linear',
    min: first - 0.5 * every,
    max: last + 0.5 * every,
    afterBuildTicks: (scale: { ticks: Array<{ value: number }> }) => (scale.ticks = Array.from({ length: Math.floor((last - start) / every) + 1 }, (_, i) => ({ value: start + i * every }))),
  };
}

function axis(p: Palette, title: string, extra: Record<string, unknown> = {}) {
  return { title: { display: !!title, text: title, color: p.fg }, ticks: { color: p.muted }, grid: { color: p.grid }, border: { color: p.grid }, ...extra };
}

export const METRIC_LABEL: Record<CurveMetric, StringKey> = {
  val_loss: 'metric.val_loss',
  val_accuracy: 'metric.val_accuracy',
  train_loss: 'metric.train_loss',
  learning_rate: 'metric.learning_rate',
};

/**
 * Learning curves. One trial (metric "auto"): train loss per logged step, validation loss and
 * accuracy per epoch. Several: the chosen metric of each, in colour, over the other scored
 * trials drawn faint. Epochs a promoted trial inherited are drawn dashed, named after their trial.
 */
export function curvesConfig(c: ChartContext, shown: TrialView[], metric: 'auto' | CurveMetric, faint: TrialView[]): ChartConfiguration | undefined {
  const { p, say } = c;
  const single = shown.length === 1 && metric === 'auto';
  const metrics: CurveMetric[] = single ? ['train_loss', 'val_loss', 'val_accuracy'] : [metric === 'auto' ? 'val_loss' : metric];
  const spe = (t: TrialView) => stepsPerEpoch(t.curve ?? [], t.params.batch_size, c.view.trainRows);
  const datasets: Dataset[] = [];
  const line = (t: TrialView, m: CurveMetric, color: string, label: string, meta: SeriesMeta, curve = t.curve ?? []): Dataset => {
    const validation = m === 'val_loss' || m === 'val_accuracy';
    const faintLine = meta.role === 'faint';
    return {
      type: 'line',
      label,
      data: curvePoints(curve, m, spe(t)),
      borderColor: faintLine ? p.faint : color,
      backgroundColor: faintLine ? p.faint : color,
      borderWidth: faintLine ? 1 : validation ? 2 : 1.2,
      pointRadius: faintLine ? 0 : validation ? 3 : 0,
      borderDash: meta.role === 'inherited' ? [5, 4] : [],
      yAxisID: single && m === 'val_accuracy' ? 'y1' : 'y',
      metric: m,
      trial: t.number,
      ...meta,
    };
  };
  for (const t of faint) datasets.push(line(t, metrics[0]!, p.faint, '', { role: 'faint' }));
  shown.forEach((t, i) => {
    for (const [k, m] of metrics.entries()) {
      const color = p.series[(single ? k : i) % p.series.length]!;
      const name = single ? say(METRIC_LABEL[m]) : `#${t.number}${t.state === 'running' ? ` (${say('state.running')})` : ''}`;
      for (const seg of inheritedCurves(t, c.byNumber)) {
        const parent = c.byNumber.get(seg.from)!;
        datasets.push({ ...line(parent, m, color, `${name} ${say('inheritedFrom', seg.from)}`, { role: 'inherited', from: seg.from }, seg.curve), trial: t.number });
      }
      datasets.push(line(t, m, color, name, { role: 'own' }));
    }
  });
  if (!datasets.some((d) => d.role !== 'faint' && (d.data as unknown[]).length)) return undefined;
  const yTitle = single ? say('loss') : say(METRIC_LABEL[metrics[0]!]);
  return pointsChart(p, 'line', datasets, {
    interaction: { mode: 'nearest', intersect: false },
    scales: {
      x: axis(p, say('epoch'), { type: 'linear', min: 0, ticks: { color: p.muted, stepSize: 1 } }),
      y: axis(p, yTitle, metrics[0] === 'learning_rate' ? { type: 'logarithmic' } : {}),
      ...(single ? { y1: axis(p, say('metric.val_accuracy'), { position: 'right', grid: { drawOnChartArea: false, color: p.grid } }) } : {}),
    },
    plugins: {
      ...base(p).plugins,
      tooltip: { ...base(p).plugins.tooltip, filter: (item: { dataset: Dataset }) => item.dataset.role !== 'faint', callbacks: { label: (item: { dataset: Dataset; parsed: { x: number; y: number } }) => `${item.dataset.label}: ${fmt(item.parsed.y)} (${say('epoch')} ${fmt(item.parsed.x)})` } },
    },
  });
}

/** Objective per trial in order, the best so far, the best trial marked. */
export function historyConfig(c: ChartContext): ChartConfiguration | undefined {
  const { view, p, say } = c;
  const done = scoredTrials(view);
  if (!done.length) return undefined;
  const pt = (t: TrialView) => ({ x: t.number, y: t.value! });
  const complete = done.filter((t) => t.state === 'complete' && t.number !== view.bestTrial);
  const pruned = done.filter((t) => t.state === 'pruned');
  const best = done.filter((t) => t.number === view.bestTrial);
  const radius = done.length > 300 ? 2 : 3.5;
  const datasets: Dataset[] = [
    { type: 'scatter', label: say('state.complete'), data: complete.map(pt), backgroundColor: withAlpha(p.series[0]!, 0.75), pointRadius: radius, metric: view.objective.metric },
    ...(pruned.length ? [{ type: 'scatter', label: say('state.pruned'), data: pruned.map(pt), backgroundColor: withAlpha(p.muted, 0.6), pointRadius: radius } as Dataset] : []),
    { type: 'scatter', label: say('bestTrial'), data: best.map(pt), backgroundColor: p.best, borderColor: p.best, pointRadius: 7, pointStyle: 'star', borderWidth: 2, role: 'best' },
    { type: 'line', label: say('bestSoFar'), data: bestSoFar(done.filter((t) => t.state === 'complete'), view.objective.direction), borderColor: p.series[1], pointRadius: 0, stepped: true, borderWidth: 2 },
  ];
  return pointsChart(p, 'scatter', datasets, {
    scales: { x: axis(p, say('trial'), wholeAxis(done[0]!.number, done.at(-1)!.number)), y: axis(p, view.objective.metric, { grace: '5%' }) },
    plugins: { ...base(p).plugins, tooltip: { ...base(p).plugins.tooltip, callbacks: { label: (item: { parsed: { x: number; y: number } }) => `#${item.parsed.x}: ${view.objective.metric} ${fmt(item.parsed.y)}` } } },
  });
}

/** Share of the objective's variation each hyperparameter explains, largest on top. */
export function importanceConfig(c: ChartContext): ChartConfiguration | undefined {
  const { view, p, say } = c;
  const values = view.importance?.values;
  if (!values?.length) return undefined;
  return {
    type: 'bar',
    data: { labels: values.map((v) => v.name), datasets: [{ label: say('importanceShare'), data: values.map((v) => Math.round(v.share * 1000) / 10), backgroundColor: withAlpha(p.series[0]!, 0.8), borderColor: p.series[0] }] },
    options: { ...base(p), indexAxis: 'y', layout: { padding: { right: 48 } }, plugins: { ...base(p).plugins, legend: { display: false } }, scales: { x: axis(p, say('importanceShare'), { min: 0 }), y: axis(p, '') } },
    plugins: [barLabels(p)],
  } as unknown as ChartConfiguration;
}

/** Each bar's value at its end (as optuna-dashboard labels importance). */
function barLabels(p: Palette): Plugin {
  return {
    id: 'trialbookBarLabels',
    afterDatasetsDraw(chart) {
      const ctx = chart.ctx;
      const meta = chart.getDatasetMeta(0);
      ctx.save();
      ctx.fillStyle = p.fg;
      ctx.font = '12px sans-serif';
      ctx.textBaseline = 'middle';
      meta.data.forEach((bar, i) => ctx.fillText(`${chart.data.datasets[0]!.data[i]}%`, (bar as unknown as { x: number }).x + 6, (bar as unknown as { y: number }).y));
      ctx.restore();
    },
  };
}

/** A trial's jitter inside its category (deterministic, so a redraw does not move points). */
function jitter(n: number): number {
  return (((n * 2654435761) % 1000) / 1000 - 0.5) * 0.3;
}

/** Objective against one hyperparameter: log axis for a log-scaled one, categories spread a little. */
export function sliceConfig(c: ChartContext, param: string): ChartConfiguration | undefined {
  const { view, p, say } = c;
  const done = scoredTrials(view).filter((t) => t.params[param] !== undefined);
  if (done.length < 2) return undefined;
  const ax = paramAxis(param, done, view.space?.[param]);
  const last = Math.max(1, done.length - 1);
  // Later trials darker, as optuna-dashboard colours slices by trial number.
  const points = done
    .map((t, i) => ({ x: ax.categories ? ax.values[i]! + jitter(t.number) : (t.params[param] as number), y: t.value!, t, color: t.number === view.bestTrial ? p.best : withAlpha(p.series[0]!, 0.4 + (0.6 * i) / last) }))
    // Unparsed data must be sorted by x (Chart.js takes the axis range from its ends).
    .sort((a, b) => a.x - b.x);
  const categories = ax.categories;
  const xAxis = categories
    ? axis(p, param, {
        type: 'linear',
        min: -0.5,
        max: categories.length - 0.5,
        // One tick per category, at its position (a linear axis would start them at -0.5).
        afterBuildTicks: (scale: { ticks: Array<{ value: number }> }) => (scale.ticks = categories.map((_, i) => ({ value: i }))),
        ticks: { color: p.muted, callback: (v: number) => axisLabel(ax, v) },
      })
    : axis(p, param, {
        type: ax.log ? 'logarithmic' : 'linear',
        // Log ticks that do not crowd (logTicks), labelled compactly (3e-4).
        ...(ax.log
          ? {
              afterBuildTicks: (scale: { min: number; max: number; ticks: Array<{ value: number }> }) => (scale.ticks = logTicks(scale.min, scale.max).map((value) => ({ value }))),
              ticks: { color: p.muted, maxRotation: 0, callback: (v: number) => Number(v.toPrecision(2)).toExponential() },
            }
          : {}),
      });
  const best = (q: (typeof points)[number]) => q.t.number === view.bestTrial;
  const radius = done.length > 300 ? 2 : 3.5;
  const dataset: Dataset = { type: 'scatter', label: param, data: points.map((q) => ({ x: q.x, y: q.y, trial: q.t.number })), backgroundColor: points.map((q) => q.color), borderColor: points.map((q) => q.color), pointStyle: points.map((q) => (best(q) ? 'star' : 'circle')), pointRadius: points.map((q) => (best(q) ? 7 : radius)), borderWidth: points.map((q) => (best(q) ? 2 : 1)) };
  return pointsChart(p, 'scatter', [dataset], {
    plugins: { ...base(p).plugins, legend: { display: false }, tooltip: { ...base(p).plugins.tooltip, callbacks: { label: (item: { dataIndex: number }) => `#${points[item.dataIndex]!.t.number}: ${param} = ${fmt(points[item.dataIndex]!.t.params[param])}, ${view.objective.metric} ${fmt(points[item.dataIndex]!.y)}` } } },
    scales: { x: xAxis, y: axis(p, view.objective.metric, { grace: '5%' }) },
  });
}

/** The slice charts: one per hyperparameter that varies. */
export function sliceParams(view: StudyView): string[] {
  return varyingParams(scoredTrials(view), view.space);
}

/** Lines beyond this many are unreadable (and slow): the parallel coordinates show the best ones. */
const PCP_MAX_LINES = 300;

export interface PcpModel {
  trials: TrialView[];
  axes: ParamAxis[];
  /** Trials outside a brush (drawn faint). */
  outside: Set<number>;
}

/** Axis ranges a user brushed, by axis name: positions (log10 on a log axis). */
export type Brushes = Map<string, [number, number]>;

export function pcpModel(view: StudyView, brushes: Brushes): PcpModel | undefined {
  const sign = view.objective.direction === 'minimize' ? 1 : -1;
  const scored = scoredTrials(view).filter((t) => t.state === 'complete');
  const trials = scored.length > PCP_MAX_LINES ? [...scored].sort((a, b) => sign * (a.value! - b.value!)).slice(0, PCP_MAX_LINES) : scored;
  const params = varyingParams(trials, view.space);
  if (trials.length < 2 || !params.length) return undefined;
  const objective: ParamAxis = { name: view.objective.metric, values: trials.map((t) => t.value!), log: false };
  const axes = [...params.map((n) => paramAxis(n, trials, view.space?.[n])), objective];
  const outside = new Set<number>();
  for (const a of axes) {
    const r = brushes.get(a.name);
    if (r) a.values.forEach((v, i) => (v < r[0] || v > r[1]) && outside.add(trials[i]!.number));
  }
  return { trials, axes, outside };
}

/** Parallel coordinates: an axis per hyperparameter (log10 where the space is log), the objective last; lines coloured by the objective. */
export function pcpConfig(c: ChartContext, m: PcpModel, brushes: Brushes): ChartConfiguration {
  const { view, p } = c;
  const values = m.trials.map((t) => t.value!);
  const [lo, hi] = [Math.min(...values), Math.max(...values)];
  const many = m.trials.length > 100;
  const colors = m.trials.map((t) => (m.outside.has(t.number) ? p.faint : objectiveColor(t.value!, lo, hi, view.objective.direction, many ? 0.55 : 0.9, p.scaleFrom, p.scaleTo)));
  const widths = m.trials.map((t) => (t.number === view.bestTrial ? 4 : m.outside.has(t.number) ? 1 : 1.6));
  return {
    type: 'pcp',
    data: {
      labels: m.trials.map((t) => `#${t.number}`),
      datasets: m.axes.map((a) => ({
        label: a.log ? `${a.name} (log)` : a.name,
        data: a.values,
        borderColor: colors,
        borderWidth: widths,
        axisName: a.name,
        ...(a.min !== undefined ? { min: a.min } : {}),
        ...(a.max !== undefined ? { max: a.max } : {}),
        ticks: { color: p.muted, ...(a.categories ? { stepSize: 1 } : {}), callback: (v: number) => axisLabel(a, v) },
        grid: { color: p.grid },
        title: { color: p.fg },
      })),
    },
    options: {
      ...base(p),
      layout: { padding: { top: 16, bottom: 4 } },
      plugins: { legend: { display: false }, tooltip: { callbacks: { label: (item: { dataIndex: number }) => `#${m.trials[item.dataIndex]!.number}: ${view.objective.metric} ${fmt(m.trials[item.dataIndex]!.value)}` } } },
      elements: { point: { radius: 0 } },
      scales: { x: { ticks: { color: p.fg } } },
    },
    plugins: [brushPlugin(brushes, p)],
  } as unknown as ChartConfiguration;
}

/** Draws the brushed ranges on their axes. */
function brushPlugin(brushes: Brushes, p: Palette): Plugin {
  return {
    id: 'trialbookBrush',
    afterDatasetsDraw(chart) {
      const ctx = chart.ctx;
      chart.data.datasets.forEach((d, i) => {
        const r = brushes.get((d as { axisName?: string }).axisName ?? '');
        const ax = chart.getDatasetMeta(i).dataset as unknown as { x: number; getPixelForValue(v: number): number } | undefined;
        if (!r || !ax) return;
        const [y0, y1] = [ax.getPixelForValue(r[1]), ax.getPixelForValue(r[0])];
        ctx.save();
        ctx.fillStyle = withAlpha(p.series[0]!, 0.22);
        ctx.strokeStyle = p.series[0]!;
        ctx.fillRect(ax.x - 7, y0, 14, y1 - y0);
        ctx.strokeRect(ax.x - 7, y0, 14, y1 - y0);
        ctx.restore();
      });
    },
  };
}

/** Each group's mean curve with a ±1 std band, n in the legend. */
export function groupConfig(c: ChartContext, g: Grouping, metric: 'val_loss' | 'val_accuracy'): ChartConfiguration | undefined {
  const { p, say } = c;
  const groups = g.groups.filter((x) => x.curve.length);
  if (!groups.length) return undefined;
  const datasets: Dataset[] = [];
  groups.forEach((x, i) => {
    const color = p.series[i % p.series.length]!;
    // Groups side by side at each epoch (dodged a little), so their error bars do not overlap.
    const dodge = (i - (groups.length - 1) / 2) * 0.04;
    const band = (sign: number): Dataset => ({ type: 'line', label: '', data: x.curve.map((q) => ({ x: q.x + dodge, y: q.mean + sign * q.std })), borderWidth: 0, pointRadius: 0, backgroundColor: withAlpha(color, 0.16), role: 'band', fill: false });
    datasets.push(band(-1), { ...band(1), fill: '-1' });
    const n = Math.max(...x.curve.map((q) => q.n));
    datasets.push({ type: 'line', label: `${g.by === '(configuration)' ? say('configN', i + 1) : `${g.by}=${x.key}`} (n=${n})${x.key === g.best ? ' ★' : ''}`, data: x.curve.map((q) => ({ x: q.x + dodge, y: q.mean })), borderColor: color, backgroundColor: color, borderWidth: x.key === g.best ? 3 : 2, pointRadius: 3, metric, role: 'own' });
  });
  const epochs = groups.flatMap((x) => x.curve.map((q) => q.x));
  return pointsChart(
    p,
    'line',
    datasets,
    {
      scales: {
        x: axis(p, say('epoch'), wholeAxis(Math.min(...epochs), Math.max(...epochs))),
        y: axis(p, `${say(METRIC_LABEL[metric])} (${say('meanStd')})`),
      },
    },
    [errorBars()],
  );
}

/** ±1 std whiskers at each mean point (the band alone is invisible with one epoch). */
function errorBars(): Plugin {
  return {
    id: 'trialbookErrorBars',
    afterDatasetsDraw(chart) {
      const ctx = chart.ctx;
      const sets = chart.data.datasets as Dataset[];
      sets.forEach((d, i) => {
        if (d.role !== 'own' || i < 2) return;
        const [lo, hi] = [chart.getDatasetMeta(i - 2).data, chart.getDatasetMeta(i - 1).data];
        ctx.save();
        ctx.strokeStyle = String(d.borderColor);
        ctx.lineWidth = 1.5;
        chart.getDatasetMeta(i).data.forEach((pt, k) => {
          const [a, b] = [lo[k] as unknown as { y: number } | undefined, hi[k] as unknown as { y: number } | undefined];
          if (!a || !b) return;
          const x = (pt as unknown as { x: number }).x;
          ctx.beginPath();
          ctx.moveTo(x, a.y);
          ctx.lineTo(x, b.y);
          for (const y of [a.y, b.y]) {
            ctx.moveTo(x - 5, y);
            ctx.lineTo(x + 5, y);
          }
          ctx.stroke();
        });
        ctx.restore();
      });
    },
  };
}

/** Token lengths: bins up to the tail, the percentiles and the chosen max_seq_len as markers. */
export function lengthsConfig(c: ChartContext): ChartConfiguration | undefined {
  const { view, p, say } = c;
  const l = view.lengths;
  if (!l || !l.histogram.length) return undefined;
  const width = l.width ?? (l.histogram.length > 1 ? l.histogram[1]![0] - l.histogram[0]![0] : 1);
  const label = ([lo]: [number, number]) => (l.overflowFrom !== undefined && lo >= l.overflowFrom ? `≥ ${lo}` : width > 1 ? `${lo}–${lo + width - 1}` : String(lo));
  const markers: Array<[string, number, string]> = [];
  // A percentile in the tail's bar is marked there, with its value.
  const tail = (name: string, at: number) => (l.overflowFrom !== undefined && at >= l.overflowFrom ? `${name} ${at}` : name);
  if (l.stats) markers.push([tail('p50', l.stats.p50), l.stats.p50, p.series[2]!], [tail('p95', l.stats.p95), l.stats.p95, p.series[1]!], [tail('p99', l.stats.p99), l.stats.p99, p.series[4]!]);
  if (view.maxSeqLen) markers.push([`max_seq_len ${view.maxSeqLen}`, view.maxSeqLen, p.fg]);
  return {
    type: 'bar',
    data: { labels: l.histogram.map(label), datasets: [{ label: say('examples'), data: l.histogram.map(([, n]) => n), backgroundColor: withAlpha(p.series[3]!, 0.75), borderColor: p.series[3], categoryPercentage: 1, barPercentage: 0.95 }] },
    options: {
      ...base(p),
      plugins: { ...base(p).plugins, legend: { display: false } },
      scales: { x: axis(p, say('tokens'), { ticks: { color: p.muted, maxRotation: 0, autoSkip: true } }), y: axis(p, say('examples')) },
    },
    plugins: [markerPlugin(markers.map(([name, at, color]) => (l.overflowFrom !== undefined && at >= l.overflowFrom ? { name, bin: l.histogram.length - 1, within: 0.5, color } : { name, bin: Math.min(l.histogram.length - 1, Math.floor(at / width)), within: (at % width) / width, color })))],
  } as unknown as ChartConfiguration;
}

/** Vertical marker lines with labels at positions inside category bins. */
function markerPlugin(markers: Array<{ name: string; bin: number; within: number; color: string }>): Plugin {
  return {
    id: 'trialbookMarkers',
    afterDatasetsDraw(chart) {
      const x = chart.scales.x!;
      const area = chart.chartArea;
      const ctx = chart.ctx;
      const step = (x.getPixelForValue(1) - x.getPixelForValue(0)) || 0;
      markers.forEach((m, i) => {
        const px = x.getPixelForValue(m.bin) - step / 2 + step * m.within;
        ctx.save();
        ctx.strokeStyle = m.color;
        ctx.fillStyle = m.color;
        ctx.setLineDash(m.name.startsWith('max_seq_len') ? [] : [4, 3]);
        ctx.lineWidth = m.name.startsWith('max_seq_len') ? 2 : 1.5;
        ctx.beginPath();
        ctx.moveTo(px, area.top);
        ctx.lineTo(px, area.bottom);
        ctx.stroke();
        ctx.font = '11px sans-serif';
        // Near the right edge the label goes left of its line, inside the chart.
        const left = px > area.left + area.width * 0.8;
        ctx.textAlign = left ? 'right' : 'left';
        ctx.fillText(m.name, left ? px - 3 : px + 3, area.top + 12 + i * 13);
        ctx.restore();
      });
    },
  };
}
