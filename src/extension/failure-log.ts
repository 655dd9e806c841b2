/**
 * A failed trial's log as a read-only document (its own URI scheme): it opens in an editor tab
 * like a file, but there is nothing to save, so closing it never asks "Save changes?".
 */
import * as vscode from 'vscode';

export const FAILURE_LOG_SCHEME = 'trialbook-log';

export class FailureLogs implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly texts = new Map<string, string>();
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;
  private readonly registration = vscode.workspace.registerTextDocumentContentProvider(FAILURE_LOG_SCHEME, this);

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.texts.get(uri.path) ?? '';
  }

  /** Opens (or refreshes) `name.md` with this Markdown text. */
  async show(name: string, text: string): Promise<void> {
    const uri = vscode.Uri.from({ scheme: FAILURE_LOG_SCHEME, path: `/${name.replace(/[^\w.-]+/g, '-')}.md` });
    this.texts.set(uri.path, text);
    this.changed.fire(uri);
    await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(uri), { preview: true });
  }

  dispose(): void {
    this.registration.dispose();
    this.changed.dispose();
  }
}
