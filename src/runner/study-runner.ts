/**
 * The study runner: where tuners and training meet, through plain data. Each step replays the
 * store, asks the tuner what to run next, records the trial (created → started → metrics →
 * finished | failed | pruned) and runs the objective. Everything the runner knows comes back
 * from the store, so a killed study resumes by simply running again.
 */
import { cpSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { writeFileAtomic } from '../core/fsutil';
import { join } from 'node:path';
import type { Metric, Params } from '../protocol/messages';
import { isEpochSummary, lastEpoch } from '../store/replay';
import type { CheckpointOrigin, StoredTrial, StudyStore, TrialEvent } from '../store/types';
import type { Suggestion, TrialRecord } from '../tuners/types';
import { hasCheckpoint, TrialFailure, type FailureReason, type Objective, type TrialSpec } from './objective';

/** A tuner, or anything that plans trials like one (the sequence-length study). */
export interface TrialSource {
  readonly name: string;
  suggest(history: TrialRecord[], stored: StoredTrial[]): Suggestion;
  shouldPrune?(trial: TrialRecord, epoch: number, history: TrialRecord[]): boolean;
}

export type RunnerEvent =
  | { type: 'recovered'; trials: number[] }
  | { type: 'trial-started'; trial: number; params: Params; attempt: number; resume: boolean; epochs: number; index: number; total?: number; tag?: Record<string, unknown> }
  | { type: 'metric'; trial: number; metric: Metric }
  | { type: 'log'; trial: number; level: string; text: string }
  | { type: 'trial-finished'; trial: number; value: number; result: Record<string, unknown>; best: { trial: number; value: number } }
  | { type: 'trial-failed'; trial: number; reason: FailureReason; message: string; willRetry: boolean }
  | { type: 'trial-pruned'; trial: number; epoch: number }
  | { type: 'stopped'; reason: StopReason; message: string };

export type StopReason = 'done' | 'cancelled' | 'failures';

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
  /** Cap on trials of this run's kind (undefined: the source decides when it is done). */
  maxTrials?: number;
  maxRetries: number;
  /** Stop after this many trials in a row failed for good (undefined: never). */
  maxConsecutiveFailures?: number;
  /** Which journal trials belong to this run (tuning trials vs sequence-length runs). */
  include?: (t: StoredTrial) => boolean;
  /** Save each trial's best model under trials/<n>/model. */
  saveModels?: boolean;
  /** Could a later promotion continue this finished trial? (then it is marked finished here) */
  promotable?: (t: StoredTrial) => boolean;
  onEvent?: (e: RunnerEvent) => void;
}

export interface RunOutcome {
  reason: StopReason;
  message: string;
  trials: StoredTrial[];
}

/** Failures that say nothing about the configuration: re-run without counting a retry. */
const NOT_THE_TRIALS_FAULT = new Set(['interrupted', 'cancelled']);

export function realFailures(t: StoredTrial): number {
  return (t.failures ?? []).filter((f) => !NOT_THE_TRIALS_FAULT.has(f.reason)).length;
}

/** Will this failed trial run again (now, or on resume)? */
export function willRerun(t: StoredTrial, maxRetries: number): boolean {
  if (t.state !== 'failed') return false;
  const last = t.failures?.[t.failures.length - 1];
  if (last && last.reason === 'user') return false; // bad input: the same run fails the same way
  if (last && NOT_THE_TRIALS_FAULT.has(last.reason)) return true;
  return realFailures(t) <= maxRetries;
}

export function trialDir(stateDir: string, n: number): string {
  return join(stateDir, 'trials', String(n));
}

