/**
 * VS Code extension entry. activate() only wires features together; each feature is a small
 * class in its own file, disposed through context.subscriptions. Heavy work never runs here:
 * single jobs go to the worker process, tuning runs in a CLI child process.
 */
import * as vscode from 'vscode';
import { registerCommands } from './commands';
import { DASHBOARD_VIEW_TYPE, DashboardPanel } from './dashboard';
import { StudyDiagnostics } from './diagnostics';
import { TrialExplorer } from './explorer';
import { Log } from './log';
import { RunManager } from './runs';
import { StatusBar } from './status-bar';
import { StudyIndex } from './studies';
import { WorkerJobs } from './worker-jobs';

export function activate(ctx: vscode.ExtensionContext): void {
  const t0 = performance.now();
  const log = new Log();
  const studies = new StudyIndex(log);
  const explorer = new TrialExplorer(studies);
  const status = new StatusBar();
  const runs = new RunManager(ctx, studies, explorer, status, log);
  const jobs = new WorkerJobs(ctx, log);
  const diagnostics = new StudyDiagnostics(studies);

  ctx.subscriptions.push(
    log,
    studies,
    explorer,
    status,
    runs,
    jobs,
    diagnostics,
    vscode.window.createTreeView('trialbook.trials', { treeDataProvider: explorer, showCollapseAll: true }),
    vscode.window.registerWebviewPanelSerializer(DASHBOARD_VIEW_TYPE, DashboardPanel.serializer(ctx, studies, log)),
    vscode.workspace.onDidOpenTextDocument((d) => {
      if (d.fileName.endsWith('.trialbook.json')) diagnostics.update();
    }),
    ...registerCommands({ ctx, log, studies, explorer, runs, jobs }),
  );
  // The welcome view shows while no study is known.
  const setHasStudy = (): void => void vscode.commands.executeCommand('setContext', 'trialbook.hasStudy', studies.list().length > 0);
  ctx.subscriptions.push(studies.onDidChange(setHasStudy));
  void studies.ready().then(setHasStudy);

  const done = performance.now();
  // Module loading is measured by VS Code itself (Developer: Show Running Extensions).
  log.info(`activated in ${(done - t0).toFixed(1)} ms (activate call)`);
}

export function deactivate(): void {}
