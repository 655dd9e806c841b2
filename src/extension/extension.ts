/**
 * VS Code extension entry. activate() only wires: the output channel, the status bar, command
 * stubs, the tree view and the dashboard serializer. The features behind them (study index,
 * explorer, runs, worker jobs, dashboard) live in ./features, loaded on first use or right
 * after activation, so activation stays cheap. Heavy work never runs in this process: single
 * jobs go to the worker process, tuning runs in a CLI child process.
 */
import * as vscode from 'vscode';
import { COMMAND_IDS } from './command-ids';
import type { ExplorerNode } from './explorer';
import type { LoadedFeatures } from './features';
import { Log } from './log';
import { StatusBar } from './status-bar';

export function activate(ctx: vscode.ExtensionContext): void {
  const t0 = performance.now();
  const log = new Log();
  const status = new StatusBar();
  ctx.subscriptions.push(log, status);

  let tree: vscode.TreeView<ExplorerNode> | undefined;
  let loading: Promise<LoadedFeatures> | undefined;
  const load = (): Promise<LoadedFeatures> =>
    (loading ??= import('./features').then((m) => {
      const f = m.startFeatures(ctx, log, status, () => tree);
      ctx.subscriptions.push(f.explorer.onDidChangeTreeData((n) => treeChanged.fire(n)));
      return f;
    }));

  for (const id of COMMAND_IDS) {
    ctx.subscriptions.push(vscode.commands.registerCommand(id, async (...args: unknown[]) => (await load()).handlers.get(id)?.(...args)));
  }

  // The tree asks for children only after activation; the real provider answers then.
  const treeChanged = new vscode.EventEmitter<ExplorerNode | undefined>();
  const provider: vscode.TreeDataProvider<ExplorerNode> = {
    onDidChangeTreeData: treeChanged.event,
    getChildren: async (node) => (await load()).explorer.getChildren(node),
    getTreeItem: async (node) => (await load()).explorer.getTreeItem(node),
  };
  tree = vscode.window.createTreeView('trialbook.trials', { treeDataProvider: provider, showCollapseAll: true });
  ctx.subscriptions.push(
    treeChanged,
    tree,
    vscode.window.registerWebviewPanelSerializer('trialbook.dashboard', {
      deserializeWebviewPanel: async (panel, state) => (await load()).serializer.deserializeWebviewPanel(panel, state),
    }),
  );

  log.info(`activated in ${(performance.now() - t0).toFixed(1)} ms (activate call; features load next)`);
  // Load the features now, off the activation path (activation was caused by a study or a view).
  setTimeout(() => void load(), 0);
}

export function deactivate(): void {}