/** What the objective runs for one attempt of trial `t`; the best model goes to `trials/<n>/model` when models are saved. */
export function trialSpec(
  t: StoredTrial,
  run: { epochs: number; checkpointDir: string; resume: boolean; attempt: number },
  o: { stateDir: string; baseSeed: number; saveModels?: boolean },
): TrialSpec {
  return {
    number: t.number,
    params: t.params,
    epochs: run.epochs,
    seed: t.seed ?? o.baseSeed,
    checkpointDir: run.checkpointDir,
    resume: run.resume,
    attempt: run.attempt,
    ...(o.saveModels ? { saveBestTo: join(trialDir(o.stateDir, t.number), 'model') } : {}),
  };
}

/**
 * `trials/<n>/finished.json`: the attempt that finished the trial ran on this machine, so the
 * checkpoint beside it is that attempt's whole one (a shared study's worker then continues it
 * here instead of fetching the database copy).
 */
const FINISHED_MARK = 'finished.json';

export function markFinished(stateDir: string, n: number, attempt: number, epoch?: number): void {
  writeFileAtomic(join(trialDir(stateDir, n), FINISHED_MARK), JSON.stringify({ attempt, ...(epoch !== undefined ? { epoch } : {}) }) + '\n');
}

/** The attempt that finished trial `n` on this machine, if it did. */
export function finishedHere(stateDir: string, n: number): number | undefined {
  try {
    return (JSON.parse(readFileSync(join(trialDir(stateDir, n), FINISHED_MARK), 'utf8')) as { attempt?: number }).attempt;
  } catch {
    return undefined;
  }
}

/** Objective values per epoch (epoch summaries only), for pruning and multi-fidelity tuners. */
/**
 * Makes a trial's folder and says whether it resumes: from its own checkpoint, or, for a
 * promotion, from a copy of the earlier trial's (whose own checkpoint stays intact). A promoted
 * trial whose source checkpoint is not on this machine trains from scratch, and `origin` says so
 * (the runner records it in the trial). (Shared studies: the PostgreSQL worker also fetches the
 * source checkpoint from the database; see store/postgres/worker-loop.ts.)
 */
export function prepareCheckpoint(stateDir: string, t: StoredTrial): { checkpointDir: string; resume: boolean; origin?: CheckpointOrigin } {
  const dir = trialDir(stateDir, t.number);
  const checkpointDir = join(dir, 'checkpoint');
  mkdirSync(dir, { recursive: true });
  if (hasCheckpoint(checkpointDir)) return { checkpointDir, resume: true, origin: { source: 'own' } };
  if (t.resumeFrom !== undefined) {
    const from = join(trialDir(stateDir, t.resumeFrom), 'checkpoint');
    if (hasCheckpoint(from)) {
      rmSync(checkpointDir, { recursive: true, force: true });
      cpSync(from, checkpointDir, { recursive: true });
      return { checkpointDir, resume: true, origin: { source: 'local', from: t.resumeFrom } };
    }
    return { checkpointDir, resume: false, origin: { source: 'none', from: t.resumeFrom, reason: `the checkpoint of trial ${t.resumeFrom} is not in ${from}` } };
  }
  return { checkpointDir, resume: false };
}

export function intermediate(t: StoredTrial, metric: 'val_loss' | 'val_accuracy'): number[] {
  const out: number[] = [];
  for (const m of t.curve) {
    const v = m[metric];
    if (isEpochSummary(m) && typeof v === 'number') out[m.epoch - 1] = v;
  }
  return out.filter((v) => v !== undefined);
}

export function toHistory(trials: StoredTrial[], maxRetries: number, metric: 'val_loss' | 'val_accuracy'): TrialRecord[] {
  return trials.map((t) => ({
    number: t.number,
    params: t.params,
    // A failure that will be re-run is still in flight as far as the tuner is concerned.
    state: t.state === 'queued' || (t.state === 'failed' && willRerun(t, maxRetries)) ? 'running' : t.state,
    ...(t.value !== undefined ? { value: t.value } : {}),
    intermediate: intermediate(t, metric),
    ...(t.epochs !== undefined ? { epochs: t.epochs } : {}),
    ...(t.tag ? { tag: t.tag } : {}),
  }));
}

