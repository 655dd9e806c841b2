/**
 * One worker of a shared study. Any number of them, on any machines, loop:
 *   expire lost trials → claim (one serialised transaction: replay, ask the tuner with the
 *   pending trials in its history, create+start the trial) → run it with a heartbeat timer →
 *   write the result (retrying through connection loss; the result stays in memory until the
 *   database has it) → claim the next one.
 * A worker leaves when nothing is left to run and no trial is running anywhere (a running trial
 * may still be lost and need someone to re-run it).
 */
import { cpSync, mkdirSync, rmSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Metric, Params } from '../../protocol/messages';
import { hasCheckpoint, TrialFailure, type FailureReason, type Objective } from '../../runner/objective';
import type { CheckpointPolicy } from '../../runner/promotions';
import { bestTrial, finishedHere, markFinished, toHistory, trialDir, trialSpec, willRerun, type TrialSource } from '../../runner/study-runner';
import type { TrialRecord } from '../../tuners/types';
import { isEpochSummary, lastEpoch } from '../replay';
import type { CheckpointOrigin, StoredTrial, TrialEvent } from '../types';
import type { StoredCheckpoint } from './checkpoints';
import type { ClaimContext, PostgresStore } from './store';

export interface PgWorkerOptions {
  store: PostgresStore;
  source: TrialSource;
  objective: Objective;
  stateDir: string;
  metric: 'val_loss' | 'val_accuracy';
  direction: 'minimize' | 'maximize';
  epochs: number;
  baseSeed: number;
  /** Trials in the whole study (all workers together); undefined: the tuner decides. */
  maxTrials?: number;
  maxRetries: number;
  maxConsecutiveFailures?: number;
  /** A running trial without a heartbeat for this long is lost (seconds). */
  heartbeatTimeoutS: number;
  /** How often this worker heart-beats (ms; default a quarter of the timeout, at most 10 s). */
  heartbeatEveryMs?: number;
  /** How long to wait before asking again when the tuner waits for running trials (ms). */
  pollMs?: number;
  include?: (t: StoredTrial) => boolean;
  workerId?: string;
  onEvent?: (e: PgWorkerEvent) => void;
  /**
   * Multi-fidelity tuners: which finished trials' checkpoints go into the database (so that a
   * promotion can continue them on another machine) and when they are deleted again. Without
   * it, a promotion continues only a checkpoint found on this machine.
   */
  checkpoints?: CheckpointPolicy;
  /** Save each trial's best model under trials/<n>/model on this machine (report --test). */
  saveModels?: boolean;
}

export type PgWorkerEvent =
  | { type: 'claimed'; trial: number; params: Params; attempt: number; resume: boolean; epochs: number; claimMs: number; rerun: boolean; tag?: Record<string, unknown>; resumeFrom?: number }
  | ({ type: 'checkpoint'; trial: number; epochs: number } & CheckpointOrigin)
  | { type: 'checkpoint-stored'; trial: number; attempt: number; bytes: number; files: number; ms: number }
  | { type: 'checkpoints-dropped'; trials: number[]; count: number }
  | { type: 'warning'; trial?: number; message: string }
  | { type: 'metric'; trial: number; metric: Metric }
  | { type: 'finished'; trial: number; value: number; result: Record<string, unknown>; best: { trial: number; value: number } }
  | { type: 'failed'; trial: number; reason: string; message: string; willRetry: boolean }
  | { type: 'pruned'; trial: number; epoch: number }
  | { type: 'lost'; trials: number[] }
  | { type: 'taken-over'; trial: number }
  | { type: 'waiting'; running: number }
  | { type: 'stopped'; reason: 'done' | 'cancelled' | 'failures'; message: string; ran: number };

export interface PgWorkerOutcome {
  reason: 'done' | 'cancelled' | 'failures';
  message: string;
  /** Trials this worker ran to an outcome. */
  ran: number[];
  /** Milliseconds each claim transaction took. */
  claimMs: number[];
}

