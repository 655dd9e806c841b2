/**
 * The dashboard: one webview panel per study, opened beside the active editor (the notes).
 * All data goes in by postMessage (the study's view, live metrics), all actions come out by
 * postMessage, both checked with the protocol's zod schemas. The panel's study survives a window
 * reload through the serializer.
 */
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import { FromWebview, type Metric, type StudyView, type ToWebview } from '../protocol/messages';
import { STRINGS } from '../protocol/webview-strings';
import { viewImportance } from '../runner/report';
import type { Log } from './log';
import type { StudyIndex } from './studies';

export const DASHBOARD_VIEW_TYPE = 'trialbook.dashboard';

/** The webview's UI text, translated here (the webview has no vscode.l10n). */
function webviewStrings(): Record<string, string> {
  return Object.fromEntries(Object.entries(STRINGS).map(([key, english]) => [key, vscode.l10n.t(english)]));
}

/** Importance changes only when a trial's state or value does. */
function importanceKey(view: StudyView): string {
  return view.trials.map((t) => `${t.number}:${t.state}:${t.value}`).join(',');
}

interface PanelState {
  studyFile: string;
}

export class DashboardPanel implements vscode.Disposable {
  private static readonly panels = new Map<string, DashboardPanel>();
  private readonly disposables: vscode.Disposable[] = [];
  private readonly pngRequests = new Map<string, (dataUrl: string) => void>();
  private openedAt: number;
  private ready = false;
  private readyWaiters: Array<() => void> = [];
  private selected: number | undefined;
  /** A view asked for by a command, shown when the webview (re)loads. */
  private view: string | undefined;
  private importance: { key: string; value: NonNullable<StudyView['importance']> } | undefined;
  private importanceTimer: NodeJS.Timeout | undefined;

  static get(studyFile: string): DashboardPanel | undefined {
    return DashboardPanel.panels.get(studyFile);
  }

  /**
   * Shows (or creates) the study's dashboard. The first opens beside the active editor (the
   * notes); every later one opens in the column the dashboards already use, as a tab there.
   */
  static show(ctx: vscode.ExtensionContext, studies: StudyIndex, log: Log, studyFile: string, trial?: number): DashboardPanel {
    let p = DashboardPanel.panels.get(studyFile);
    if (p) {
      p.panel.reveal(p.panel.viewColumn, false);
    } else {
      const name = studies.get(studyFile)?.view?.name ?? 'study';
      const column = [...DashboardPanel.panels.values()].find((x) => x.panel.viewColumn !== undefined)?.panel.viewColumn ?? vscode.ViewColumn.Beside;
      const panel = vscode.window.createWebviewPanel(DASHBOARD_VIEW_TYPE, vscode.l10n.t('Trialbook: {0}', name), column, DashboardPanel.options(ctx));
      p = new DashboardPanel(ctx, studies, log, panel, studyFile);
    }
    if (trial !== undefined) p.showTrial(trial);
    return p;
  }

  static options(ctx: vscode.ExtensionContext): vscode.WebviewPanelOptions & vscode.WebviewOptions {
    return {
      enableScripts: true,
      // Redrawing from the view is cheap; keeping a hidden webview alive is not.
      retainContextWhenHidden: false,
      localResourceRoots: [vscode.Uri.joinPath(ctx.extensionUri, 'dist'), vscode.Uri.joinPath(ctx.extensionUri, 'media')],
    };
  }

  static serializer(ctx: vscode.ExtensionContext, studies: StudyIndex, log: Log): vscode.WebviewPanelSerializer<PanelState> {
    return {
      async deserializeWebviewPanel(panel, state) {
        const file = state?.studyFile;
        if (!file) {
          panel.dispose();
          return;
        }
        panel.webview.options = DashboardPanel.options(ctx);
        await studies.ready();
        new DashboardPanel(ctx, studies, log, panel, file);
      },
    };
  }

  private constructor(
    private readonly ctx: vscode.ExtensionContext,
    private readonly studies: StudyIndex,
    private readonly log: Log,
    readonly panel: vscode.WebviewPanel,
    readonly studyFile: string,
  ) {
    this.openedAt = performance.now();
    DashboardPanel.panels.set(studyFile, this);
    panel.iconPath = vscode.Uri.joinPath(ctx.extensionUri, 'media', 'trialbook.svg');
    panel.webview.html = this.html(panel.webview);
    this.disposables.push(
      panel.webview.onDidReceiveMessage((m) => this.receive(m)),
      panel.onDidDispose(() => this.dispose()),
      panel.onDidChangeViewState(() => {
        // Hidden webviews are torn down (no retainContextWhenHidden): wait for the next render.
        if (panel.visible) {
          this.openedAt = performance.now();
          studies.poke(studyFile);
        } else this.ready = false;
      }),
      studies.onDidChange((e) => {
        if (!e || e.file === studyFile) this.postStudy();
      }),
    );
    // A shared study: read it now rather than at the next (slow) poll.
    studies.poke(studyFile);
  }

