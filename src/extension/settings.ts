/** The extension's settings (package.json `contributes.configuration`) and the child env they imply. */
import * as vscode from 'vscode';

export type Backend = 'auto' | 'tensorflow-gpu' | 'tensorflow' | 'wasm' | 'cpu';
export type EmbedSetting = 'auto' | 'markdown' | 'obsidian';

export interface Settings {
  backend: Backend;
  nodeExecutable: string;
  memoryBudgetMiB: number;
  embedStyle: EmbedSetting;
}

export function readSettings(): Settings {
  const c = vscode.workspace.getConfiguration('trialbook');
  return {
    backend: c.get<Backend>('runtime.backend', 'auto'),
    nodeExecutable: c.get<string>('runtime.nodeExecutable', '').trim(),
    memoryBudgetMiB: c.get<number>('runtime.memoryBudgetMiB', 0),
    embedStyle: c.get<EmbedSetting>('notes.embedStyle', 'auto'),
  };
}

/**
 * How to start Node for the CLI and the worker: the configured executable, or the editor's own
 * runtime (Electron acts as plain Node with ELECTRON_RUN_AS_NODE).
 */
export function childRuntime(s: Settings = readSettings()): { node: string; env: NodeJS.ProcessEnv } {
  const env: NodeJS.ProcessEnv = { ...process.env };
  if (s.backend !== 'auto') env.TRIALBOOK_BACKEND = s.backend;
  if (s.nodeExecutable) env.TRIALBOOK_WORKER_NODE = s.nodeExecutable;
  else env.ELECTRON_RUN_AS_NODE = '1';
  return { node: s.nodeExecutable || process.execPath, env };
}