/** Where a claimed attempt will start from, decided inside the claim, carried out after it. */
type CheckpointPlan =
  | { kind: 'fresh' }
  | { kind: 'own' }
  | { kind: 'local'; from: number; epoch?: number }
  | { kind: 'database'; from: number; info: StoredCheckpoint }
  | { kind: 'none'; from: number; reason: string };

interface Claimed {
  trial: StoredTrial;
  attempt: number;
  resume: boolean;
  claimMs: number;
  plan: CheckpointPlan;
}


type ClaimResult = { kind: 'run'; claimed: Claimed; history: TrialRecord[] } | { kind: 'wait'; running: number } | { kind: 'done'; byTuner: boolean };

export function defaultWorkerId(): string {
  return `${hostname()}:${process.pid}`;
}

export class PgWorker {
  private stopping: 'cancelled' | 'failures' | undefined;
  private stopMessage = '';
  private current: AbortController | undefined;
  private wake: (() => void) | undefined;
  private consecutive: string[] = [];
  private best: { trial: number; value: number } | undefined;
  private readonly dropped = new Set<number>();
  readonly id: string;

  constructor(private readonly o: PgWorkerOptions) {
    this.id = o.workerId ?? defaultWorkerId();
  }

  /** Stops after the running trial is cancelled and recorded (another worker re-runs it). */
  stop(reason: 'cancelled' | 'failures' = 'cancelled', message = 'stopped on request'): void {
    if (this.stopping) return;
    this.stopping = reason;
    this.stopMessage = message;
    this.current?.abort(reason);
    this.wake?.();
  }

  get isStopping(): boolean {
    return this.stopping !== undefined;
  }

  private emit(e: PgWorkerEvent): void {
    this.o.onEvent?.(e);
  }

  private include(t: StoredTrial): boolean {
    return this.o.include ? this.o.include(t) : true;
  }

  async run(): Promise<PgWorkerOutcome> {
    const ran: number[] = [];
    const claimMs: number[] = [];
    let waits = 0;
    let finished = false;
    while (!this.stopping) {
      const lost = await this.o.store.expireLost(this.o.heartbeatTimeoutS);
      if (lost.length) this.emit({ type: 'lost', trials: lost });
      const c = await this.claim();
      if (c.kind === 'done') {
        finished = c.byTuner;
        break;
      }
      if (c.kind === 'wait') {
        this.emit({ type: 'waiting', running: c.running });
        // Poll less often the longer others' trials run (real training: minutes), at most every 2 s.
        const base = this.o.pollMs ?? 250;
        const delay = Math.min(Math.max(base, 2000), base * 2 ** Math.min(waits++, 4));
        await new Promise<void>((resolve) => {
          this.wake = resolve;
          setTimeout(resolve, delay);
        });
        this.wake = undefined;
        continue;
      }
      waits = 0;
      claimMs.push(c.claimed.claimMs);
      const done = await this.runTrial(c.claimed, c.history);
      if (done) ran.push(c.claimed.trial.number);
    }
    await this.o.objective.close?.();
    // The tuner has nothing left to promote: checkpoints kept for promotions can go (Hyperband).
    if (!this.stopping) await this.dropObsolete(finished);
    const reason = this.stopping ?? 'done';
    const message = reason === 'done' ? 'nothing left to run in the study' : this.stopMessage;
    this.emit({ type: 'stopped', reason, message, ran: ran.length });
    return { reason, message, ran, claimMs };
  }

