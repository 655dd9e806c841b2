/**
 * WorkerClient: the parent side of the worker process, used by the CLI, the study runner and
 * the extension. It forks dist/worker.js, runs jobs one at a time (queued in the parent), hands
 * their messages to the caller and turns every way a job can end — result, error, cancel,
 * cancel ignored, worker death — into one settled promise. A dead worker is replaced on the
 * next run() without the caller doing anything.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import type { z } from 'zod';
import { looksLikeOom } from '../core/errors';
import { FromWorker, Job, type JobInput, type JobKind, type Metric, type ToWorker } from '../protocol/messages';
import type { LogLevel } from './context';
import { WorkerJobError } from './errors';

export interface JobHandlers {
  onProgress?(p: { done: number; total?: number; message?: string }): void;
  onMetric?(m: Metric): void;
  onLog?(level: LogLevel, text: string): void;
  /** Job id (unique per client); generated when absent. */
  id?: string;
  /** Aborting it cancels the job, like cancel(id). */
  signal?: AbortSignal;
}

export interface WorkerClientOptions {
  /** Defaults to worker.js beside the running bundle (dist/cli.js, dist/extension.js). */
  workerPath?: string;
  /** The jobs that worker runs, which every request is checked against (default: protocol's Job). */
  jobs?: z.ZodType;
  /** Node executable for the worker (VS Code's Electron node may not be what the user wants). */
  execPath?: string;
  execArgv?: string[];
  /** V8 heap limit for the worker, MiB (--max-old-space-size). */
  heapMiB?: number;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** How long a cancelled job may take to stop before the worker is killed. Default 10 s. */
  cancelTimeoutMs?: number;
  /**
   * Start a fresh worker after this many jobs of `recycleKinds` (0 = never). Default 1: a fresh
   * process per trial. Measured: same-shape trials keep RSS flat in one worker (181–185 MiB over
   * 5), but wasm memory never shrinks, so after one large trial (batch 128, len 64: ~405 MiB) a
   * kept worker stays at ~425 MiB for small ones, where a fresh one needs ~167 MiB. A fresh
   * worker costs about 0.3 s per trial. Jobs that report memoryUnchanged (head-only trials on
   * cached features, ~0.08 s each in a kept worker) do not count: a fresh process would cost
   * them four times their own work.
   */
  recycleAfter?: number;
  /** Job kinds counted by recycleAfter. Default ['trial']. */
  recycleKinds?: JobKind[];
  /** Worker-level lines: stderr/stdout of the worker, logs outside a job, rejected messages. */
  onLog?(level: LogLevel, text: string): void;
}

export type JobPromise<T> = Promise<T> & { readonly id: string };

export interface WorkerInfo {
  pid?: number;
  backend?: string;
  threads?: number;
  /** The runtime line: backend, BLAS and its kernels, threads, bf16 (engine/backend.ts describeBackend). */
  runtime?: string;
  /** RSS of the worker when its last job ended, MiB. */
  rssMiB?: number;
  jobsRun: number;
  /** Jobs of the recycled kinds run on this worker. */
  recyclable: number;
}

interface Pending {
  id: string;
  job: JobInput;
  handlers: JobHandlers;
  resolve(v: unknown): void;
  reject(e: Error): void;
  cancelTimer?: NodeJS.Timeout;
  cancelRequested?: boolean;
  ended?: boolean;
  /** Resolves when the job has settled, however it ended. */
  done: Promise<void>;
  markDone(): void;
}

interface Proc {
  child: ChildProcess;
  info: WorkerInfo;
  retired: boolean;
  /** V8 printed a heap-exhaustion report on stderr. */
  sawOom?: boolean;
}

/** Native and JS stack frames: kept out of messages a user reads. */
const STACK_FRAME = /^\s*(\d+: 0x[0-9a-f]+|at .+\(.*\)$|at \S+:\d+:\d+$)/;

const TAIL_LINES = 12;

/** worker.js beside this bundle, or dist/worker.js of the repo when running from sources. */
export function defaultWorkerPath(): string {
  const beside = join(__dirname, 'worker.js');
  if (existsSync(beside)) return beside;
  return resolve(__dirname, '..', '..', 'dist', 'worker.js');
}

export class WorkerClient {
  private proc: Proc | undefined;
  private current: Pending | undefined;
  private readonly queue: Pending[] = [];
  private readonly tail: string[] = [];
  private nextId = 1;
  private closed = false;
  private readonly cancelTimeoutMs: number;
  private readonly recycleAfter: number;
  private readonly recycleKinds: ReadonlySet<JobKind>;
  /** Workers started so far (1 + restarts and recycles). */
  workersStarted = 0;
  /** RSS of the worker when the last successful job ended, MiB (kept after a recycle). */
  lastRssMiB: number | undefined;

  constructor(private readonly options: WorkerClientOptions = {}) {
    this.cancelTimeoutMs = options.cancelTimeoutMs ?? 10_000;
    this.recycleAfter = options.recycleAfter ?? 1;
    this.recycleKinds = new Set(options.recycleKinds ?? ['trial']);
  }

