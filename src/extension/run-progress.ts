/**
 * Where a run is, in words: one text for the status bar item and the progress notification, so
 * the two never disagree.
 */
import * as vscode from 'vscode';

/** `worker`: `trialbook worker` on a study shared through PostgreSQL (the only run that writes there). */
export type RunKind = 'tune' | 'seqlen' | 'worker';

/** What the progress text reads of a run (runs.ts's ActiveRun adds the process and the study). */
export interface RunCounts {
  kind: RunKind;
  startedAt: number;
  finished: number;
  total?: number;
  current?: number;
  /** A worker waits for other workers' trials (nothing to claim yet). */
  waiting?: boolean;
}

/** 45s, 3m 20s, 2h 5m. */
export function formatDuration(seconds: number): string {
  const s = Math.round(seconds);
  return s >= 3600 ? `${Math.floor(s / 3600)}h ${Math.round((s % 3600) / 60)}m` : s >= 60 ? `${Math.floor(s / 60)}m ${s % 60}s` : `${s}s`;
}

function eta(run: RunCounts): string {
  if (!run.total || !run.finished) return '';
  const per = (Date.now() - run.startedAt) / run.finished;
  return formatDuration((Math.max(0, run.total - run.finished) * per) / 1000);
}

/**
 * Where a run is, in the same words for the status bar item and the progress notification:
 * the running trial's number and how many runs are done of the budget.
 */
export function runProgress(run: RunCounts): string {
  if (run.kind === 'worker') {
    const what = run.waiting ? vscode.l10n.t("waiting for other workers' trials") : run.current !== undefined ? vscode.l10n.t('trial #{0}', run.current) : vscode.l10n.t('starting…');
    return `${what} · ${vscode.l10n.t('{0} run here', run.finished)}`;
  }
  if (run.current === undefined) return vscode.l10n.t('starting…');
  const left = eta(run);
  return `${vscode.l10n.t('trial #{0} · {1}/{2} done', run.current, run.finished, run.total ?? '?')}${left ? ` · ${vscode.l10n.t('ETA {0}', left)}` : ''}`;
}
