/**
 * Study storage interface. The local journal and the PostgreSQL store implement it; nothing
 * above this interface knows which one it talks to. State is derived from events, never stored
 * twice.
 */
import type { Metric, Params } from '../protocol/messages';
import type { CheckpointOrigin } from '../protocol/run-events';
import type { TrialEvent } from './events';

export type { CheckpointOrigin, TrialEvent };

export interface StoredTrial {
  number: number;
  params: Params;
  state: 'queued' | 'running' | 'complete' | 'failed' | 'pruned';
  value?: number;
  values?: number[];
  curve: Metric[];
  result?: Record<string, unknown>;
  error?: string;
  tag?: Record<string, unknown>;
  epochs?: number;
  resumeFrom?: number;
  seed?: number;
  startedAt?: number;
  finishedAt?: number;
  worker?: string;
  /** How many times the trial was started (re-runs after a failure or an interruption). */
  attempts?: number;
  /** Every failure, oldest first: reason ('interrupted', 'cancelled', 'nan', 'oom', …) and detail. */
  failures?: Array<{ reason: string; cause?: string; at: number }>;
  /** Epoch at which a pruned trial was stopped. */
  prunedAt?: number;
  /** Where the latest attempt started from (promoted trials and resumed re-runs). */
  checkpoint?: CheckpointOrigin;
}

/** One file of a checkpoint kept in a shared store: its size and SHA-256 check the fetched copy. */
export interface CheckpointFile {
  name: string;
  size: number;
  sha256: string;
}

/** A checkpoint folder kept in a shared store, so a promotion can continue it on another machine. */
export interface StoredCheckpoint {
  trial: number;
  attempt: number;
  /** Last epoch in the checkpoint (the trial's last epoch summary), when known. */
  epoch: number | null;
  bytes: number;
  files: CheckpointFile[];
  worker: string | null;
}

/** What a claim sees: the whole study as of the claim (no other claim runs meanwhile). */
export interface ClaimContext {
  trials: StoredTrial[];
  /** The next free trial number of the study. */
  nextNumber(): Promise<number>;
  /** The checkpoint the store keeps of one attempt of a trial (shared stores), if any. */
  checkpoint(trial: number, attempt: number): Promise<StoredCheckpoint | undefined>;
}

/** What a claim decided: the events to commit and what to hand back. */
export interface ClaimDecision<T> {
  events: TrialEvent[];
  result: T;
}

export type FinishOutcome = 'written' | 'already-written' | 'taken-over';

/**
 * A study's storage. Runners lease trials from it: `claim` decides and records what to run
 * (atomically, against every other runner of the study), `heartbeat` keeps a running trial's
 * lease, `finish` ends it, and `expireLost` hands the trials of runners that went away back to
 * the study. The journal leases through its lock (one writing process); PostgreSQL through
 * transactions and heartbeats, for runners on many machines.
 */
export interface StudyStore {
  /** Where the study lives, for messages: a path, or a URL without its password. */
  readonly where: string;
  /** Trials may run on other machines (their checkpoints are not on this one). */
  readonly shared: boolean;
  /** Appends one event durably (fsync / commit) before returning. */
  append(event: TrialEvent): Promise<void>;
  /** Current state rebuilt from every event, as a snapshot the caller may keep or change. */
  trials(): Promise<StoredTrial[]>;
  /**
   * Runs `decide` on the current trials and commits the events it returns, with no other claim
   * of the study in between. `decide` may run again after a transient failure: it must not keep state.
   */
  claim<T>(decide: (ctx: ClaimContext) => Promise<ClaimDecision<T>> | ClaimDecision<T>): Promise<T>;
  /** Keeps the lease of a running attempt. false: it is no longer this worker's; undefined: unknown now. */
  heartbeat(trial: number, worker: string, attempt: number): Promise<boolean | undefined>;
  /**
   * Writes a trial's final event if this worker's attempt still holds it. Idempotent: writing the
   * same outcome again answers 'already-written'.
   */
  finish(outcome: TrialEvent, worker: string, attempt: number): Promise<FinishOutcome>;
  /** Marks failed the running trials whose runner went away; their numbers. */
  expireLost(heartbeatTimeoutS: number): Promise<number[]>;
  /** Shared stores keep the checkpoints a promotion may continue on another machine. */
  putCheckpoint?(trial: number, attempt: number, worker: string, dir: string, epoch?: number): Promise<StoredCheckpoint | 'taken-over'>;
  fetchCheckpoint?(info: StoredCheckpoint, dest: string): Promise<void>;
  /** Deletes kept checkpoints: every attempt of `trials`, or one attempt; how many went. */
  dropCheckpoints?(trials: number[], attempt?: number): Promise<number>;
  close(): Promise<void>;
}