  /** The live worker's pid, backend and memory, if one is running. */
  get info(): WorkerInfo | undefined {
    return this.proc ? { ...this.proc.info } : undefined;
  }

  /** Runs a job; settles with its result, or rejects with a WorkerJobError whose `cause` says why. */
  run<T = unknown>(job: JobInput, handlers: JobHandlers = {}): JobPromise<T> {
    const id = handlers.id ?? `job-${process.pid}-${this.nextId++}`;
    let pending!: Pending;
    let markDone!: () => void;
    const done = new Promise<void>((r) => (markDone = r));
    const promise = new Promise<T>((res, rej) => {
      pending = { id, job, handlers, resolve: res as (v: unknown) => void, reject: rej, done, markDone };
    }) as JobPromise<T>;
    Object.defineProperty(promise, 'id', { value: id });
    if (this.closed) {
      pending.reject(new WorkerJobError({ message: 'the worker client is closed', cause: 'cancelled' }));
      return promise;
    }
    const valid = (this.options.jobs ?? Job).safeParse(job);
    if (!valid.success) {
      const i = valid.error.issues[0];
      pending.reject(new WorkerJobError({ message: `invalid ${job?.kind ?? ''} job options (${i?.path.join('.')}: ${i?.message})`, cause: 'internal' }));
      return promise;
    }
    if (handlers.signal) {
      if (handlers.signal.aborted) queueMicrotask(() => void this.cancel(id));
      else handlers.signal.addEventListener('abort', () => void this.cancel(id), { once: true });
    }
    this.queue.push(pending);
    this.pump();
    return promise;
  }

  /**
   * Cancels a job: a queued one is dropped; a running one is asked to stop and, if it has not
   * ended within cancelTimeoutMs, its worker is killed (SIGKILL) and it rejects as 'cancelled'.
   */
  cancel(id: string): void {
    const qi = this.queue.findIndex((p) => p.id === id);
    if (qi >= 0) {
      const [p] = this.queue.splice(qi, 1);
      this.settle(p, new WorkerJobError({ message: 'cancelled before it started', cause: 'cancelled' }));
      return;
    }
    const p = this.current;
    if (!p || p.id !== id || p.cancelRequested) return;
    p.cancelRequested = true;
    this.send({ type: 'cancel', id });
    p.cancelTimer = setTimeout(() => {
      if (p.ended || this.current !== p) return;
      const proc = this.proc;
      this.retire(proc, 'SIGKILL');
      this.current = undefined;
      this.settle(p, new WorkerJobError({
        message: `job did not stop within ${this.cancelTimeoutMs / 1000} s of the cancel; its worker (pid ${proc?.child.pid}) was killed`,
        cause: 'cancelled',
      }));
      this.pump();
    }, this.cancelTimeoutMs);
  }

  /** Cancels everything and stops the worker (graceful, then SIGKILL after the cancel timeout). */
  async close(): Promise<void> {
    this.closed = true;
    for (const p of this.queue.splice(0)) this.settle(p, new WorkerJobError({ message: 'the worker client was closed', cause: 'cancelled' }));
    const running = this.current;
    if (running) {
      this.cancel(running.id);
      await running.done;
    }
    const proc = this.proc;
    if (!proc) return;
    const child = proc.child;
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((res) => child.once('exit', () => res()));
    this.retire(proc);
    const t = setTimeout(() => child.kill('SIGKILL'), this.cancelTimeoutMs);
    await exited;
    clearTimeout(t);
  }

  /** Same as close(), for VS Code's Disposable. */
  dispose(): void {
    void this.close();
  }

  private pump(): void {
    if (this.current || this.queue.length === 0) return;
    const p = this.queue.shift()!;
    this.current = p;
    try {
      this.ensureWorker();
    } catch (e) {
      this.current = undefined;
      this.settle(p, new WorkerJobError({ message: `could not start the worker: ${(e as Error).message}`, cause: 'crash' }));
      this.pump();
      return;
    }
    this.send({ type: 'run', id: p.id, job: p.job } as ToWorker);
  }

  private ensureWorker(): void {
    if (this.proc && !this.proc.retired) return;
    const o = this.options;
    const execArgv = [...(o.execArgv ?? [])];
    if (o.heapMiB) execArgv.push(`--max-old-space-size=${Math.round(o.heapMiB)}`);
    const child = fork(o.workerPath ?? defaultWorkerPath(), [], {
      execPath: o.execPath,
      execArgv,
      env: o.env ?? process.env,
      cwd: o.cwd,
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      serialization: 'json',
    });
    const proc: Proc = { child, info: { pid: child.pid, jobsRun: 0, recyclable: 0 }, retired: false };
    this.proc = proc;
    this.workersStarted++;
    this.tail.length = 0;
    for (const [stream, level] of [[child.stdout, 'info'], [child.stderr, 'warn']] as const) {
      if (!stream) continue;
      createInterface({ input: stream }).on('line', (line) => {
        if (proc !== this.proc) return;
        if (level === 'warn' && looksLikeOom(line)) proc.sawOom = true;
        this.workerLine(level, line);
      });
    }
    child.on('message', (raw) => this.onMessage(proc, raw));
    child.on('error', (e) => this.onDeath(proc, `could not run the worker: ${e.message}`));
    child.on('exit', (code, signal) => {
      // Let the last stderr lines (a V8 OOM report, a native abort) arrive first.
      setTimeout(() => this.onDeath(proc, signal ? `signal ${signal}` : `exit code ${code}`), 20);
    });
  }

