/**
 * Drives a real VS Code (code-server from .e2e/, set up by scripts/e2e-setup.sh) with Debian's
 * Chromium through playwright-core. One server per test file: fresh user-data and extensions
 * dirs, the built VSIX installed, a temp workspace, loopback only.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Browser, FrameLocator, Page } from 'playwright-core';
import { freePort } from '../helpers';
import { repoRoot } from './fixture';

export const E2E_DIR = join(repoRoot, '.e2e');
export const ARTIFACTS = join(repoRoot, 'test-artifacts');
const CODE_SERVER = join(E2E_DIR, 'node_modules', '.bin', 'code-server');
const CHROMIUM = '/usr/bin/chromium';

/** Why the e2e tests cannot run here, or undefined when they can. */
export function e2eSkipReason(): string | undefined {
  const ready = existsSync(E2E_DIR) && readdirSync(E2E_DIR).some((n) => n.startsWith('.ready-'));
  if (!ready || !existsSync(CODE_SERVER)) return 'e2e: code-server is not set up in .e2e/ — run `bash scripts/e2e-setup.sh` (about 75 s, needs the npm registry and apt) to enable these tests';
  if (!existsSync(CHROMIUM)) return `e2e: ${CHROMIUM} is missing — run scripts/e2e-setup.sh (installs Debian's chromium)`;
  return undefined;
}

