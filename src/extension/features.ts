/**
 * Everything behind the commands and views, loaded right after activation (extension.ts imports
 * this module lazily, so activation does not pay for zod, the store and the report code).
 */
import * as vscode from 'vscode';
import { commandHandlers, type CommandHandler } from './commands';
import { DashboardPanel } from './dashboard';
import { StudyDiagnostics } from './diagnostics';
import { TrialExplorer, type ExplorerNode } from './explorer';
import { FailureLogs } from './failure-log';
import type { Log } from './log';
import { RunManager } from './runs';
import type { StatusBar } from './status-bar';
import { StudyIndex } from './studies';
import { WorkerJobs } from './worker-jobs';

export interface LoadedFeatures {
  explorer: TrialExplorer;
  handlers: Map<string, CommandHandler>;
  serializer: vscode.WebviewPanelSerializer;
}

export function startFeatures(ctx: vscode.ExtensionContext, log: Log, status: StatusBar, tree: () => vscode.TreeView<ExplorerNode> | undefined = () => undefined): LoadedFeatures {
  const studies = new StudyIndex(log);
  const runs = new RunManager(ctx, studies, log);
  const explorer = new TrialExplorer(studies, runs);
  // Shared studies are polled fast while someone looks: the explorer, their dashboard, a worker here.
  studies.setWatched((file) => tree()?.visible !== false || DashboardPanel.get(file)?.panel.visible === true || runs.get(file) !== undefined);
  const view = tree();
  if (view) ctx.subscriptions.push(view.onDidChangeVisibility((e) => e.visible && studies.poke()));
  const jobs = new WorkerJobs(ctx, log);
  const diagnostics = new StudyDiagnostics(studies);
  const failureLogs = new FailureLogs();
  ctx.subscriptions.push(
    failureLogs,
    studies,
    explorer,
    runs,
    status.follow(runs),
    jobs,
    diagnostics,
    vscode.workspace.onDidOpenTextDocument((d) => {
      if (d.fileName.endsWith('.trialbook.json')) diagnostics.update();
    }),
  );
  // The welcome view ("no study yet") shows once the workspace has been searched and none was found, not while the search runs.
  const setHasStudy = (): void => void vscode.commands.executeCommand('setContext', 'trialbook.hasStudy', studies.list().length > 0);
  ctx.subscriptions.push(studies.onDidChange(setHasStudy));
  void studies.ready().then(() => {
    setHasStudy();
    void vscode.commands.executeCommand('setContext', 'trialbook.studiesLoaded', true);
  });
  return { explorer, handlers: commandHandlers({ ctx, log, studies, explorer, runs, jobs, failureLogs }), serializer: DashboardPanel.serializer(ctx, studies, log) };
}
