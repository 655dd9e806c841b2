/**
 * The study runner: the one trial loop of every command that runs trials (tune, worker, seqlen),
 * on a local journal or a study shared through PostgreSQL alike. Each of its `parallel` slots
 * loops: hand back the trials of runners that went away → claim (one atomic step of the store:
 * replay, ask the source with the running trials in its history, create and start the trial) →
 * run it in the objective while heart-beating its lease → write the outcome. Everything the
 * runner knows comes back from the store, so a killed run resumes by simply running again.
 */
import { hostname } from 'node:os';
import { join } from 'node:path';
import { isEnvironmentFault, isUserError } from '../core/errors';
import type { Metric, Params } from '../protocol/messages';
import type { FailureReason, RunEvent, StopReason } from '../protocol/run-events';
import { isEpochSummary, lastEpoch } from '../protocol/curve';
import type { StoredTrial, StudyStore, TrialEvent } from '../store/types';
import { replay } from '../store/replay';
import type { Suggestion, TrialRecord } from '../tuners/types';
import { checkpointDir, hasCheckpoint, markFinished, materialise, planCheckpoint, trialDir, type CheckpointPlan } from './checkpoint-source';
import { failureAdvice, notTheTrialsFault, retriable, TrialFailure, willRerun } from './failure-policy';
import type { Objective, TrialSpec } from './objective';
import type { CheckpointPolicy } from './promotions';

/** A tuner, or anything that plans trials like one (the sequence-length study). */
export interface TrialSource {
  readonly name: string;
  suggest(history: TrialRecord[], stored: StoredTrial[]): Suggestion;
}

export interface RunnerOptions {
  store: StudyStore;
  source: TrialSource;
  /** One objective per parallel slot (one worker each). */
  objective: (slot: number) => Objective;
  stateDir: string;
  metric: 'val_loss' | 'val_accuracy';
  direction: 'minimize' | 'maximize';
  /** Epochs when the source does not say. */
  epochs: number;
  baseSeed: number;
  parallel?: number;
  /** Cap on trials of this run's kind, all runners together (undefined: the source decides when it is done). */
  maxTrials?: number;
  maxRetries: number;
  /** Stop after this many trials in a row failed for good (undefined: never). */
  maxConsecutiveFailures?: number;
  /** Which trials belong to this run (tuning trials vs sequence-length runs). */
  include?: (t: StoredTrial) => boolean;
  /** The full hyperparameters a trial runs with; throws a UserError when they are not valid. */
  resolveParams?: (suggested: Params, run: { epochs: number; seed: number }) => Params;
  /** Give failed trials another attempt: those whose cause may have been fixed since, or all. */
  retryFailed?: 'fixable' | 'all';
  /** Save each trial's best model under trials/<n>/model. */
  saveModels?: boolean;
  /** Multi-fidelity tuners: which checkpoints a promotion may continue, and when they may go. */
  checkpoints?: CheckpointPolicy;
  /** Shared store: a running trial without a heartbeat this long is lost (seconds; default 60). */
  heartbeatTimeoutS?: number;
  /** How often a running trial heart-beats (ms; default a quarter of the timeout, at most 10 s). */
  heartbeatEveryMs?: number;
  /** Shared store: first wait before asking again while others' trials run (ms; default 250). */
  pollMs?: number;
  /** This runner's name in the study (default HOST:PID; slots add #1, #2, … when parallel). */
  workerId?: string;
  onEvent?: (e: RunEvent) => void;
}

export interface RunOutcome {
  reason: StopReason;
  message: string;
  /** Every trial of this run's kind at the end. */
  trials: StoredTrial[];
  /** Trials this runner took to an outcome. */
  ran: number[];
  /** Milliseconds each claim took. */
  claimMs: number[];
}

interface Claimed {
  trial: StoredTrial;
  /** The hyperparameters it runs with, or why the trial's own make none (the study changed since). */
  params: Params | Error;
  attempt: number;
  worker: string;
  slot: number;
  index: number;
  plan: CheckpointPlan;
  claimMs: number;
}

type Claim = { kind: 'run'; claimed: Claimed } | { kind: 'wait'; running: number } | { kind: 'done'; byTuner: boolean };

/** How an attempt ends, as the store records it. */
type TrialOutcome = Extract<TrialEvent, { type: 'finished' | 'failed' }>;

const DEFAULT_HEARTBEAT_TIMEOUT_S = 60;

/** The names the slots of a runner go by in the study: HOST:PID, with #1, #2, … when several. */
export function workerIds(parallel: number, id = `${hostname()}:${process.pid}`): string[] {
  return parallel > 1 ? Array.from({ length: parallel }, (_, i) => `${id}#${i + 1}`) : [id];
}

