/**
 * How the commands that run trials (tune, worker, seqlen) show a run: one printer for the run
 * events of every command and store (`--json` prints the events themselves).
 */
import type { Metric, Params } from '../protocol/messages';
import type { RunEvent } from '../protocol/run-events';
import { isEpochSummary } from '../protocol/curve';

export function formatParams(p: Params): string {
  return Object.entries(p)
    .map(([k, v]) => `${k}=${typeof v === 'number' && !Number.isInteger(v) ? (Math.abs(v) < 1e-3 ? v.toExponential(2) : v.toFixed(4).replace(/0+$/, '')) : String(v)}`)
    .join(' ');
}

export function formatMetric(m: Metric): string {
  const parts: string[] = [];
  for (const k of ['train_loss', 'val_loss', 'val_accuracy'] as const) {
    const v = m[k];
    if (typeof v === 'number') parts.push(`${k} ${v.toFixed(4)}`);
  }
  if (typeof m.elapsed_s === 'number') parts.push(`${m.elapsed_s.toFixed(1)} s`);
  return parts.join('  ');
}

function mib(bytes: number): string {
  return bytes >= 1 << 20 ? `${(bytes / (1 << 20)).toFixed(1)} MiB` : `${Math.max(1, Math.round(bytes / 1024))} KiB`;
}

/** One line about where an attempt started from, or about its checkpoint kept for promotions. */
export function describeCheckpoint(e: Extract<RunEvent, { type: 'checkpoint' | 'checkpoint-stored' }>): string {
  if (e.type === 'checkpoint-stored') return `trial ${e.trial}: checkpoint stored in the database for promotions (${mib(e.bytes)}, ${e.files} files, ${(e.ms / 1000).toFixed(1)} s)`;
  const at = e.epoch !== undefined ? ` at epoch ${e.epoch}` : '';
  switch (e.source) {
    case 'own':
      return `trial ${e.trial}: resumes its own checkpoint${at}`;
    case 'local':
      return `trial ${e.trial}: continues trial ${e.from}'s checkpoint${at} (on this machine)`;
    case 'database':
      return `trial ${e.trial}: continues trial ${e.from}'s checkpoint${at}, fetched from the database (${mib(e.bytes ?? 0)} in ${((e.ms ?? 0) / 1000).toFixed(1)} s)`;
    case 'none':
      return `trial ${e.trial}: promoted from trial ${e.from}, but ${e.reason}: training from scratch for all ${e.epochs} epochs`;
  }
}

export interface PrinterOptions {
  /** The objective's name, e.g. val_loss. */
  metric: string;
  /** What a trial is called ('run' in the sequence-length study). */
  noun?: string;
  /** The line that starts an attempt, when the command says it its own way. */
  started?(e: Extract<RunEvent, { type: 'trial-started' }>): string;
}

/** Progress text for run events: one line per event worth a line; warnings without a trial to stderr. */
export function runPrinter(o: PrinterOptions): (e: RunEvent) => void {
  const out = (s: string): void => void process.stdout.write(s + '\n');
  const noun = o.noun ?? 'trial';
  const plural = (n: number[]): string => `${noun}${n.length > 1 ? 's' : ''} ${n.join(', ')}`;
  return (e) => {
    switch (e.type) {
      case 'recovered':
        out(e.reason === 'interrupted' ? `resuming: ${plural(e.trials)} stopped mid-run; re-running from the last checkpoint` : `${plural(e.trials)}: worker stopped heart-beating; marked failed (heartbeat lost) to be re-run`);
        break;
      case 'trial-started':
        out(o.started ? o.started(e) : `${noun} ${e.trial} (${e.index}${e.total !== undefined ? `/${e.total}` : ''})${e.attempt > 1 ? ` attempt ${e.attempt}` : ''}${e.resume ? ' resumed' : ''}: ${formatParams(e.params)}, ${e.epochs} epochs`);
        break;
      case 'checkpoint':
        if (e.source !== 'own') out(describeCheckpoint(e));
        break;
      case 'checkpoint-stored':
        out(describeCheckpoint(e));
        break;
      case 'metric':
        if (isEpochSummary(e.metric)) out(`  ${noun} ${e.trial} epoch ${e.metric.epoch}: ${formatMetric(e.metric)}`);
        break;
      case 'log':
        if (e.trial === undefined) process.stderr.write(`trialbook: ${e.level}: ${e.text}\n`);
        else if (e.level === 'warn' || e.level === 'error') out(`  ${noun} ${e.trial} ${e.level}: ${e.text}`);
        break;
      case 'trial-finished':
        out(`${noun} ${e.trial} complete: ${o.metric} ${e.value.toFixed(4)} (best: ${noun} ${e.best.trial}, ${e.best.value.toFixed(4)})`);
        break;
      case 'trial-failed':
        out(`${noun} ${e.trial} ${e.reason === 'cancelled' ? 'cancelled' : `failed (${e.reason})`}: ${e.message.split('\n')[0]}${e.willRetry && e.reason !== 'cancelled' ? ' — will retry' : ''}`);
        break;
      case 'taken-over':
        out(`${noun} ${e.trial}: taken over by another worker while this one was unreachable; its result here is dropped`);
        break;
      case 'checkpoints-dropped':
      case 'waiting':
      case 'stopped':
      case 'summary':
        break;
    }
  };
}
