/**
 * Long runs (tuning, the sequence-length study, a worker of a shared study) as CLI child
 * processes, at most one per study: the run model the status bar and the explorer subscribe to
 * (onDidChange), fed by the CLI's `--json` run events, each checked against the protocol's
 * RunEvent before it is read. It also drives a cancellable progress notification and the
 * dashboard's live curves. The extension host only reads JSON lines: it stays responsive.
 */
import * as vscode from 'vscode';
import { looksLikeOom } from '../core/errors';
import { RunEvent } from '../protocol/run-events';
import { CliProcess, cliError, studyCwd } from './cli-process';
import { DashboardPanel } from './dashboard';
import type { Log } from './log';
import { runProgress, type RunCounts, type RunKind } from './run-progress';
import type { StudyIndex } from './studies';


export interface ActiveRun extends RunCounts {
  studyFile: string;
  name: string;
  proc: CliProcess;
  index?: number;
}

export class RunManager implements vscode.Disposable {
  private readonly runs = new Map<string, ActiveRun>();
  private readonly changed = new vscode.EventEmitter<void>();
  /** A run started, moved on or ended. */
  readonly onDidChange = this.changed.event;

  constructor(
    private readonly ctx: vscode.ExtensionContext,
    private readonly studies: StudyIndex,
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
        onJson: (e) => this.onJson(run, e),
        onText: (l) => this.log.info(`[${name}] ${l}`),
        onStderr: (l) => this.log.warn(`[${name}] ${l}`),
      }),
    };
    this.runs.set(studyFile, run);
    this.studies.setPolling(true);
    void vscode.commands.executeCommand('setContext', 'trialbook.running', true);
    this.changed.fire();
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

  private onJson(run: ActiveRun, json: Record<string, unknown>): void {
    const parsed = RunEvent.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      this.log.warn(`[${run.name}] ignored a run event the extension does not understand (${issue?.path.join('.') || 'event'}: ${issue?.message}): ${JSON.stringify(json).slice(0, 200)}`);
      return;
    }
    const e = parsed.data;
    switch (e.type) {
      case 'trial-started':
        run.current = e.trial;
        run.index = e.index;
        run.waiting = false;
        if (e.total !== undefined) run.total = e.total;
        break;
      case 'metric':
        DashboardPanel.get(run.studyFile)?.postMetric(e.trial, e.metric);
        break;
      case 'trial-finished':
        run.finished++;
        break;
      case 'trial-failed':
        if (!e.willRetry) run.finished++;
        this.log.warn(`[${run.name}] trial ${e.trial} ${e.reason}: ${e.message}`);
        break;
      case 'waiting':
        run.waiting = true;
        run.current = undefined;
        break;
      case 'recovered':
        this.log.warn(`[${run.name}] trials ${e.trials.join(', ')}: ${e.reason === 'interrupted' ? 'stopped mid-run; re-run' : 'their workers stopped heart-beating; re-queued'}`);
        break;
      case 'taken-over':
        this.log.warn(`[${run.name}] trial ${e.trial}: taken over by another worker while this one was unreachable`);
        break;
      case 'log':
        this.log.line(e.level, `[${run.name}] ${e.trial !== undefined ? `trial ${e.trial}: ` : ''}${e.text}`);
        return;
      case 'stopped':
      case 'summary':
        this.log.info(`[${run.name}] ${JSON.stringify(e)}`);
        break;
      default:
        break;
    }
    // What a worker wrote is in the database now: read it at once rather than at the next poll.
    if (run.kind === 'worker' && (e.type !== 'metric' || e.metric.val_loss != null)) this.studies.poke(run.studyFile);
    this.changed.fire();
  }

  private async onExit(run: ActiveRun, r: Awaited<CliProcess['done']>): Promise<void> {
    this.runs.delete(run.studyFile);
    if (!this.runs.size) {
      this.studies.setPolling(false);
      void vscode.commands.executeCommand('setContext', 'trialbook.running', false);
    }
    await this.studies.reload(run.studyFile);
    this.changed.fire();
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
      const actions = looksLikeOom(msg) ? [showLog, retry] : [showLog];
      const pick = await vscode.window.showErrorMessage(vscode.l10n.t('{0} of {1} failed: {2}', what, run.name, msg), ...actions);
      if (pick === showLog) this.log.show();
      if (pick === retry) void vscode.commands.executeCommand('trialbook.retrySmallerBatch', run.studyFile);
    }
  }

  dispose(): void {
    for (const r of this.runs.values()) r.proc.stop(2000);
    this.changed.dispose();
  }
}