function intermediate(t: StoredTrial, metric: 'val_loss' | 'val_accuracy'): number[] {
  const out: number[] = [];
  for (const m of t.curve) {
    const v = m[metric];
    if (isEpochSummary(m) && typeof v === 'number') out[m.epoch - 1] = v;
  }
  return out.filter((v) => v !== undefined);
}

/** The trials as the tuner sees them: a failure that will be re-run is still in flight. */
export function toHistory(trials: StoredTrial[], maxRetries: number, metric: 'val_loss' | 'val_accuracy', pending: (t: StoredTrial) => boolean = () => false): TrialRecord[] {
  return trials.map((t) => ({
    number: t.number,
    params: t.params,
    state: t.state === 'queued' || (t.state === 'failed' && (willRerun(t, maxRetries) || pending(t))) ? 'running' : t.state,
    ...(t.value !== undefined ? { value: t.value } : {}),
    intermediate: intermediate(t, metric),
    ...(t.epochs !== undefined ? { epochs: t.epochs } : {}),
    ...(t.tag ? { tag: t.tag } : {}),
  }));
}

function isBetter(a: number, b: number, direction: 'minimize' | 'maximize'): boolean {
  return direction === 'minimize' ? a < b : a > b;
}

export function bestTrial(trials: StoredTrial[], direction: 'minimize' | 'maximize'): StoredTrial | undefined {
  let best: StoredTrial | undefined;
  for (const t of trials) {
    if (t.state !== 'complete' || t.value === undefined || !Number.isFinite(t.value)) continue;
    if (!best || isBetter(t.value, best.value!, direction)) best = t;
  }
  return best;
}

export class StudyRunner {
  private stopping: StopReason | undefined;
  private stopMessage = '';
  private readonly aborts = new Set<AbortController>();
  private readonly wakers = new Set<() => void>();
  private readonly objectives = new Map<number, Objective>();
  /** Failed trials granted one more attempt by this run (their attempts when it began). */
  private retrying = new Map<number, number>();
  private consecutive: string[] = [];
  private best: { trial: number; value: number } | undefined;
  private readonly dropped = new Set<number>();
  private readonly ran: number[] = [];
  private readonly claimMs: number[] = [];

  constructor(private readonly o: RunnerOptions) {}

  /** Stops cleanly: running trials are cancelled and recorded failed('cancelled'), so they run again later. */
  stop(reason: StopReason = 'cancelled', message = 'stopped on request; run again with --resume to continue'): void {
    if (this.stopping) return;
    this.stopping = reason;
    this.stopMessage = message;
    for (const a of this.aborts) a.abort(reason);
    this.wake();
  }

  get isStopping(): boolean {
    return this.stopping !== undefined;
  }

  private emit(e: RunEvent): void {
    this.o.onEvent?.(e);
  }

  private wake(): void {
    for (const w of this.wakers) w();
  }

  private mine(trials: StoredTrial[]): StoredTrial[] {
    return this.o.include ? trials.filter(this.o.include) : trials;
  }

  async run(): Promise<RunOutcome> {
    const { store } = this.o;
    const parallel = this.o.parallel ?? 1;
    if (this.o.retryFailed) this.retrying = retriable(this.mine(await store.trials()), this.o.maxRetries, this.o.retryFailed);
    const slots = workerIds(parallel, this.o.workerId).map((worker, slot) => this.slot(slot, worker));
    let finished = false;
    try {
      finished = (await Promise.all(slots)).some(Boolean);
    } catch (e) {
      // One slot failed (the study is wrong): cancel the others' trials before handing back.
      this.stop('cancelled', `stopped by an error: ${(e as Error)?.message ?? String(e)}`);
      await Promise.allSettled(slots);
      throw e;
    } finally {
      await Promise.allSettled([...this.objectives.values()].map((ob) => ob.close?.()));
    }
    const reason = this.stopping ?? 'done';
    // The source has nothing left to promote: checkpoints kept for promotions can go (Hyperband).
    if (reason === 'done') await this.dropObsolete(finished);
    const message = reason === 'done' ? (store.shared ? 'nothing left to run in the study' : 'budget spent') : this.stopMessage;
    this.emit({ type: 'stopped', reason, message });
    return { reason, message, trials: this.mine(await store.trials()), ran: this.ran, claimMs: this.claimMs };
  }

