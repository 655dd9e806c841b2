/**
 * Long runs (tuning, the sequence-length study, a worker of a shared study) as CLI child
 * processes, at most one per study.
 * Feeds the status bar, a cancellable progress notification, the explorer's "running" marks and
 * the dashboard's live curves. The extension host only reads JSON lines: it stays responsive.
 */
import * as vscode from 'vscode';
import type { Metric } from '../protocol/messages';
import { CliProcess, cliError, studyCwd } from './cli-process';
import { DashboardPanel } from './dashboard';
import type { TrialExplorer } from './explorer';
import type { Log } from './log';
import { runProgress, type StatusBar } from './status-bar';
import type { StudyIndex } from './studies';

/** `worker`: `trialbook worker` on a study shared through PostgreSQL (the only run that writes there). */
export type RunKind = 'tune' | 'seqlen' | 'worker';

export interface ActiveRun {
  kind: RunKind;
  studyFile: string;
  name: string;
  proc: CliProcess;
  startedAt: number;
  finished: number;
  total?: number;
  current?: number;
  index?: number;
  /** A worker waits for other workers' trials (nothing to claim yet). */
  waiting?: boolean;
}

export class RunManager implements vscode.Disposable {
  private readonly runs = new Map<string, ActiveRun>();

  constructor(
    private readonly ctx: vscode.ExtensionContext,
    private readonly studies: StudyIndex,
    private readonly explorer: TrialExplorer,
    private readonly status: StatusBar,
    private readonly log: Log,
  ) {}

  get(studyFile: string): ActiveRun | undefined {
    return this.runs.get(studyFile);
  }

  list(): ActiveRun[] {
    return [...this.runs.values()];
  }

  /**
   * Starts `trialbook tune|seqlen|worker STUDY --json [extra]` and reports it until it exits.
   * `total`: the runs planned (Hyperband's plan), until the run's own events say.
   */
  start(kind: RunKind, studyFile: string, extra: string[] = [], total?: number): ActiveRun {
    const name = this.studies.get(studyFile)?.view?.name ?? studyFile;
    // A worker reads the database URL from the study file: it never appears on a command line.
    const args = [kind, studyFile, '--json', ...extra];
    this.log.info(`run: trialbook ${args.join(' ')}`);
    const run: ActiveRun = {
      kind,
      studyFile,
      name,
      startedAt: Date.now(),
      finished: 0,
      ...(total !== undefined ? { total } : {}),
      proc: new CliProcess({
        extensionPath: this.ctx.extensionPath,
        args,
        cwd: studyCwd(studyFile),
        onJson: (e) => this.onEvent(run, e),
        onText: (l) => this.log.info(`[${name}] ${l}`),
        onStderr: (l) => this.log.warn(`[${name}] ${l}`),
      }),
    };
    this.runs.set(studyFile, run);
    this.explorer.running.add(studyFile);
    this.explorer.refresh();
    this.studies.setPolling(true);
    void vscode.commands.executeCommand('setContext', 'trialbook.running', true);
    this.status.update(this.list());
    this.progress(run);
    void run.proc.done.then((r) => this.onExit(run, r));
    return run;
  }

  stop(studyFile: string): boolean {
    const run = this.runs.get(studyFile);
    if (!run) return false;
    this.log.info(`run: stopping ${run.kind} of ${run.name} (pid ${run.proc.pid})`);
    run.proc.stop();
    return true;
  }