  /** The serialised decision: re-run a failed/queued trial, or a new one from the tuner, or wait. */
  private async claim(): Promise<ClaimResult> {
    const t0 = performance.now();
    return this.o.store.claim<ClaimResult>(async (ctx) => {
      const mine = ctx.trials.filter((t) => this.include(t));
      this.noteBest(mine);
      const history = toHistory(mine, this.o.maxRetries, this.o.metric);
      const running = mine.filter((t) => t.state === 'running').length;
      const rerun = mine.find((t) => t.state === 'queued' || willRerun(t, this.o.maxRetries));
      if (rerun) {
        const started = await this.startEvent(rerun, mine, ctx);
        return { events: [started.event], result: { kind: 'run', claimed: { ...started.claimed, claimMs: performance.now() - t0 }, history } };
      }
      const capped = this.o.maxTrials !== undefined && mine.length >= this.o.maxTrials;
      const s = capped ? ({ kind: 'done' } as const) : this.o.source.suggest(history, mine);
      // Done by the tuner (its plan is spent) or only by this worker's trial cap (a larger one may go on).
      if (s.kind !== 'trial') return { events: [], result: running ? { kind: 'wait', running } : { kind: 'done', byTuner: !capped } };
      const n = await ctx.nextNumber();
      const from = s.resumeFrom !== undefined ? mine.find((t) => t.number === s.resumeFrom) : undefined;
      const repeat = typeof s.tag?.repeat === 'number' ? s.tag.repeat : undefined;
      const created: TrialEvent & { type: 'created' } = {
        type: 'created',
        trial: n,
        params: s.params,
        epochs: s.epochs ?? this.o.epochs,
        seed: from?.seed ?? this.o.baseSeed + (repeat ?? 0),
        at: Date.now(),
        ...(s.tag ? { tag: s.tag } : {}),
        ...(s.resumeFrom !== undefined ? { resumeFrom: s.resumeFrom } : {}),
        ...(repeat !== undefined ? { repeat } : {}),
      };
      const trial: StoredTrial = {
        number: n,
        params: s.params,
        state: 'queued',
        curve: [],
        epochs: created.epochs!,
        seed: created.seed!,
        attempts: 0,
        failures: [],
        ...(s.tag ? { tag: s.tag } : {}),
        ...(s.resumeFrom !== undefined ? { resumeFrom: s.resumeFrom } : {}),
      };
      const started = await this.startEvent(trial, mine, ctx);
      return { events: [created, started.event], result: { kind: 'run', claimed: { ...started.claimed, claimMs: performance.now() - t0 }, history } };
    });
  }

  /**
   * The `started` event, and where the attempt will start from: its own checkpoint on this
   * machine; for a promotion, the source trial's checkpoint on this machine (only when the attempt
   * that finished it ran here), else the copy in the database; else from scratch. Only looks: the
   * copying happens after the claim, so a large fetch never holds up other workers' claims.
   */
  private async startEvent(t: StoredTrial, trials: StoredTrial[], ctx: ClaimContext): Promise<{ event: TrialEvent; claimed: Omit<Claimed, 'claimMs'> }> {
    const attempt = (t.attempts ?? 0) + 1;
    let plan: CheckpointPlan = { kind: 'fresh' };
    // Its own checkpoint only for a re-run (a first attempt's folder is a leftover: cleared below).
    if (attempt > 1 && hasCheckpoint(join(trialDir(this.o.stateDir, t.number), 'checkpoint'))) plan = { kind: 'own' };
    else if (t.resumeFrom !== undefined) {
      const from = t.resumeFrom;
      const src = trials.find((x) => x.number === from);
      const finalAttempt = src?.state === 'complete' ? src.attempts : undefined;
      const epoch = src ? lastEpoch(src.curve) : undefined;
      if (finalAttempt !== undefined && finishedHere(this.o.stateDir, from) === finalAttempt && hasCheckpoint(join(trialDir(this.o.stateDir, from), 'checkpoint'))) {
        plan = { kind: 'local', from, ...(epoch !== undefined ? { epoch } : {}) };
      } else {
        const info = finalAttempt !== undefined ? await ctx.checkpoint(from, finalAttempt) : undefined;
        if (info) plan = { kind: 'database', from, info };
        else {
          const why =
            src?.state !== 'complete'
              ? `trial ${from} is ${src?.state ?? 'missing'}, not complete`
              : this.o.checkpoints
                ? `the checkpoint of trial ${from} (attempt ${finalAttempt}) is neither on this machine nor in the database`
                : `the checkpoint of trial ${from} is not on this machine and this study keeps no checkpoints in the database`;
          plan = { kind: 'none', from, reason: why };
        }
      }
    }
    const resume = plan.kind === 'own' || plan.kind === 'local' || plan.kind === 'database';
    return { event: { type: 'started', trial: t.number, worker: this.id, attempt, resume, at: Date.now() }, claimed: { trial: t, attempt, resume, plan } };
  }