  /** One slot's loop; true when it ended because the source is done. */
  private async slot(slot: number, worker: string): Promise<boolean> {
    let waits = 0;
    while (!this.stopping) {
      const lost = await this.o.store.expireLost(this.o.heartbeatTimeoutS ?? DEFAULT_HEARTBEAT_TIMEOUT_S);
      if (lost.length) this.emit({ type: 'recovered', trials: lost, reason: this.o.store.shared ? 'heartbeat lost' : 'interrupted' });
      const c = await this.claim(worker, slot);
      if (c.kind === 'done') return c.byTuner;
      if (c.kind === 'wait') {
        if (this.o.store.shared) this.emit({ type: 'waiting', running: c.running });
        await this.pause(waits++);
        continue;
      }
      waits = 0;
      this.claimMs.push(c.claimed.claimMs);
      if (await this.runTrial(c.claimed)) this.ran.push(c.claimed.trial.number);
      this.wake();
    }
    return false;
  }

  /**
   * Waits for a trial of this runner to end, or at most a poll interval (on a shared store
   * others' trials end unseen) that grows the longer they run: real training takes minutes.
   */
  private pause(waits: number): Promise<void> {
    return new Promise<void>((resolve) => {
      if (this.stopping) return resolve();
      const base = this.o.pollMs ?? 250;
      const timer = setTimeout(done, Math.min(Math.max(base, 2000), base * 2 ** Math.min(waits, 4)));
      const wakers = this.wakers;
      function done(): void {
        clearTimeout(timer);
        wakers.delete(done);
        resolve();
      }
      wakers.add(done);
    });
  }

  /** The atomic decision: re-run a queued or failed trial, or a new one from the source, or wait. */
  private claim(worker: string, slot: number): Promise<Claim> {
    const t0 = performance.now();
    const { store, maxRetries } = this.o;
    return store.claim<Claim>(async (ctx) => {
      const mine = this.mine(ctx.trials);
      this.noteBest(mine);
      const again = (t: StoredTrial): boolean => t.state === 'failed' && this.retrying.get(t.number) === (t.attempts ?? 0);
      const running = mine.filter((t) => t.state === 'running').length;
      let t = mine.find((x) => x.state === 'queued' || willRerun(x, maxRetries) || again(x));
      const events: TrialEvent[] = [];
      let params: Params | Error;
      if (t) {
        try {
          params = this.params(t.params, t);
        } catch (e) {
          params = e as Error;
        }
      } else {
        const capped = this.o.maxTrials !== undefined && mine.length >= this.o.maxTrials;
        const s = capped ? ({ kind: 'done' } as const) : this.o.source.suggest(toHistory(mine, maxRetries, this.o.metric, again), mine);
        // Done by the source, or only by the cap (a larger one may go on); a running trial may still need a re-run.
        if (s.kind !== 'trial') return { events: [], result: running ? { kind: 'wait', running } : { kind: 'done', byTuner: !capped } };
        const n = await ctx.nextNumber();
        const from = s.resumeFrom !== undefined ? mine.find((x) => x.number === s.resumeFrom) : undefined;
        const repeat = typeof s.tag?.repeat === 'number' ? s.tag.repeat : undefined;
        const created = {
          type: 'created',
          trial: n,
          params: s.params,
          epochs: s.epochs ?? this.o.epochs,
          seed: from?.seed ?? this.o.baseSeed + (repeat ?? 0),
          at: Date.now(),
          ...(s.tag ? { tag: s.tag } : {}),
          ...(s.resumeFrom !== undefined ? { resumeFrom: s.resumeFrom } : {}),
          ...(repeat !== undefined ? { repeat } : {}),
        } as const;
        // A suggestion that makes no valid hyperparameters is the study's fault: stop before any trial.
        params = this.params(s.params, created);
        events.push(created);
        t = replay([created])[0]!;
      }
      const attempt = (t.attempts ?? 0) + 1;
      const plan = await planCheckpoint(t, attempt, ctx, { stateDir: this.o.stateDir, shared: store.shared, keepsCheckpoints: !!this.o.checkpoints && !!store.putCheckpoint });
      // Its place among this run's trials: a new one comes after all of them.
      const index = events.length ? mine.length + 1 : mine.length;
      events.push({ type: 'started', trial: t.number, worker, attempt, resume: plan.kind === 'own' || plan.kind === 'local' || plan.kind === 'database', at: Date.now() });
      return { events, result: { kind: 'run', claimed: { trial: t, params, attempt, worker, slot, index, plan, claimMs: performance.now() - t0 } } };
    });
  }

  private params(suggested: Params, t: { epochs?: number; seed?: number }): Params {
    const run = { epochs: t.epochs ?? this.o.epochs, seed: t.seed ?? this.o.baseSeed };
    return this.o.resolveParams ? this.o.resolveParams(suggested, run) : suggested;
  }

