/** Status bar item: the running study, trial and progress, an ETA; hidden when nothing runs. */
import * as vscode from 'vscode';
import { runProgress } from './run-progress';
import type { ActiveRun, RunManager } from './runs';

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
    this.item.text = `$(loading~spin) ${run.name}: ${runProgress(run)}`;
    this.item.tooltip =
      run.kind === 'worker'
        ? vscode.l10n.t('Trialbook: a worker of the shared study runs here — click for the dashboard')
        : vscode.l10n.t('Trialbook: {0} running — click for the dashboard', run.kind === 'tune' ? vscode.l10n.t('tuning') : vscode.l10n.t('sequence-length study'));
    this.item.show();
  }

  dispose(): void {
    this.item.dispose();
  }
}