  /**
   * Puts the planned starting checkpoint into the trial's folder and records where it came from
   * (a `checkpoint` event): a promotion whose source cannot be had trains from scratch for its
   * whole budget, and says so in the trial. Returns whether the objective resumes.
   */
  private async materialise(c: Claimed, epochs: number): Promise<{ resume: boolean; epoch?: number }> {
    const { plan, trial: t } = c;
    const dir = trialDir(this.o.stateDir, t.number);
    const ckpt = join(dir, 'checkpoint');
    mkdirSync(dir, { recursive: true });
    if (plan.kind === 'fresh' || plan.kind === 'none') rmSync(ckpt, { recursive: true, force: true });
    if (plan.kind === 'fresh') return { resume: false };
    let origin: CheckpointOrigin;
    if (plan.kind === 'own') origin = { source: 'own' };
    else if (plan.kind === 'none') origin = { source: 'none', from: plan.from, reason: plan.reason };
    else {
      const t0 = performance.now();
      try {
        rmSync(ckpt, { recursive: true, force: true });
        if (plan.kind === 'local') {
          cpSync(join(trialDir(this.o.stateDir, plan.from), 'checkpoint'), ckpt, { recursive: true });
          origin = { source: 'local', from: plan.from, ...(plan.epoch !== undefined ? { epoch: plan.epoch } : {}) };
        } else {
          await this.o.store.fetchCheckpoint(plan.info, ckpt);
          origin = { source: 'database', from: plan.from, ...(plan.info.epoch !== null ? { epoch: plan.info.epoch } : {}), bytes: plan.info.bytes, ms: Math.round(performance.now() - t0) };
        }
      } catch (e) {
        rmSync(ckpt, { recursive: true, force: true });
        origin = { source: 'none', from: plan.from, reason: `copying the checkpoint of trial ${plan.from} ${plan.kind === 'local' ? 'on this machine' : 'from the database'} failed: ${(e as Error)?.message ?? String(e)}` };
      }
    }
    origin = { ...origin, attempt: c.attempt };
    await this.o.store.append({ type: 'checkpoint', trial: t.number, at: Date.now(), ...origin });
    this.emit({ type: 'checkpoint', trial: t.number, epochs, ...origin });
    if (origin.source === 'none') return { resume: false };
    return { resume: true, ...(origin.source === 'own' ? { epoch: lastEpoch(t.curve) } : origin.epoch !== undefined ? { epoch: origin.epoch } : {}) };
  }

  /** Remembers the best finished trial seen (for progress lines). */
  private noteBest(trials: StoredTrial[]): void {
    const b = bestOf(trials, this.o.direction);
    if (b && (!this.best || (this.o.direction === 'minimize' ? b.value < this.best.value : b.value > this.best.value))) this.best = b;
  }

  /** Deletes stored checkpoints that no promotion can need any more (never fails the worker). */
  private async dropObsolete(done: boolean): Promise<void> {
    const policy = this.o.checkpoints;
    if (!policy) return;
    try {
      const trials = (await this.o.store.trials()).filter((t) => this.include(t));
      const gone = policy.obsolete(trials, done).filter((n) => !this.dropped.has(n));
      if (!gone.length) return;
      const count = await this.o.store.dropCheckpoints(gone);
      for (const n of gone) this.dropped.add(n);
      if (count) this.emit({ type: 'checkpoints-dropped', trials: gone, count });
    } catch (e) {
      this.emit({ type: 'warning', message: `could not delete stored checkpoints: ${(e as Error)?.message ?? String(e)}` });
    }
  }