  private noteBest(trials: StoredTrial[]): void {
    const b = bestTrial(trials, this.o.direction);
    if (b) this.offerBest(b.number, b.value!);
  }

  private offerBest(trial: number, value: number): void {
    if (!this.best || isBetter(value, this.best.value, this.o.direction)) this.best = { trial, value };
  }

  private objectiveFor(slot: number): Objective {
    let ob = this.objectives.get(slot);
    if (!ob) this.objectives.set(slot, (ob = this.o.objective(slot)));
    return ob;
  }

  /** Runs a claimed attempt; true when this runner wrote its outcome. */
  private async runTrial(c: Claimed): Promise<boolean> {
    const { store } = this.o;
    const t = c.trial;
    const epochs = t.epochs ?? this.o.epochs;
    const abort = new AbortController();
    this.aborts.add(abort);
    let takenOver = false;
    const timeoutMs = (this.o.heartbeatTimeoutS ?? DEFAULT_HEARTBEAT_TIMEOUT_S) * 1000;
    const beat = setInterval(() => {
      void store.heartbeat(t.number, c.worker, c.attempt).then((ours) => {
        if (ours === false && !takenOver) {
          takenOver = true;
          abort.abort('taken-over');
        }
      }, () => undefined);
    }, this.o.heartbeatEveryMs ?? Math.min(10_000, Math.max(100, timeoutMs / 4)));
    try {
      // Heart-beating already: fetching a large checkpoint can take a while.
      const origin = await materialise(c.plan, t, this.o.stateDir, store);
      if (origin) {
        const epoch = origin.source === 'own' ? lastEpoch(t.curve) : origin.epoch;
        const at = { ...origin, attempt: c.attempt, ...(epoch !== undefined ? { epoch } : {}) };
        await store.append({ type: 'checkpoint', trial: t.number, at: Date.now(), ...at });
        this.emit({ type: 'checkpoint', trial: t.number, epochs, ...at });
      }
      const resume = origin !== undefined && origin.source !== 'none';
      this.emit({ type: 'trial-started', trial: t.number, worker: c.worker, params: t.params, attempt: c.attempt, resume, epochs, index: c.index, ...(this.o.maxTrials !== undefined ? { total: this.o.maxTrials } : {}), ...(t.tag ? { tag: t.tag } : {}) });
      const outcome = await this.attempt(c, { epochs, resume, abort, takenOver: () => takenOver });
      return await this.finish(c, outcome.event, outcome.last, epochs);
    } finally {
      clearInterval(beat);
      this.aborts.delete(abort);
    }
  }

  /** The objective's run of one attempt, its metrics journaled in order, as the trial's final event. */
  private async attempt(c: Claimed, a: { epochs: number; resume: boolean; abort: AbortController; takenOver: () => boolean }): Promise<{ event: TrialOutcome; last?: number }> {
    const { store } = this.o;
    const t = c.trial;
    let last = a.resume ? lastEpoch(t.curve) : undefined;
    let writes: Promise<void> = Promise.resolve();
    const onMetric = (m: Metric): void => {
      if (isEpochSummary(m)) last = m.epoch;
      writes = writes.then(() => store.append({ type: 'metric', trial: t.number, metric: m, at: Date.now() })).catch(() => undefined);
      this.emit({ type: 'metric', trial: t.number, metric: m });
    };
    const onLog = (level: 'debug' | 'info' | 'warn' | 'error', text: string): void => this.emit({ type: 'log', trial: t.number, level, text });
    let event: TrialOutcome;
    try {
      if (c.params instanceof Error) throw c.params;
      const spec: TrialSpec = { number: t.number, params: c.params, epochs: a.epochs, seed: t.seed ?? this.o.baseSeed, checkpointDir: checkpointDir(this.o.stateDir, t.number), resume: a.resume, attempt: c.attempt, ...(this.o.saveModels ? { saveBestTo: join(trialDir(this.o.stateDir, t.number), 'model') } : {}) };
      const r = await this.objectiveFor(c.slot).run(spec, { onMetric, onLog, signal: a.abort.signal });
      if (!Number.isFinite(r.value)) throw new TrialFailure(`objective ${this.o.metric} is ${r.value} (training diverged: learning rate too high?)`, 'nan');
      event = { type: 'finished', trial: t.number, value: r.value, result: r.result, at: Date.now() };
    } catch (e) {
      const reason: FailureReason = a.takenOver() ? 'interrupted' : this.stopping || a.abort.signal.aborted ? 'cancelled' : e instanceof TrialFailure ? e.reason : isEnvironmentFault(e) ? 'environment' : isUserError(e) ? 'user' : 'error';
      const cause = reason === 'interrupted' ? "another worker took the trial over after this worker's heartbeats stopped" : reason === 'cancelled' ? 'stopped by the user' : ((e as Error)?.message ?? String(e));
      event = { type: 'failed', trial: t.number, reason, cause, at: Date.now() };
    }
    await writes;
    return { event, ...(last !== undefined ? { last } : {}) };
  }