  /** Live metric from a running trial (before the journal refresh shows it). */
  postMetric(trial: number, metric: Metric): void {
    this.post({ type: 'metric', trial, metric });
  }

  /** Brings a view to the front now, or once the webview is ready. */
  showView(view: string): void {
    if (this.ready) this.post({ type: 'showView', view });
    else this.view = view;
  }

  showTrial(trial: number): void {
    this.selected = trial;
    if (this.ready) this.post({ type: 'showTrial', trial });
  }

  /** Waits for the webview's first render, e.g. before asking it for a chart image. */
  whenReady(timeoutMs = 15_000): Promise<boolean> {
    if (this.ready) return Promise.resolve(true);
    return new Promise((resolve) => {
      const t = setTimeout(() => resolve(false), timeoutMs);
      this.readyWaiters.push(() => {
        clearTimeout(t);
        resolve(true);
      });
    });
  }

  /** A PNG (data URL) of one chart, drawn by the webview's canvas. */
  async chartPng(chart: string, timeoutMs = 10_000): Promise<string | undefined> {
    if (!(await this.whenReady())) return undefined;
    const requestId = randomBytes(6).toString('hex');
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.pngRequests.delete(requestId);
        resolve(undefined);
      }, timeoutMs);
      this.pngRequests.set(requestId, (url) => {
        clearTimeout(t);
        resolve(url || undefined);
      });
      this.post({ type: 'requestChartPng', chart, requestId });
    });
  }

  private post(m: ToWebview): void {
    void this.panel.webview.postMessage(m);
  }

  private postStudy(): void {
    const view = this.studies.get(this.studyFile)?.view;
    if (!view) return;
    const key = importanceKey(view);
    const known = this.importance?.key === key ? this.importance.value : undefined;
    this.post({ type: 'study', study: known ? { ...view, importance: known } : view });
    if (known) return;
    // Importance fits a random forest (about a second for 1,000 trials): after the study is on screen.
    clearTimeout(this.importanceTimer);
    this.importanceTimer = setTimeout(() => {
      const now = this.studies.get(this.studyFile)?.view;
      if (!now) return;
      this.importance = { key: importanceKey(now), value: viewImportance(now) };
      this.post({ type: 'importance', importance: this.importance.value });
    }, 50);
  }

  private receive(raw: unknown): void {
    const r = FromWebview.safeParse(raw);
    if (!r.success) {
      this.log.warn(`dashboard: ignored a malformed message from the webview (${r.error.issues[0]?.message ?? ''})`);
      return;
    }
    const m = r.data;
    switch (m.type) {
      case 'ready':
        // A new webview document: not ready for chart requests until it has drawn.
        this.ready = false;
        this.postStudy();
        if (this.selected !== undefined) this.post({ type: 'showTrial', trial: this.selected });
        if (this.view) this.post({ type: 'showView', view: this.view });
        this.view = undefined;
        break;
      case 'rendered': {
        const total = performance.now() - this.openedAt;
        this.log.info(`dashboard rendered ${m.rows} trials: ${m.ms.toFixed(0)} ms in the webview (${(m.sinceStart ?? m.ms).toFixed(0)} ms since its script started), ${total.toFixed(0)} ms since the panel opened`);
        if (!this.ready) {
          this.ready = true;
          for (const w of this.readyWaiters.splice(0)) w();
        }
        break;
      }
      case 'selectTrial':
        this.selected = m.trial;
        break;
      case 'chartPng':
        this.pngRequests.get(m.requestId)?.(m.dataUrl);
        this.pngRequests.delete(m.requestId);
        break;
    }
  }

  private html(webview: vscode.Webview): string {
    const nonce = randomBytes(16).toString('base64');
    const script = webview.asWebviewUri(vscode.Uri.joinPath(this.ctx.extensionUri, 'dist', 'webview.js'));
    const css = webview.asWebviewUri(vscode.Uri.joinPath(this.ctx.extensionUri, 'media', 'dashboard.css'));
    const csp = [
      "default-src 'none'",
      `img-src ${webview.cspSource} data:`,
      `style-src ${webview.cspSource} 'nonce-${nonce}'`,
      `script-src 'nonce-${nonce}'`,
      `font-src ${webview.cspSource}`,
    ].join('; ');
    const state = JSON.stringify({ studyFile: this.studyFile, strings: webviewStrings() }).replace(/</g, '\\u003c');
    return `<!DOCTYPE html>
<html lang="${vscode.env.language}">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${css}">
<title>Trialbook</title>
</head>
<body>
<div id="app" data-state="${state.replace(/"/g, '&quot;')}"></div>
<script nonce="${nonce}" src="${script}"></script>
</body>
</html>`;
  }

  dispose(): void {
    clearTimeout(this.importanceTimer);
    if (DashboardPanel.panels.get(this.studyFile) === this) DashboardPanel.panels.delete(this.studyFile);
    for (const d of this.disposables.splice(0)) d.dispose();
    this.panel.dispose();
  }
}
