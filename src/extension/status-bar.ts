/** Status bar item: the running study, trial n/N and an ETA; otherwise the best result. */
import * as vscode from 'vscode';
import type { ActiveRun, RunManager } from './runs';

function eta(run: ActiveRun): string {
  if (!run.total || !run.finished) return '';
  const per = (Date.now() - run.startedAt) / run.finished;
  const left = Math.max(0, run.total - run.finished) * per;
  const s = Math.round(left / 1000);
  return s >= 3600 ? `${Math.floor(s / 3600)}h ${Math.round((s % 3600) / 60)}m` : s >= 60 ? `${Math.floor(s / 60)}m ${s % 60}s` : `${s}s`;
}

export class StatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('trialbook.status', vscode.StatusBarAlignment.Left, 50);

  constructor() {
    this.item.name = 'Trialbook';
    this.item.command = 'trialbook.openDashboard';
  }

  /** Shows what `runs` runs, from now on. */
  follow(runs: Pick<RunManager, 'list' | 'onDidChange'>): vscode.Disposable {
    this.update(runs.list());
    return runs.onDidChange(() => this.update(runs.list()));
  }

  private update(runs: ActiveRun[]): void {
    const run = runs[0];
    if (!run) {
      this.item.hide();
      return;
    }
    if (run.kind === 'worker') {
      // A worker of a shared study: no total of its own (all workers share the budget).
      this.item.text = `$(loading~spin) ${run.name}: ${run.current !== undefined ? vscode.l10n.t('worker, trial {0}', run.current) : vscode.l10n.t('worker, waiting')} · ${vscode.l10n.t('{0} run here', run.finished)}`;
      this.item.tooltip = vscode.l10n.t('Trialbook: a worker of the shared study runs here — click for the dashboard');
      this.item.show();
      return;
    }
    const n = run.index ?? run.finished;
    const left = eta(run);
    this.item.text = `$(loading~spin) ${run.name}: ${vscode.l10n.t('trial {0}/{1}', n, run.total ?? '?')}${left ? ` · ${vscode.l10n.t('ETA {0}', left)}` : ''}`;
    this.item.tooltip = vscode.l10n.t('Trialbook: {0} running — click for the dashboard', run.kind === 'tune' ? vscode.l10n.t('tuning') : vscode.l10n.t('sequence-length study'));
    this.item.show();
  }

  dispose(): void {
    this.item.dispose();
  }
}