  /** Stores a promotable checkpoint, writes the outcome if the attempt is still ours, applies the failure policy. */
  private async finish(c: Claimed, outcome: TrialOutcome, last: number | undefined, epochs: number): Promise<boolean> {
    const { store } = this.o;
    const t = c.trial;
    const promotable = outcome.type === 'finished' && !!this.o.checkpoints?.promotable({ ...t, epochs });
    const ckpt = checkpointDir(this.o.stateDir, t.number);
    // Its checkpoint goes into a shared store before its result, so whoever sees it finished can fetch it.
    let stored = false;
    if (promotable && store.putCheckpoint && hasCheckpoint(ckpt)) {
      const t0 = performance.now();
      try {
        const r = await store.putCheckpoint(t.number, c.attempt, c.worker, ckpt, last);
        if (r !== 'taken-over') {
          stored = true;
          this.emit({ type: 'checkpoint-stored', trial: t.number, attempt: c.attempt, bytes: r.bytes, files: r.files.length, ms: Math.round(performance.now() - t0) });
        }
      } catch (e) {
        this.emit({ type: 'log', trial: t.number, level: 'warn', text: `could not store the checkpoint of trial ${t.number} in the database (a promotion elsewhere will train from scratch): ${(e as Error)?.message ?? String(e)}` });
      }
    }
    // Kept here and retried by the store until it has it; the heartbeat runs meanwhile.
    if ((await store.finish(outcome, c.worker, c.attempt)) === 'taken-over') {
      if (stored) await store.dropCheckpoints?.([t.number], c.attempt).catch(() => 0);
      this.emit({ type: 'taken-over', trial: t.number });
      return false;
    }
    if (promotable) markFinished(this.o.stateDir, t.number, c.attempt, last);
    this.afterTrial(outcome, t);
    await this.dropObsolete(false);
    return true;
  }

  private afterTrial(outcome: TrialOutcome, t: StoredTrial): void {
    if (outcome.type === 'finished') {
      this.consecutive = [];
      this.offerBest(outcome.trial, outcome.value);
      this.emit({ type: 'trial-finished', trial: outcome.trial, value: outcome.value, result: outcome.result, best: this.best! });
      return;
    }
    const reason = outcome.reason as FailureReason;
    const after: StoredTrial = { ...t, state: 'failed', failures: [...(t.failures ?? []), { reason, at: outcome.at }] };
    const retry = !this.stopping && willRerun(after, this.o.maxRetries);
    this.emit({ type: 'trial-failed', trial: outcome.trial, reason, message: outcome.cause ?? reason, willRetry: retry || notTheTrialsFault(reason) });
    if (retry || notTheTrialsFault(reason)) return;
    // Only a failure for good counts: a trial that will be re-run has not failed yet.
    this.consecutive.push(reason);
    const max = this.o.maxConsecutiveFailures;
    if (max !== undefined && this.consecutive.length >= max) {
      this.stop(
        'failures',
        `study stopped: ${this.consecutive.length} trials in a row failed (${this.consecutive.join(', ')}; last: ${outcome.cause ?? reason}). ` +
          `What to change: ${failureAdvice(this.consecutive)}. ` +
          `The limit is budget.max_consecutive_failed_trials (${max}); after changing the study file, continue with --resume.`,
      );
    }
  }

  /** Deletes kept checkpoints that no promotion can need any more (never fails the run). */
  private async dropObsolete(done: boolean): Promise<void> {
    const { store } = this.o;
    const policy = this.o.checkpoints;
    if (!policy || !store.dropCheckpoints) return;
    try {
      const gone = policy.obsolete(this.mine(await store.trials()), done).filter((n) => !this.dropped.has(n));
      if (!gone.length) return;
      const count = await store.dropCheckpoints(gone);
      for (const n of gone) this.dropped.add(n);
      if (count) this.emit({ type: 'checkpoints-dropped', trials: gone, count });
    } catch (e) {
      this.emit({ type: 'log', level: 'warn', text: `could not delete stored checkpoints: ${(e as Error)?.message ?? String(e)}` });
    }
  }
}
