/**
 * Single heavy jobs (split, token lengths, one trial) in the worker process through the shared
 * WorkerClient: the extension host only waits and relays progress.
 */
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { JobInput } from '../protocol/messages';
import { WorkerClient, type JobHandlers } from '../worker/client';
import type { Log } from './log';
import { readSettings } from './settings';

export class WorkerJobs implements vscode.Disposable {
  private client: WorkerClient | undefined;
  private key = '';

  constructor(private readonly ctx: vscode.ExtensionContext, private readonly log: Log) {}

  /** One client; rebuilt when the runtime settings change. */
  private get(): WorkerClient {
    const s = readSettings();
    const key = JSON.stringify(s);
    if (!this.client || key !== this.key) {
      this.client?.dispose();
      const env: NodeJS.ProcessEnv = { ...process.env };
      if (s.backend !== 'auto') env.TRIALBOOK_BACKEND = s.backend;
      if (!s.nodeExecutable) env.ELECTRON_RUN_AS_NODE = '1';
      this.client = new WorkerClient({
        workerPath: join(this.ctx.extensionPath, 'dist', 'worker.js'),
        execPath: s.nodeExecutable || process.execPath,
        env,
        ...(s.memoryBudgetMiB > 0 ? { heapMiB: s.memoryBudgetMiB } : {}),
        onLog: (level, text) => this.log.line(level, `[worker] ${text}`),
      });
      this.key = key;
    }
    return this.client;
  }

  /** Runs a job under a cancellable progress notification (or until `handlers.signal` aborts). */
  run<T>(title: string, job: JobInput, handlers: JobHandlers = {}): Thenable<T> {
    return vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title, cancellable: true }, async (progress, token) => {
      const abort = new AbortController();
      token.onCancellationRequested(() => abort.abort());
      handlers.signal?.addEventListener('abort', () => abort.abort());
      let last = 0;
      this.log.info(`worker: ${job.kind} ${JSON.stringify(job.options)}`);
      return this.get().run<T>(job, {
        ...handlers,
        signal: abort.signal,
        onLog: (level, text) => this.log.line(level, `[${job.kind}] ${text}`),
        onProgress: (p) => {
          const pct = p.total ? (p.done / p.total) * 100 : undefined;
          progress.report({ message: p.message, ...(pct !== undefined ? { increment: Math.max(0, pct - last) } : {}) });
          if (pct !== undefined) last = Math.max(last, pct);
          handlers.onProgress?.(p);
        },
      });
    });
  }

  dispose(): void {
    this.client?.dispose();
  }
}
