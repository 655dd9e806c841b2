/**
 * Where an attempt starts from: its own checkpoint (a re-run), the checkpoint of the trial it
 * was promoted from (Hyperband, ASHA) found on this machine or, for a shared study, fetched
 * from the store, or nothing (from scratch, and a promotion records why). Planned inside the
 * claim, which only looks; carried out after it, so a large fetch never holds up other claims.
 */
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../core/fsutil';
import { sha256 } from '../core/hash';
import { lastEpoch } from '../protocol/curve';
import type { CheckpointOrigin, ClaimContext, StoredCheckpoint, StoredTrial, StudyStore } from '../store/types';

export type CheckpointPlan =
  | { kind: 'fresh' }
  | { kind: 'own' }
  | { kind: 'local'; from: number; epoch?: number }
  | { kind: 'database'; from: number; info: StoredCheckpoint }
  | { kind: 'none'; from: number; reason: string };

export function trialDir(stateDir: string, n: number): string {
  return join(stateDir, 'trials', String(n));
}

/** Where trial `n`'s epoch checkpoints go (the engine's checkpointDir). */
export function checkpointDir(stateDir: string, n: number): string {
  return join(trialDir(stateDir, n), 'checkpoint');
}

export function hasCheckpoint(dir: string): boolean {
  try {
    return readdirSync(dir).some((f) => !f.startsWith('.'));
  } catch {
    return false;
  }
}

/**
 * `trials/<n>/finished.json`: the attempt that finished the trial ran on this machine, so the
 * checkpoint beside it is that attempt's whole one (a promotion continues it here instead of
 * fetching the store's copy).
 */
const FINISHED_MARK = 'finished.json';

export function markFinished(stateDir: string, n: number, attempt: number, epoch?: number): void {
  writeFileAtomic(join(trialDir(stateDir, n), FINISHED_MARK), JSON.stringify({ attempt, ...(epoch !== undefined ? { epoch } : {}) }) + '\n');
}

function finishedHere(stateDir: string, n: number): number | undefined {
  try {
    return (JSON.parse(readFileSync(join(trialDir(stateDir, n), FINISHED_MARK), 'utf8')) as { attempt?: number }).attempt;
  } catch {
    return undefined;
  }
}

/**
 * `checkpoint/.owner.json`: the trial a checkpoint folder belongs to (its number, a hash of its
 * hyperparameters, its seed), written when an attempt starts. A folder another trial left — the
 * journal removed or replaced, a study started over under the same name — is then never
 * continued as if it were this trial's. Hidden, so it is not part of the checkpoint itself.
 */
const OWNER = '.owner.json';

function ownerOf(t: Pick<StoredTrial, 'number' | 'params' | 'seed'>): string {
  const params = Object.fromEntries(Object.entries(t.params).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return JSON.stringify({ trial: t.number, params: sha256(JSON.stringify(params)), seed: t.seed ?? null });
}

function markOwner(dir: string, t: StoredTrial): void {
  writeFileAtomic(join(dir, OWNER), ownerOf(t) + '\n');
}

/** Does the folder hold a checkpoint of one of these trials? (One from before owners were recorded is taken as it is.) */
function ownedBy(dir: string, trials: StoredTrial[]): boolean {
  let owner: string;
  try {
    owner = readFileSync(join(dir, OWNER), 'utf8').trim();
  } catch {
    return true;
  }
  return trials.some((t) => ownerOf(t) === owner);
}

/**
 * Its own checkpoint only for a re-run (a first attempt's folder is a leftover, cleared); for a
 * promotion, the source's checkpoint on this machine when the attempt that finished it ran here
 * (on a local study every attempt did), else the store's copy, else none.
 */
export async function planCheckpoint(t: StoredTrial, attempt: number, ctx: ClaimContext, o: { stateDir: string; shared: boolean; keepsCheckpoints: boolean }): Promise<CheckpointPlan> {
  const src = t.resumeFrom !== undefined ? ctx.trials.find((x) => x.number === t.resumeFrom) : undefined;
  const own = checkpointDir(o.stateDir, t.number);
  // A re-run continues its own checkpoint, or the promotion's source it had copied in.
  if (attempt > 1 && hasCheckpoint(own) && ownedBy(own, [t, ...(src ? [src] : [])])) return { kind: 'own' };
  if (t.resumeFrom === undefined) return { kind: 'fresh' };
  const from = t.resumeFrom;
  const finalAttempt = src?.state === 'complete' ? src.attempts : undefined;
  const epoch = src ? lastEpoch(src.curve) : undefined;
  const here = finishedHere(o.stateDir, from);
  const srcDir = checkpointDir(o.stateDir, from);
  const foreign = hasCheckpoint(srcDir) && !!src && !ownedBy(srcDir, [src]);
  if (finalAttempt !== undefined && (here === finalAttempt || (!o.shared && here === undefined)) && hasCheckpoint(srcDir) && !foreign) {
    return { kind: 'local', from, ...(epoch !== undefined ? { epoch } : {}) };
  }
  const info = finalAttempt !== undefined ? await ctx.checkpoint(from, finalAttempt) : undefined;
  if (info) return { kind: 'database', from, info };
  const reason =
    src?.state !== 'complete'
      ? `trial ${from} is ${src?.state ?? 'missing'}, not complete`
      : foreign && !o.shared
        ? `${srcDir} holds the checkpoint of another trial ${from} (other hyperparameters or seed: the journal was replaced), not this study's`
        : !o.shared
        ? `the checkpoint of trial ${from} is not in ${srcDir}`
        : o.keepsCheckpoints
          ? `the checkpoint of trial ${from} (attempt ${finalAttempt}) is neither on this machine nor in the database`
          : `the checkpoint of trial ${from} is not on this machine and this study keeps no checkpoints in the database`;
  return { kind: 'none', from, reason };
}

/** Puts the planned checkpoint into the trial's folder; where it came from (undefined: fresh). */
export async function materialise(plan: CheckpointPlan, t: StoredTrial, stateDir: string, store: StudyStore): Promise<CheckpointOrigin | undefined> {
  const ckpt = checkpointDir(stateDir, t.number);
  mkdirSync(trialDir(stateDir, t.number), { recursive: true });
  if (plan.kind === 'fresh' || plan.kind === 'none') {
    rmSync(ckpt, { recursive: true, force: true });
    markOwner(ckpt, t);
  }
  if (plan.kind === 'fresh') return undefined;
  if (plan.kind === 'own') return { source: 'own' };
  if (plan.kind === 'none') return { source: 'none', from: plan.from, reason: plan.reason };
  const t0 = performance.now();
  try {
    rmSync(ckpt, { recursive: true, force: true });
    if (plan.kind === 'local') {
      cpSync(checkpointDir(stateDir, plan.from), ckpt, { recursive: true });
      markOwner(ckpt, t);
      return { source: 'local', from: plan.from, ...(plan.epoch !== undefined ? { epoch: plan.epoch } : {}) };
    }
    await store.fetchCheckpoint!(plan.info, ckpt);
    markOwner(ckpt, t);
    return { source: 'database', from: plan.from, ...(plan.info.epoch !== null ? { epoch: plan.info.epoch } : {}), bytes: plan.info.bytes, ms: Math.round(performance.now() - t0) };
  } catch (e) {
    rmSync(ckpt, { recursive: true, force: true });
    return { source: 'none', from: plan.from, reason: `copying the checkpoint of trial ${plan.from} ${plan.kind === 'local' ? 'on this machine' : 'from the database'} failed: ${(e as Error)?.message ?? String(e)}` };
  }
}
