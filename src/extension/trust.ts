/** Workspace Trust: in restricted mode nothing runs; say why and offer the trust editor. */
import * as vscode from 'vscode';

export async function requireTrust(action: string): Promise<boolean> {
  if (vscode.workspace.isTrusted) return true;
  const manage = vscode.l10n.t('Manage Workspace Trust');
  const pick = await vscode.window.showWarningMessage(
    vscode.l10n.t('Trialbook: "{0}" runs code from this workspace and is disabled in Restricted Mode. Trust the workspace to use it.', action),
    manage,
  );
  if (pick === manage) await vscode.commands.executeCommand('workbench.trust.manage');
  return false;
}