  private progress(run: ActiveRun): void {
    const title = run.kind === 'tune' ? vscode.l10n.t('Tuning {0}', run.name) : run.kind === 'worker' ? vscode.l10n.t('Worker for {0}', run.name) : vscode.l10n.t('Sequence-length study {0}', run.name);
    void vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title, cancellable: true }, (progress, token) => {
      token.onCancellationRequested(() => this.stop(run.studyFile));
      let reported = 0;
      const tick = setInterval(() => {
        const pct = run.total ? (run.finished / run.total) * 100 : 0;
        const msg = runProgress(run);
        progress.report({ message: run.proc.isStopping ? vscode.l10n.t('stopping…') : msg, increment: Math.max(0, pct - reported) });
        reported = Math.max(reported, pct);
      }, 500);
      return run.proc.done.finally(() => clearInterval(tick));
    });
  }

  private onEvent(run: ActiveRun, e: Record<string, unknown>): void {
    if (run.kind === 'worker') return this.onWorkerEvent(run, e);
    switch (e.type) {
      case 'trial-started':
        run.current = e.trial as number;
        run.index = e.index as number;
        if (typeof e.total === 'number') run.total = e.total;
        break;
      case 'metric':
        DashboardPanel.get(run.studyFile)?.postMetric(e.trial as number, e.metric as Metric);
        break;
      case 'trial-finished':
      case 'trial-pruned':
        run.finished++;
        break;
      case 'trial-failed':
        if (!e.willRetry) run.finished++;
        this.log.warn(`[${run.name}] trial ${String(e.trial)} ${String(e.reason)}: ${String(e.message)}`);
        break;
      case 'log':
        this.log.line(String(e.level), `[${run.name}] trial ${String(e.trial)}: ${String(e.text)}`);
        return;
      case 'summary':
        this.log.info(`[${run.name}] ${JSON.stringify(e)}`);
        break;
    }
    this.status.update(this.list());
  }

  /** `trialbook worker --json` events (PgWorkerEvent, then a summary). */
  private onWorkerEvent(run: ActiveRun, e: Record<string, unknown>): void {
    switch (e.type) {
      case 'claimed':
        run.current = e.trial as number;
        run.waiting = false;
        break;
      case 'metric':
        DashboardPanel.get(run.studyFile)?.postMetric(e.trial as number, e.metric as Metric);
        break;
      case 'finished':
      case 'pruned':
        run.finished++;
        run.current = undefined;
        break;
      case 'failed':
        if (e.reason !== 'cancelled' && e.reason !== 'interrupted') run.finished++;
        run.current = undefined;
        this.log.warn(`[${run.name}] trial ${String(e.trial)} ${String(e.reason)}: ${String(e.message)}`);
        break;
      case 'waiting':
        run.waiting = true;
        run.current = undefined;
        break;
      case 'lost':
        this.log.warn(`[${run.name}] trials ${(e.trials as number[]).join(', ')}: their workers stopped heart-beating; re-queued`);
        break;
      case 'taken-over':
        this.log.warn(`[${run.name}] trial ${String(e.trial)}: taken over by another worker while this one was unreachable`);
        break;
      case 'stopped':
      case 'summary':
        this.log.info(`[${run.name}] ${JSON.stringify(e)}`);
        break;
    }
    // What this worker wrote is in the database now: read it at once rather than at the next poll.
    if (e.type !== 'metric' || (e.metric as Metric | undefined)?.val_loss != null) this.studies.poke(run.studyFile);
    this.status.update(this.list());
  }

  private async onExit(run: ActiveRun, r: Awaited<CliProcess['done']>): Promise<void> {
    this.runs.delete(run.studyFile);
    this.explorer.running.delete(run.studyFile);
    if (!this.runs.size) {
      this.studies.setPolling(false);
      void vscode.commands.executeCommand('setContext', 'trialbook.running', false);
    }
    await this.studies.reload(run.studyFile);
    this.status.update(this.list());
    this.explorer.refresh();
    const what = run.kind === 'tune' ? vscode.l10n.t('Tuning') : run.kind === 'worker' ? vscode.l10n.t('Worker') : vscode.l10n.t('Sequence-length study');
    if (run.kind === 'worker' && (r.code === 0 || run.proc.isStopping || r.code === 130)) {
      const msg = r.code === 0 ? vscode.l10n.t('Worker for {0} finished: nothing is left to run in the study ({1} trials run here).', run.name, run.finished) : vscode.l10n.t('Worker for {0} stopped ({1} trials run here). Another worker re-runs the trial it was running.', run.name, run.finished);
      const open = vscode.l10n.t('Open Dashboard');
      void vscode.window.showInformationMessage(msg, open).then((p) => {
        if (p === open) void vscode.commands.executeCommand('trialbook.openDashboard', run.studyFile);
      });
    } else if (r.code === 0) {
      const open = vscode.l10n.t('Open Dashboard');
      void vscode.window.showInformationMessage(vscode.l10n.t('{0} of {1} finished.', what, run.name), open).then((p) => {
        if (p === open) void vscode.commands.executeCommand('trialbook.openDashboard', run.studyFile);
      });
    } else if (run.proc.isStopping || r.code === 130) {
      const resume = vscode.l10n.t('Resume');
      void vscode.window.showInformationMessage(vscode.l10n.t('{0} of {1} stopped. Resume continues where it stopped.', what, run.name), resume).then((p) => {
        if (p === resume) void vscode.commands.executeCommand('trialbook.resume', run.studyFile);
      });
    } else {
      const msg = cliError(r);
      this.log.error(`[${run.name}] ${what} failed: ${msg}`);
      const showLog = vscode.l10n.t('Open Log');
      const retry = vscode.l10n.t('Retry with Smaller Batch');
      const actions = /out of memory|oom|memory/i.test(msg) ? [showLog, retry] : [showLog];
      const pick = await vscode.window.showErrorMessage(vscode.l10n.t('{0} of {1} failed: {2}', what, run.name, msg), ...actions);
      if (pick === showLog) this.log.show();
      if (pick === retry) void vscode.commands.executeCommand('trialbook.retrySmallerBatch', run.studyFile);
    }
  }

  dispose(): void {
    for (const r of this.runs.values()) r.proc.stop(2000);
  }
}
