/**
 * Which checkpoints a shared study keeps in its database for promotions on other machines.
 * Only multi-fidelity tuners promote (Hyperband, ASHA): a finished trial below the top budget
 * may be continued later, so its checkpoint is uploaded; it is deleted again as soon as no
 * promotion can need it — its promoted trial has finished (or failed for good), or (Hyperband)
 * the next round of its bracket has been created without it, or the Hyperband study is done.
 * An ASHA study keeps the checkpoints of unpromoted trials while it lasts: a larger budget may
 * still promote them.
 */
import type { Study } from '../core/study';
import type { StoredTrial } from '../store/types';
import { ashaTag } from '../tuners/asha';
import { hyperbandBrackets, hyperbandTag, type HyperbandTag } from '../tuners/hyperband';
import { willRerun } from './failure-policy';

export interface CheckpointPolicy {
  /** Could a later trial continue this finished trial's checkpoint? (then it is uploaded) */
  promotable(t: StoredTrial): boolean;
  /** Trials whose stored checkpoints no promotion can need any more. `done`: the study is over. */
  obsolete(trials: StoredTrial[], done: boolean): number[];
}

/** The tuner's own tag: directly on the trial, or inside the repeats wrapper's `inner`. */
function innerTag(t: StoredTrial): { tag?: Record<string, unknown> } {
  const tag = t.tag;
  if (tag && typeof tag.inner === 'object' && tag.inner !== null) return { tag: tag.inner as Record<string, unknown> };
  return tag ? { tag } : {};
}

export function checkpointPolicy(study: Study): CheckpointPolicy | undefined {
  const tuner = study.tuner;
  if (tuner.type !== 'hyperband' && tuner.type !== 'asha') return undefined;
  const maxEpochs = tuner.max_epochs;
  const maxRetries = study.budget.max_retries_per_trial;
  const repeats = study.budget.repeats;
  const isFinal = (t: StoredTrial): boolean => t.state === 'complete' || t.state === 'pruned' || (t.state === 'failed' && !willRerun(t, maxRetries));
  const hb = tuner.type === 'hyperband' ? hyperbandBrackets(tuner.max_epochs, tuner.factor) : undefined;
  return {
    promotable: (t) => {
      const inner = innerTag(t);
      return (hyperbandTag(inner) !== undefined || ashaTag(inner) !== undefined) && (t.epochs ?? maxEpochs) < maxEpochs;
    },
    obsolete: (trials, done) => {
      const out = new Set<number>();
      // Still wanted: the source of a promoted trial that is not over yet (it may be re-run).
      const wanted = new Set<number>();
      for (const t of trials) {
        if (t.resumeFrom === undefined) continue;
        if (isFinal(t)) out.add(t.resumeFrom);
        else wanted.add(t.resumeFrom);
      }
      if (hb) {
        const cells = new Map<string, Array<{ t: StoredTrial; h: HyperbandTag }>>();
        for (const t of trials) {
          const h = hyperbandTag(innerTag(t));
          if (!h) continue;
          const key = `${h.iteration ?? 0}/${h.bracket}/${h.round}`;
          cells.set(key, [...(cells.get(key) ?? []), { t, h }]);
        }
        for (const [key, list] of cells) {
          const h0 = list[0]!.h;
          const bracket = hb.find((b) => b.s === h0.bracket);
          const next = bracket?.rounds[h0.round + 1];
          if (done || !next) {
            if (done) for (const x of list) out.add(x.t.number);
            continue;
          }
          // The next round is complete: whoever is not in it was never promoted and never will be.
          const [it, b] = key.split('/');
          const created = cells.get(`${it}/${b}/${h0.round + 1}`)?.length ?? 0;
          if (created >= next.n * repeats) for (const x of list) out.add(x.t.number);
        }
      }
      for (const n of wanted) if (!done) out.delete(n);
      return [...out].sort((a, b) => a - b);
    },
  };
}
