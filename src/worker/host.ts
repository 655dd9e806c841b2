/**
 * The worker's job loop: reads parent messages, runs one job at a time, streams its messages
 * and ends every job with exactly one `result` or `error`. Kept apart from main.ts (which only
 * wires process events) so the loop reads top to bottom.
 */
import type { z } from 'zod';
import type { FromWorker, Job, Metric, ToWorker } from '../protocol/messages';
import type { JobContext, LogLevel } from './context';
import type { WorkerBackend } from './backend';
import { CancelledError, toWorkerError } from './errors';

/** What the parent may send a worker whose jobs are `J`. */
export type ParentMessage<J> = Exclude<ToWorker, { type: 'run' }> | { type: 'run'; id: string; job: J };

export interface HostDeps<J = Job> {
  send(msg: FromWorker, done?: () => void): void;
  /** Parses the parent's messages: protocol's ToWorker, or toWorker() of more job kinds. */
  messages: z.ZodType<ParentMessage<J>>;
  runJob(job: J, ctx: JobContext): Promise<unknown>;
  initBackend(preference?: string): Promise<WorkerBackend>;
  exit(code: number): void;
}

interface Running {
  id: string;
  cancelled: boolean;
  /** The job declared it left memory as it found it (JobContext.memoryUnchanged). */
  memoryUnchanged: boolean;
}

export class WorkerHost<J = Job> {
  private running: Running | undefined;
  private backendInfo: { pref: string | undefined; info: Promise<WorkerBackend> } | undefined;
  private shuttingDown = false;

  constructor(private readonly deps: HostDeps<J>) {}

  start(): void {
    this.deps.send({ type: 'ready', pid: process.pid });
  }

  /** A message from the parent; anything that does not parse is logged and dropped. */
  onMessage(raw: unknown): void {
    const parsed = this.deps.messages.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = `${issue?.path.join('.') || 'message'}: ${issue?.message}`;
      const r = raw as { type?: unknown; id?: unknown } | null;
      // A run request we cannot read still gets an answer, so its caller does not wait forever.
      if (r && r.type === 'run' && typeof r.id === 'string' && !this.running) {
        this.deps.send({ type: 'error', id: r.id, error: { message: `invalid job request (${where})`, cause: 'internal' } });
      } else this.deps.send({ type: 'log', level: 'warn', text: `worker: ignored an invalid message (${where})` });
      return;
    }
    const msg = parsed.data;
    if (msg.type === 'run') void this.run(msg.id, msg.job);
    else if (msg.type === 'cancel') {
      if (this.running?.id === msg.id) this.running.cancelled = true;
    } else {
      this.shuttingDown = true;
      if (this.running) this.running.cancelled = true;
      else this.deps.exit(0);
    }
  }

  /** Last words for an exception nobody caught: fail the running job, then exit non-zero. */
  onFatal(e: unknown): void {
    const error = toWorkerError(e);
    if (error.cause === 'user' || error.cause === 'cancelled') error.cause = 'internal';
    const id = this.running?.id;
    this.running = undefined;
    if (process.env.TRIALBOOK_DEBUG && e instanceof Error) this.deps.send({ type: 'log', level: 'debug', text: e.stack ?? e.message });
    if (id) this.deps.send({ type: 'error', id, error: { ...error, message: `worker failed: ${error.message}` } }, () => this.deps.exit(1));
    else this.deps.send({ type: 'log', level: 'error', text: `worker failed: ${error.message}` }, () => this.deps.exit(1));
  }

  private async run(id: string, job: J): Promise<void> {
    if (this.running) {
      this.deps.send({ type: 'error', id, error: { message: `worker is busy with job ${this.running.id}`, cause: 'internal' } });
      return;
    }
    const state: Running = { id, cancelled: false, memoryUnchanged: false };
    this.running = state;
    const send = (m: FromWorker) => {
      if (this.running === state) this.deps.send(m);
    };
    const ctx: JobContext = {
      id,
      progress: (done, total, message) => send({ type: 'progress', id, done, total, message }),
      metric: (metric: Metric) => send({ type: 'metric', id, metric }),
      log: (level: LogLevel, text: string) => send({ type: 'log', id, level, text }),
      cancelled: () => state.cancelled,
      checkCancelled: () => {
        if (state.cancelled) throw new CancelledError();
      },
      backend: (pref) => this.backend(pref),
      memoryUnchanged: () => {
        state.memoryUnchanged = true;
      },
    };
    let reply: FromWorker;
    try {
      const result = await this.deps.runJob(job, ctx);
      reply = { type: 'result', id, result, rssMiB: Math.round(process.memoryUsage().rss / 1048576), ...(state.memoryUnchanged ? { memoryUnchanged: true } : {}) };
    } catch (e) {
      const error = toWorkerError(e);
      if (process.env.TRIALBOOK_DEBUG && e instanceof Error && error.cause === 'internal') send({ type: 'log', id, level: 'debug', text: e.stack ?? e.message });
      reply = { type: 'error', id, error };
    }
    if (this.running !== state) return; // a fatal error already answered for this job
    this.running = undefined;
    this.deps.send(reply);
    if (this.shuttingDown) this.deps.exit(0);
  }

  private backend(pref: string | undefined): Promise<WorkerBackend> {
    if (!this.backendInfo || (pref !== undefined && pref !== this.backendInfo.pref)) {
      const info = this.deps.initBackend(pref);
      this.backendInfo = { pref, info };
      info.then(
        (b) => this.deps.send({ type: 'ready', pid: process.pid, backend: b.name, threads: b.threads, runtime: b.runtime }),
        () => {
          this.backendInfo = undefined;
        },
      );
    }
    return this.backendInfo.info;
  }
}
