/**
 * Problems for study files: the schema errors the CLI would print, placed on the offending key
 * (the JSON Schema from `jsonValidation` covers completion; this adds the semantic checks).
 */
import * as vscode from 'vscode';
import type { StudyIndex } from './studies';

/** `  path.to.key: message` lines from a study UserError → diagnostics near the key. */
function toDiagnostics(doc: vscode.TextDocument, error: string): vscode.Diagnostic[] {
  const text = doc.getText();
  const lines = error.split('\n').slice(1).filter((l) => l.trim());
  const items = lines.length ? lines : [error.replace(/^.*?\.trialbook\.json: /, '')];
  return items.map((l) => {
    const m = /^\s*([^:]+): (.*)$/.exec(l);
    const path = m ? m[1]!.trim() : '';
    // The deepest key of the path present in the file (a missing key is reported on its parent).
    const keys = path.split('.').filter((p) => p && !/^\d+$/.test(p) && p !== '(top level)');
    let key: string | undefined;
    let at = -1;
    for (let i = keys.length - 1; i >= 0 && at < 0; i--) {
      key = keys[i]!;
      at = text.search(new RegExp(`"${key.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}"\\s*:`));
    }
    let range = new vscode.Range(0, 0, 0, 1);
    const json = /not valid JSON.*position (\d+)/.exec(l);
    if (at >= 0) range = new vscode.Range(doc.positionAt(at), doc.positionAt(at + key!.length + 2));
    else if (json) range = new vscode.Range(doc.positionAt(Number(json[1])), doc.positionAt(Number(json[1]) + 1));
    const d = new vscode.Diagnostic(range, m ? `${path}: ${m[2]}` : l.trim(), vscode.DiagnosticSeverity.Error);
    d.source = 'trialbook';
    return d;
  });
}

export class StudyDiagnostics implements vscode.Disposable {
  private readonly collection = vscode.languages.createDiagnosticCollection('trialbook');
  private readonly sub: vscode.Disposable;

  constructor(private readonly studies: StudyIndex) {
    this.sub = studies.onDidChange(() => this.update());
  }

  update(): void {
    this.collection.clear();
    for (const e of this.studies.list()) {
      if (!e.error || e.view) continue;
      const uri = vscode.Uri.file(e.file);
      const doc = vscode.workspace.textDocuments.find((d) => d.uri.fsPath === e.file);
      if (doc) this.collection.set(uri, toDiagnostics(doc, e.error));
      else this.collection.set(uri, [Object.assign(new vscode.Diagnostic(new vscode.Range(0, 0, 0, 1), e.error, vscode.DiagnosticSeverity.Error), { source: 'trialbook' })]);
    }
  }

  dispose(): void {
    this.sub.dispose();
    this.collection.dispose();
  }
}