  /** Runs a claimed trial; true when its outcome was recorded by this worker. */
  private async runTrial(c: Claimed, history: TrialRecord[]): Promise<boolean> {
    const { store } = this.o;
    const t = c.trial;
    const epochs = t.epochs ?? this.o.epochs;
    const abort = new AbortController();
    this.current = abort;
    let prunedAt: number | undefined;
    let takenOver = false;
    this.emit({
      type: 'claimed',
      trial: t.number,
      params: t.params,
      attempt: c.attempt,
      resume: c.resume,
      epochs,
      claimMs: c.claimMs,
      rerun: c.attempt > 1 || t.state !== 'queued',
      ...(t.tag ? { tag: t.tag } : {}),
      ...(t.resumeFrom !== undefined ? { resumeFrom: t.resumeFrom } : {}),
    });
    const beatEvery = this.o.heartbeatEveryMs ?? Math.min(10_000, Math.max(100, (this.o.heartbeatTimeoutS * 1000) / 4));
    const beat = setInterval(() => {
      void store.heartbeat(t.number, this.id, c.attempt).then((ours) => {
        if (ours === false && !takenOver) {
          takenOver = true;
          abort.abort('taken-over');
        }
      }, () => undefined);
    }, beatEvery);
    // Heart-beating already: fetching a large checkpoint can take a while.
    let resume: boolean;
    let last: number | undefined;
    try {
      ({ resume, epoch: last } = await this.materialise(c, epochs));
    } catch (e) {
      clearInterval(beat);
      throw e;
    }
    const checkpointDir = join(trialDir(this.o.stateDir, t.number), 'checkpoint');
    const spec = trialSpec(t, { epochs, checkpointDir, resume, attempt: c.attempt }, this.o);
    // Metrics are written in order, each retried through connection loss, all before the outcome.
    let writes: Promise<void> = Promise.resolve();
    const curve: number[] = [];
    if (resume) for (const m of t.curve) if (isEpochSummary(m) && typeof m[this.o.metric] === 'number') curve[m.epoch - 1] = m[this.o.metric] as number;
    const onMetric = (m: Metric): void => {
      writes = writes.then(() => store.append({ type: 'metric', trial: t.number, metric: m, at: Date.now() })).catch(() => undefined);
      this.emit({ type: 'metric', trial: t.number, metric: m });
      if (isEpochSummary(m)) last = m.epoch;
      const v = m[this.o.metric];
      if (!isEpochSummary(m) || typeof v !== 'number' || !this.o.source.shouldPrune || prunedAt !== undefined) return;
      curve[m.epoch - 1] = v;
      const record: TrialRecord = { number: t.number, params: t.params, state: 'running', intermediate: curve.filter((x) => x !== undefined), epochs, ...(t.tag ? { tag: t.tag } : {}) };
      if (this.o.source.shouldPrune(record, m.epoch, history)) {
        prunedAt = m.epoch;
        abort.abort('pruned');
      }
    };
    let outcome: TrialEvent;
    try {
      const r = await this.o.objective.run(spec, { onMetric, signal: abort.signal });
      if (!Number.isFinite(r.value)) throw new TrialFailure(`objective ${this.o.metric} is ${r.value} (training diverged: learning rate too high?)`, 'nan');
      outcome = { type: 'finished', trial: t.number, value: r.value, result: r.result, at: Date.now() };
    } catch (e) {
      if (prunedAt !== undefined) outcome = { type: 'pruned', trial: t.number, epoch: prunedAt, at: Date.now() };
      else if (takenOver) outcome = { type: 'failed', trial: t.number, reason: 'interrupted', cause: 'another worker took the trial over after this worker\'s heartbeats stopped', at: Date.now() };
      else if (this.stopping || abort.signal.aborted) outcome = { type: 'failed', trial: t.number, reason: 'cancelled', cause: `worker ${this.id} stopped`, at: Date.now() };
      else {
        const reason: FailureReason = e instanceof TrialFailure ? e.reason : 'error';
        outcome = { type: 'failed', trial: t.number, reason, cause: (e as Error)?.message ?? String(e), at: Date.now() };
      }
    } finally {
      this.current = undefined;
    }
    await writes;
    // A trial a promotion may continue: its checkpoint goes into the database before its result,
    // so whoever sees it finished can fetch it.
    let stored: StoredCheckpoint | undefined;
    if (outcome.type === 'finished' && this.o.checkpoints?.promotable({ ...t, epochs }) && hasCheckpoint(checkpointDir)) {
      const t0 = performance.now();
      try {
        const r = await store.putCheckpoint(t.number, c.attempt, this.id, checkpointDir, last);
        if (r !== 'taken-over') {
          stored = r;
          this.emit({ type: 'checkpoint-stored', trial: t.number, attempt: c.attempt, bytes: r.bytes, files: r.files.length, ms: Math.round(performance.now() - t0) });
        }
      } catch (e) {
        this.emit({ type: 'warning', trial: t.number, message: `could not store the checkpoint of trial ${t.number} in the database (a promotion elsewhere will train from scratch): ${(e as Error)?.message ?? String(e)}` });
      }
    }
    // The outcome is kept here and retried (store.finish) until the database has it; the heartbeat
    // keeps running meanwhile so nobody takes the trial over while we are only reconnecting.
    let written: Awaited<ReturnType<PostgresStore['finish']>>;
    try {
      written = await store.finish(outcome, this.id, c.attempt);
    } finally {
      clearInterval(beat);
    }
    if (written === 'taken-over') {
      if (stored) await store.dropCheckpoints([t.number], c.attempt).catch(() => 0);
      this.emit({ type: 'taken-over', trial: t.number });
      return false;
    }
    if (outcome.type === 'finished' && this.o.checkpoints?.promotable({ ...t, epochs })) markFinished(this.o.stateDir, t.number, c.attempt, last);
    this.after(outcome, t);
    await this.dropObsolete(false);
    return true;
  }