/** Builds the bundles and the VSIX exactly as `npm run package` does. */
export function buildVsix(out: string): string {
  const build = spawnSync(process.execPath, ['scripts/build.mjs'], { cwd: repoRoot, encoding: 'utf8' });
  if (build.status !== 0) throw new Error(`build failed: ${build.stderr}`);
  const vsce = join(repoRoot, 'node_modules', '@vscode', 'vsce', 'vsce');
  const r = spawnSync(process.execPath, [vsce, 'package', '--no-dependencies', '--no-rewrite-relative-links', '--out', out], { cwd: repoRoot, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`vsce package failed: ${r.stdout}\n${r.stderr}`);
  return out;
}

/** One chart.js dataset as the dashboard labels it (see SeriesMeta in src/webview/charts.ts). */
export interface ChartSeries {
  label: string;
  trial?: number;
  metric?: string;
  role?: string;
  from?: number;
  borderColor?: unknown;
  backgroundColor?: unknown;
  data: Array<{ x: number; y: number } | number>;
}

export class Editor {
  private proc: ChildProcess | undefined;
  browser: Browser | undefined;
  page!: Page;
  port = 0;
  readonly userData: string;
  readonly extensions: string;
  serverLog = '';

  constructor(private readonly root: string, readonly workspace: string) {
    this.userData = join(root, 'user-data');
    this.extensions = join(root, 'extensions');
  }

  install(vsix: string): void {
    mkdirSync(this.extensions, { recursive: true });
    const r = spawnSync(CODE_SERVER, ['--extensions-dir', this.extensions, '--user-data-dir', this.userData, '--install-extension', vsix], { encoding: 'utf8', timeout: 120_000 });
    if (r.status !== 0 || !/successfully installed/i.test(r.stdout + r.stderr)) throw new Error(`install failed: ${r.stdout}\n${r.stderr}`);
  }

  /** The installed extension runs the tests' CLI (testing/cli.ts: trials on the quadratic objective). */
  useTestCli(): void {
    const ext = readdirSync(this.extensions).find((n) => n.startsWith('trialbook.trialbook-'));
    if (!ext) throw new Error(`no installed trialbook extension in ${this.extensions}`);
    writeFileSync(join(this.extensions, ext, 'bin', 'trialbook.js'), `require(${JSON.stringify(join(repoRoot, 'dist', 'testing', 'cli.js'))});\n`);
  }

  async start(env: NodeJS.ProcessEnv = {}, opts: { trust?: boolean; locale?: string } = {}): Promise<void> {
    this.port = await freePort();
    const config = join(this.root, 'config.yaml');
    writeFileSync(config, 'auth: none\n');
    // Settings that keep screenshots stable and the workbench quiet.
    const settingsDir = join(this.userData, 'User');
    mkdirSync(settingsDir, { recursive: true });
    this.writeSettings({ 'workbench.colorTheme': 'Default Dark Modern' });
    if (opts.locale) this.languagePack(opts.locale);
    const args = ['--config', config, '--auth', 'none', '--bind-addr', `127.0.0.1:${this.port}`, '--disable-telemetry', '--disable-update-check', '--extensions-dir', this.extensions, '--user-data-dir', this.userData];
    if (opts.trust !== false) args.push('--disable-workspace-trust');
    if (opts.locale) args.push('--locale', opts.locale);
    args.push(this.workspace);
    this.proc = spawn(CODE_SERVER, args, { detached: true, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc.stdout!.on('data', (d) => (this.serverLog += String(d)));
    this.proc.stderr!.on('data', (d) => (this.serverLog += String(d)));
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      try {
        const r = await fetch(`http://127.0.0.1:${this.port}/healthz`);
        if (r.ok) break;
      } catch {
        // not up yet
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    // playwright-core as installed by scripts/e2e-setup.sh next to code-server.
    const { chromium } = createRequire(join(E2E_DIR, 'package.json'))('playwright-core') as typeof import('playwright-core');
    this.browser = (await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] })) as Browser;
    this.page = await this.browser.newPage({ viewport: { width: 1440, height: 900 }, ...(opts.locale ? { locale: opts.locale } : {}) });
    await this.page.goto(`http://127.0.0.1:${this.port}/?folder=${encodeURIComponent(this.workspace)}`);
    await this.page.waitForSelector('.monaco-workbench', { timeout: 60_000 });
  }

  /**
   * Makes `locale` an installed display language, as a language pack would (VS Code falls back to
   * English without one, and none can be downloaded here). VS Code's own texts stay English; what
   * matters is that extensions get that language and load their bundles for it.
   */
  private languagePack(locale: string): void {
    const translations = join(this.userData, 'e2e-language-pack', 'main.i18n.json');
    mkdirSync(join(this.userData, 'e2e-language-pack'), { recursive: true });
    writeFileSync(translations, JSON.stringify({ version: '1.0.0', contents: {} }));
    const pack = { hash: `e2e-${locale}`, extensions: [{ extensionIdentifier: { id: `trialbook-e2e.language-pack-${locale}` }, version: '1.0.0' }], translations: { vscode: translations }, label: locale };
    writeFileSync(join(this.userData, 'languagepacks.json'), JSON.stringify({ [locale]: pack }));
  }

  /** User settings: quiet, stable screenshots, plus `extra` (VS Code applies a change live). */
  writeSettings(extra: Record<string, unknown>): void {
    const settingsDir = join(this.userData, 'User');
    mkdirSync(settingsDir, { recursive: true });
    writeFileSync(join(settingsDir, 'settings.json'), JSON.stringify({ 'workbench.startupEditor': 'none', 'workbench.tips.enabled': false, 'telemetry.telemetryLevel': 'off', 'extensions.autoCheckUpdates': false, ...extra }));
  }

  /** Switches the colour theme the way a user does (Preferences: Color Theme), e.g. "Light Modern". */
  async setTheme(label: string): Promise<void> {
    await this.command('Preferences: Color Theme');
    const row = this.page.locator('.quick-input-widget .quick-input-list .monaco-list-row', { has: this.page.locator('.label-name', { hasText: label }) }).filter({ visible: true });
    await row.first().waitFor({ timeout: 10_000 });
    await row.first().click();
  }

  /** What the dashboard's charts hold now (chart.js data, read in the webview). */
  async charts(): Promise<Record<string, { datasets: ChartSeries[]; labels?: unknown[] }>> {
    return this.dashboard().locator('body').evaluate(() => {
      const out: Record<string, unknown> = {};
      for (const [name, chart] of (window as unknown as { trialbookCharts: Map<string, { data: { datasets: Array<Record<string, unknown>>; labels?: unknown[] } }> }).trialbookCharts) {
        out[name] = { labels: chart.data.labels, datasets: chart.data.datasets.map((d) => ({ label: d.label, trial: d.trial, metric: d.metric, role: d.role, from: d.from, borderColor: d.borderColor, backgroundColor: d.backgroundColor, data: d.data })) };
      }
      return out;
    }) as Promise<Record<string, { datasets: ChartSeries[]; labels?: unknown[] }>>;
  }

  /** Runs a command from the palette (retrying while the workbench or the extension starts). */
  async command(title: string, timeoutMs = 40_000): Promise<void> {
    const page = this.page;
    const deadline = Date.now() + timeoutMs;
    const row = page.locator('.quick-input-list .monaco-list-row', { hasText: title }).filter({ visible: true });
    for (let attempt = 0; ; attempt++) {
      await page.keyboard.press('Escape');
      // Focus the workbench without clicking into a webview (its iframe swallows clicks): the
      // empty middle of the status bar is inert.
      if (attempt) await this.focusWorkbench();
      await page.keyboard.press('F1');
      const input = page.locator('.quick-input-widget input');
      if (await input.isVisible().catch(() => false)) {
        try {
          // A short wait: the palette closes when focus moves (a toast, the output panel, a
          // webview), and a closed palette would hold fill for its whole default timeout.
          await input.fill('>' + title, { timeout: 2_000 });
          // Exact title: the first row whose label is the command.
          await row.first().waitFor({ timeout: attempt ? 3_000 : 1_500 });
          await row.first().click({ timeout: 2_000 });
          return;
        } catch {
          // the palette closed, or the command is not registered yet
        }
      }
      if (Date.now() > deadline) throw new Error(`command "${title}" never appeared in the palette`);
      await page.waitForTimeout(1_000);
    }
  }

  /**
   * Focuses the workbench without clicking into a webview (its iframe swallows clicks) or onto
   * an item: the empty stretch of the status bar between its left and right items.
   */
  async focusWorkbench(): Promise<void> {
    const bar = this.page.locator('.part.statusbar');
    const left = await bar.locator('.left-items').boundingBox().catch(() => null);
    const right = await bar.locator('.right-items').boundingBox().catch(() => null);
    const box = await bar.boundingBox().catch(() => null);
    if (!box) return;
    const x = left && right ? (left.x + left.width + right.x) / 2 - box.x : box.width / 2;
    await bar.click({ position: { x, y: box.height / 2 }, timeout: 1_000 }).catch(() => undefined);
  }

  /** Picks an item in an open quick pick (e.g. which study). */
  async pick(label: string, timeout = 10_000): Promise<void> {
    // Only a shown row: the widget keeps the rows of an earlier, hidden quick pick in the DOM.
    const row = this.page.locator('.quick-input-widget .quick-input-list .monaco-list-row', { hasText: label }).filter({ visible: true });
    await row.first().waitFor({ timeout });
    await row.first().click();
  }

  /**
   * Runs a command and picks the row whose label is exactly `label` in the quick pick it opens.
   * Runs the command again when the pick closes before the click lands: a webview that finishes
   * loading takes focus, and a quick pick closes when it loses focus. Returns the labels the
   * pick offered.
   */
  async commandThenPick(title: string, label: RegExp, attempts = 3): Promise<string[]> {
    const row = this.page
      .locator('.quick-input-widget .quick-input-list .monaco-list-row', { has: this.page.locator('.label-name', { hasText: label }) })
      .filter({ visible: true });
    for (let attempt = 1; ; attempt++) {
      await this.command(title);
      try {
        await row.first().waitFor({ timeout: 10_000 });
        const offered = await this.quickPickLabels();
        await row.first().click({ timeout: 3_000 });
        return offered;
      } catch (e) {
        if (attempt >= attempts) throw e;
      }
    }
  }

  /** Labels of the rows of the quick pick shown now. */
  async quickPickLabels(): Promise<string[]> {
    return this.page.locator('.quick-input-widget .quick-input-list .monaco-list-row .label-name').filter({ visible: true }).allInnerTexts();
  }

  /** A quick pick is open right now (short wait). */
  async quickPickOpen(ms = 1500): Promise<boolean> {
    try {
      await this.page.locator('.quick-input-widget .quick-input-list .monaco-list-row').first().waitFor({ timeout: ms });
      return true;
    } catch {
      return false;
    }
  }

  /** A notification with this text, as a toast or in the notification center (when it is open). */
  async notification(text: string | RegExp, timeout = 30_000): Promise<string> {
    const item = this.page.locator('.notifications-toasts .notification-toast, .notifications-center .notification-list-item', { hasText: text });
    await item.first().waitFor({ timeout });
    return (await item.first().innerText()).replace(/\s+/g, ' ');
  }

  /** Closes the notification toasts on screen (so the next wait sees only new ones). */
  async clearNotifications(): Promise<void> {
    const toasts = this.page.locator('.notifications-toasts .notification-toast');
    for (let i = 0; i < 10 && (await toasts.count()) > 0; i++) {
      const toast = toasts.first();
      await toast.hover().catch(() => undefined);
      await toast.locator('.codicon-notifications-clear').first().click({ timeout: 1_000 }).catch(() => undefined);
      await this.page.waitForTimeout(100);
    }
  }

  /** The dashboard webview's content frame (webviews are two nested iframes). */
  dashboard(): FrameLocator {
    return this.page.frameLocator('iframe.webview.ready').last().frameLocator('#active-frame');
  }

  async screenshot(name: string): Promise<string> {
    mkdirSync(ARTIFACTS, { recursive: true });
    const path = join(ARTIFACTS, name);
    await this.page.screenshot({ path });
    return path;
  }

  /** A screenshot of the dashboard's content alone (no editor around it, no empty space below). */
  async dashboardScreenshot(name: string): Promise<string> {
    mkdirSync(ARTIFACTS, { recursive: true });
    const path = join(ARTIFACTS, name);
    await this.dashboard().locator('#app').screenshot({ path });
    return path;
  }

  /** The extension's output channel, as VS Code writes it to the logs folder. */
  extensionLog(): string {
    const found: string[] = [];
    const walk = (d: string): void => {
      if (!existsSync(d)) return;
      for (const n of readdirSync(d)) {
        const p = join(d, n);
        if (statSync(p).isDirectory()) walk(p);
        else if (n === 'Trialbook.log' || /^\d+-Trialbook\.log$/.test(n)) found.push(p);
      }
    };
    walk(join(this.userData, 'logs'));
    return found.map((f) => readFileSync(f, 'utf8')).join('\n');
  }

  async stop(): Promise<void> {
    await this.browser?.close().catch(() => undefined);
    if (this.proc?.pid) {
      try {
        process.kill(-this.proc.pid, 'SIGTERM');
      } catch {
        // already gone
      }
    }
  }
}
