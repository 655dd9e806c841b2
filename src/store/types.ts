/**
 * Study storage interface. The local journal and the PostgreSQL store implement it; nothing
 * above this interface knows which one it talks to. State is derived from events, never stored
 * twice.
 */
import type { Metric, Params } from '../protocol/messages';

export type TrialEvent =
  | { type: 'created'; trial: number; params: Params; tag?: Record<string, unknown>; epochs?: number; resumeFrom?: number; repeat?: number; seed?: number; at: number }
  | { type: 'started'; trial: number; worker: string; attempt?: number; resume?: boolean; at: number }
  | { type: 'metric'; trial: number; metric: Metric; at: number }
  | { type: 'finished'; trial: number; value: number; values?: number[]; result: Record<string, unknown>; at: number }
  | { type: 'failed'; trial: number; reason: string; cause?: string; at: number }
  | { type: 'pruned'; trial: number; epoch: number; at: number }
  | { type: 'heartbeat'; trial: number; worker: string; at: number }
  | ({ type: 'checkpoint'; trial: number; at: number } & CheckpointOrigin);

/**
 * Where an attempt's starting weights came from: its own earlier checkpoint ('own'), the
 * checkpoint of the trial it was promoted from (`from`) found on this machine ('local') or
 * fetched from the shared database ('database'), or nothing: trained from scratch for the whole
 * budget ('none', with the reason). Recorded for every promoted trial, so no fallback is silent.
 */
export interface CheckpointOrigin {
  source: 'own' | 'local' | 'database' | 'none';
  attempt?: number;
  /** The trial whose checkpoint was continued (promotions). */
  from?: number;
  /** Last epoch in that checkpoint, when known: training continued at epoch + 1. */
  epoch?: number;
  /** Fetched from the database: size and time taken. */
  bytes?: number;
  ms?: number;
  /** Why there was no checkpoint to continue. */
  reason?: string;
}

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

export interface StudyStore {
  /** Appends one event durably (fsync / commit) before returning. */
  append(event: TrialEvent): Promise<void>;
  /** Current state rebuilt from every event. */
  trials(): Promise<StoredTrial[]>;
  /** Reserves the next trial number atomically. */
  nextTrialNumber(): Promise<number>;
  close(): Promise<void>;
}