  private after(outcome: TrialEvent, t: StoredTrial): void {
    if (outcome.type === 'finished') {
      this.consecutive = [];
      if (!this.best || (this.o.direction === 'minimize' ? outcome.value < this.best.value : outcome.value > this.best.value)) this.best = { trial: t.number, value: outcome.value };
      this.emit({ type: 'finished', trial: t.number, value: outcome.value, result: outcome.result, best: this.best });
    } else if (outcome.type === 'pruned') {
      this.consecutive = [];
      this.emit({ type: 'pruned', trial: t.number, epoch: outcome.epoch });
    } else if (outcome.type === 'failed') {
      const failures = [...(t.failures ?? []), { reason: outcome.reason, at: outcome.at }];
      const willRetry = willRerun({ ...t, state: 'failed', failures }, this.o.maxRetries);
      this.emit({ type: 'failed', trial: t.number, reason: outcome.reason, message: outcome.cause ?? outcome.reason, willRetry });
      if (outcome.reason === 'cancelled' || outcome.reason === 'interrupted') return;
      this.consecutive.push(outcome.reason);
      const max = this.o.maxConsecutiveFailures;
      if (max !== undefined && this.consecutive.length >= max) {
        this.stop('failures', `worker stopped: ${this.consecutive.length} trials in a row failed on this worker (${this.consecutive.join(', ')}; last: ${outcome.cause ?? outcome.reason}); the limit is budget.max_consecutive_failed_trials (${max})`);
      }
    }
  }
}

/** Best finished trial of a list, for the summary line. */
export function bestOf(trials: StoredTrial[], direction: 'minimize' | 'maximize'): { trial: number; value: number } | undefined {
  const b = bestTrial(trials, direction);
  return b ? { trial: b.number, value: b.value! } : undefined;
}