  private send(msg: ToWorker): void {
    const child = this.proc?.child;
    if (!child?.connected) return; // a dead worker is noticed by its exit event
    child.send(msg, (e) => {
      if (e) this.workerLine('warn', `could not send '${msg.type}' to the worker: ${e.message}`);
    });
  }

  private onMessage(proc: Proc, raw: unknown): void {
    if (proc !== this.proc) return; // a retired worker's late words
    const parsed = FromWorker.safeParse(raw);
    if (!parsed.success) {
      const i = parsed.error.issues[0];
      const type = typeof raw === 'object' && raw && 'type' in raw ? String((raw as { type: unknown }).type) : typeof raw;
      this.workerLine('warn', `ignored an invalid message from the worker (type ${type}; ${i?.path.join('.') || 'message'}: ${i?.message})`);
      return;
    }
    const m = parsed.data;
    if (m.type === 'ready') {
      proc.info.pid = m.pid;
      if (m.backend) proc.info.backend = m.backend;
      if (m.threads) proc.info.threads = m.threads;
      if (m.runtime) proc.info.runtime = m.runtime;
      return;
    }
    if (m.type === 'log' && !m.id) {
      this.workerLine(m.level, m.text);
      return;
    }
    const p = this.current;
    if (!p || m.id !== p.id) return; // a job that already ended (e.g. killed after cancel)
    switch (m.type) {
      case 'progress':
        p.handlers.onProgress?.({ done: m.done, total: m.total, message: m.message });
        break;
      case 'metric':
        p.handlers.onMetric?.(m.metric);
        break;
      case 'log':
        this.remember(`[${m.level}] ${m.text}`);
        p.handlers.onLog?.(m.level, m.text);
        break;
      case 'result':
      case 'error':
        this.current = undefined;
        proc.info.jobsRun++;
        if (this.recycleKinds.has(p.job.kind) && !(m.type === 'result' && m.memoryUnchanged)) proc.info.recyclable++;
        if (m.type === 'result') {
          if (m.rssMiB !== undefined) proc.info.rssMiB = this.lastRssMiB = m.rssMiB;
          this.settle(p, undefined, m.result);
        } else this.settle(p, new WorkerJobError(m.error));
        if (this.recycleAfter > 0 && proc.info.recyclable >= this.recycleAfter) this.retire(proc);
        this.pump();
        break;
    }
  }

  /** The worker exited or could not start: fail its job (if any) and let the next run fork anew. */
  private onDeath(proc: Proc, how: string): void {
    if (proc !== this.proc) return;
    this.proc = undefined;
    const p = this.current;
    const lines = this.tail.slice();
    if (!p) {
      if (!proc.retired) this.options.onLog?.('warn', `worker (pid ${proc.child.pid}) ended while idle (${how})`);
      return;
    }
    this.current = undefined;
    const oom = proc.sawOom === true;
    const last = lines.length ? `; last output:\n  ${lines.join('\n  ')}` : '';
    const kind = p.job.kind;
    this.settle(p, new WorkerJobError({
      message: oom
        ? `the worker ran out of memory during the ${kind} job (${how}); try a smaller batch_size or max_seq_len${last}`
        : `the worker process died during the ${kind} job (${how})${last}`,
      cause: oom ? 'oom' : 'crash',
      detail: how,
    }));
    this.pump();
  }

  /** Takes a worker out of service: graceful shutdown, or a signal. Its exit is then ignored. */
  private retire(proc: Proc | undefined, signal?: NodeJS.Signals): void {
    if (!proc) return;
    proc.retired = true;
    if (this.proc === proc) this.proc = undefined;
    if (signal) {
      proc.child.kill(signal);
      return;
    }
    if (proc.child.connected) proc.child.send({ type: 'shutdown' } satisfies ToWorker);
    // A retired worker that does not leave on its own is not left behind.
    const t = setTimeout(() => proc.child.kill('SIGKILL'), this.cancelTimeoutMs);
    t.unref();
    proc.child.once('exit', () => clearTimeout(t));
  }

  private settle(p: Pending, error?: Error, value?: unknown): void {
    if (p.ended) return;
    p.ended = true;
    if (p.cancelTimer) clearTimeout(p.cancelTimer);
    if (error) p.reject(error);
    else p.resolve(value);
    p.markDone();
  }

  private remember(line: string): void {
    if (STACK_FRAME.test(line) || !line.trim()) return;
    this.tail.push(line.length > 300 ? `${line.slice(0, 300)}…` : line);
    if (this.tail.length > TAIL_LINES) this.tail.shift();
  }

  private workerLine(level: LogLevel, text: string): void {
    this.remember(text);
    this.options.onLog?.(level, text);
    this.current?.handlers.onLog?.(level, text);
  }
}
