// VS Code extension entry. Implemented in the extension issue.
export function activate(): void {}
export function deactivate(): void {}