export function isBetter(a: number, b: number, direction: 'minimize' | 'maximize'): boolean {
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

/** What to tell the user when trials keep failing. */
export function failureAdvice(reasons: string[]): string {
  const tips = new Set<string>();
  for (const r of reasons) {
    if (r === 'nan') tips.add('the loss became NaN: lower the upper bound of searchSpace.learning_rate, or raise warmup_steps');
    else if (r === 'oom') tips.add('out of memory: lower the largest batch_size / max_seq_len in the search space, or raise training.memoryBudgetMiB if the machine has the memory');
    else if (r === 'crash') tips.add('the worker process died: check memory (dmesg) and the worker log');
    else if (r === 'user') tips.add('the trial input is invalid: fix the study file or data named in the error');
    else tips.add('read the error of the last failed trial (trialbook report STUDY)');
  }
  return [...tips].join('; ');
}

export class StudyRunner {
  private stopping: StopReason | undefined;
  private stopMessage = '';
  private readonly running = new Map<number, { promise: Promise<void>; abort: AbortController; prunedAt?: number }>();
  private readonly freeSlots: number[] = [];
  private readonly objectives = new Map<number, Objective>();
  private consecutive: string[] = [];
  private history: TrialRecord[] = [];
  private best: { trial: number; value: number } | undefined;

  constructor(private readonly o: RunnerOptions) {
    for (let s = (o.parallel ?? 1) - 1; s >= 0; s--) this.freeSlots.push(s);
  }

  private emit(e: RunnerEvent): void {
    this.o.onEvent?.(e);
  }

  private include(t: StoredTrial): boolean {
    return this.o.include ? this.o.include(t) : true;
  }

  private async mine(): Promise<StoredTrial[]> {
    return (await this.o.store.trials()).filter((t) => this.include(t));
  }

  /** Stops cleanly: running trials are cancelled and recorded failed('cancelled'), so resume re-runs them. */
  stop(reason: StopReason = 'cancelled', message = 'stopped on request; run again with --resume to continue'): void {
    if (this.stopping) return;
    this.stopping = reason;
    this.stopMessage = message;
    for (const r of this.running.values()) r.abort.abort(reason);
  }

  get isStopping(): boolean {
    return this.stopping !== undefined;
  }

  async run(): Promise<RunOutcome> {
    const parallel = this.o.parallel ?? 1;
    // A trial that was running when the last process died: record why, then re-run it below.
    const orphans = (await this.mine()).filter((t) => t.state === 'running' || t.state === 'queued');
    for (const t of orphans) await this.o.store.append({ type: 'failed', trial: t.number, reason: 'interrupted', cause: 'the process running it stopped', at: Date.now() });
    if (orphans.length) this.emit({ type: 'recovered', trials: orphans.map((t) => t.number) });
    const prevBest = bestTrial(await this.mine(), this.o.direction);
    if (prevBest) this.best = { trial: prevBest.number, value: prevBest.value! };
    try {
      while (!this.stopping) {
        if (this.running.size >= parallel) {
          await this.waitOne();
          continue;
        }
        const trials = await this.mine();
        this.history = toHistory(trials, this.o.maxRetries, this.o.metric);
        const rerun = trials.find((t) => willRerun(t, this.o.maxRetries) && !this.running.has(t.number));
        if (rerun) {
          this.launch(rerun, trials.length);
          continue;
        }
        const capped = this.o.maxTrials !== undefined && trials.length >= this.o.maxTrials;
        const s: Suggestion = capped ? { kind: 'done' } : this.o.source.suggest(this.history, trials);
        if (s.kind !== 'trial') {
          if (this.running.size === 0) {
            if (s.kind === 'wait') throw new Error(`${this.o.source.name}: tuner waits although no trial is running`);
            break;
          }
          await this.waitOne();
          continue;
        }
        const n = await this.o.store.nextTrialNumber();
        const source = s.resumeFrom !== undefined ? trials.find((t) => t.number === s.resumeFrom) : undefined;
        const repeat = typeof s.tag?.repeat === 'number' ? s.tag.repeat : undefined;
        const seed = source?.seed ?? this.o.baseSeed + (repeat ?? 0);
        const ev: TrialEvent = {
          type: 'created',
          trial: n,
          params: s.params,
          epochs: s.epochs ?? this.o.epochs,
          seed,
          at: Date.now(),
          ...(s.tag ? { tag: s.tag } : {}),
          ...(s.resumeFrom !== undefined ? { resumeFrom: s.resumeFrom } : {}),
          ...(repeat !== undefined ? { repeat } : {}),
        };
        await this.o.store.append(ev);
        const created = (await this.o.store.trials()).find((t) => t.number === n)!;
        this.launch(created, trials.length + 1);
      }
      while (this.running.size) await this.waitOne();
    } finally {
      // Cancel anything still running (an exception above) before handing back.
      for (const r of this.running.values()) r.abort.abort('cancelled');
      await Promise.allSettled([...this.running.values()].map((r) => r.promise));
      await Promise.allSettled([...this.objectives.values()].map((ob) => ob.close?.()));
    }
    const reason = this.stopping ?? 'done';
    const trials = await this.mine();
    const message = reason === 'done' ? 'budget spent' : this.stopMessage;
    this.emit({ type: 'stopped', reason, message });
    return { reason, message, trials };
  }

  private async waitOne(): Promise<void> {
    await Promise.race([...this.running.values()].map((r) => r.promise));
  }

  private launch(t: StoredTrial, index: number): void {
    const slot = this.freeSlots.pop()!;
    const abort = new AbortController();
    const entry: { promise: Promise<void>; abort: AbortController; prunedAt?: number } = { promise: Promise.resolve(), abort };
    this.running.set(t.number, entry);
    entry.promise = this.runTrial(t, slot, entry, index).finally(() => {
      this.running.delete(t.number);
      this.freeSlots.push(slot);
    });
  }

  private objectiveFor(slot: number): Objective {
    let ob = this.objectives.get(slot);
    if (!ob) this.objectives.set(slot, (ob = this.o.objective(slot)));
    return ob;
  }

  private async runTrial(t: StoredTrial, slot: number, entry: { abort: AbortController; prunedAt?: number }, index: number): Promise<void> {
    const { store } = this.o;
    const { checkpointDir, resume, origin } = prepareCheckpoint(this.o.stateDir, t);
    const attempt = (t.attempts ?? 0) + 1;
    const objective = this.objectiveFor(slot);
    const epochs = t.epochs ?? this.o.epochs;
    await store.append({ type: 'started', trial: t.number, worker: `${objective.name}#${slot}`, attempt, resume, at: Date.now() });
    // A promotion records where it started from; one without its source checkpoint says so.
    if (origin && t.resumeFrom !== undefined) {
      const src = (await store.trials()).find((x) => x.number === t.resumeFrom);
      const epoch = origin.source === 'local' && src ? lastEpoch(src.curve) : undefined;
      await store.append({ type: 'checkpoint', trial: t.number, at: Date.now(), ...origin, attempt, ...(epoch !== undefined ? { epoch } : {}) });
      if (origin.source === 'none') this.emit({ type: 'log', trial: t.number, level: 'warn', text: `promoted from trial ${t.resumeFrom}, but ${origin.reason}: training from scratch for all ${epochs} epochs` });
    }
    this.emit({ type: 'trial-started', trial: t.number, params: t.params, attempt, resume, epochs, index, ...(this.o.maxTrials !== undefined ? { total: this.o.maxTrials } : {}), ...(t.tag ? { tag: t.tag } : {}) });
    const spec = trialSpec(t, { epochs, checkpointDir, resume, attempt }, this.o);
    // Metric lines are appended in order, and all of them before the trial's final event.
    let writes: Promise<void> = Promise.resolve();
    const curve: number[] = [];
    let last = resume ? lastEpoch(t.curve) : undefined;
    if (resume) for (const m of t.curve) if (isEpochSummary(m) && typeof m[this.o.metric] === 'number') curve[m.epoch - 1] = m[this.o.metric] as number;
    const onMetric = (m: Metric): void => {
      if (isEpochSummary(m)) last = m.epoch;
      writes = writes.then(() => store.append({ type: 'metric', trial: t.number, metric: m, at: Date.now() }));
      this.emit({ type: 'metric', trial: t.number, metric: m });
      const v = m[this.o.metric];
      if (!isEpochSummary(m) || typeof v !== 'number' || !this.o.source.shouldPrune || entry.prunedAt !== undefined) return;
      curve[m.epoch - 1] = v;
      const record: TrialRecord = { number: t.number, params: t.params, state: 'running', intermediate: curve.filter((x) => x !== undefined), epochs, ...(t.tag ? { tag: t.tag } : {}) };
      if (this.o.source.shouldPrune(record, m.epoch, this.history)) {
        entry.prunedAt = m.epoch;
        entry.abort.abort('pruned');
      }
    };
    const onLog = (level: 'debug' | 'info' | 'warn' | 'error', text: string): void => this.emit({ type: 'log', trial: t.number, level, text });
    let outcome: TrialEvent;
    try {
      const r = await objective.run(spec, { onMetric, onLog, signal: entry.abort.signal });
      if (!Number.isFinite(r.value)) throw new TrialFailure(`objective ${this.o.metric} is ${r.value} (training diverged: learning rate too high?)`, 'nan');
      outcome = { type: 'finished', trial: t.number, value: r.value, result: r.result, at: Date.now() };
    } catch (e) {
      if (entry.prunedAt !== undefined) outcome = { type: 'pruned', trial: t.number, epoch: entry.prunedAt, at: Date.now() };
      else if (this.stopping || entry.abort.signal.aborted) outcome = { type: 'failed', trial: t.number, reason: 'cancelled', cause: 'stopped by the user', at: Date.now() };
      else {
        const reason: FailureReason = e instanceof TrialFailure ? e.reason : 'error';
        outcome = { type: 'failed', trial: t.number, reason, cause: (e as Error)?.message ?? String(e), at: Date.now() };
      }
    }
    await writes.catch(() => undefined);
    await store.append(outcome);
    if (outcome.type === 'finished' && this.o.promotable?.({ ...t, epochs })) markFinished(this.o.stateDir, t.number, attempt, last);
    this.afterTrial(outcome, t);
  }

  private afterTrial(outcome: TrialEvent, t: StoredTrial): void {
    if (outcome.type === 'finished') {
      this.consecutive = [];
      if (!this.best || isBetter(outcome.value, this.best.value, this.o.direction)) this.best = { trial: outcome.trial, value: outcome.value };
      const best = this.best;
      this.emit({ type: 'trial-finished', trial: outcome.trial, value: outcome.value, result: outcome.result, best });
    } else if (outcome.type === 'pruned') {
      this.consecutive = [];
      this.emit({ type: 'trial-pruned', trial: outcome.trial, epoch: outcome.epoch });
    } else if (outcome.type === 'failed') {
      const failures = [...(t.failures ?? []), { reason: outcome.reason, at: outcome.at }];
      const after: StoredTrial = { ...t, state: 'failed', failures };
      const retry = !this.stopping && willRerun(after, this.o.maxRetries);
      const reason = outcome.reason as FailureReason;
      this.emit({ type: 'trial-failed', trial: outcome.trial, reason, message: outcome.cause ?? reason, willRetry: retry || NOT_THE_TRIALS_FAULT.has(reason) });
      if (!retry && !NOT_THE_TRIALS_FAULT.has(reason)) {
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
    }
  }
}
