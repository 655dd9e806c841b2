/** Rebuilds trials from journal events: the only place where state is derived. */
import { appendMetric } from '../protocol/curve';
import type { StoredTrial, TrialEvent } from './types';

export class Replay {
  private readonly byNumber = new Map<number, StoredTrial>();
  maxNumber = -1;

  apply(ev: TrialEvent): void {
    if (ev.trial > this.maxNumber) this.maxNumber = ev.trial;
    if (ev.type === 'created') {
      this.byNumber.set(ev.trial, {
        number: ev.trial,
        params: ev.params,
        state: 'queued',
        curve: [],
        ...(ev.tag ? { tag: ev.tag } : {}),
        ...(ev.epochs !== undefined ? { epochs: ev.epochs } : {}),
        ...(ev.resumeFrom !== undefined ? { resumeFrom: ev.resumeFrom } : {}),
        ...(ev.seed !== undefined ? { seed: ev.seed } : {}),
        attempts: 0,
        failures: [],
      });
      return;
    }
    const t = this.byNumber.get(ev.trial);
    if (!t) return; // an event for a trial whose creation line was lost: nothing to attach it to
    switch (ev.type) {
      case 'started':
        t.state = 'running';
        t.worker = ev.worker;
        t.attempts = (t.attempts ?? 0) + 1;
        t.startedAt ??= ev.at;
        delete t.finishedAt;
        if (!ev.resume) t.curve = [];
        break;
      case 'metric':
        appendMetric(t.curve, ev.metric);
        break;
      case 'finished':
        t.state = 'complete';
        t.value = ev.value;
        if (ev.values) t.values = ev.values;
        t.result = ev.result;
        t.finishedAt = ev.at;
        delete t.error;
        break;
      case 'failed':
        t.state = 'failed';
        t.error = ev.cause ? `${ev.reason}: ${ev.cause}` : ev.reason;
        (t.failures ??= []).push({ reason: ev.reason, ...(ev.cause ? { cause: ev.cause } : {}), at: ev.at });
        t.finishedAt = ev.at;
        break;
      case 'pruned':
        t.state = 'pruned';
        t.prunedAt = ev.epoch;
        t.finishedAt = ev.at;
        break;
      case 'heartbeat':
        t.worker = ev.worker;
        break;
      case 'checkpoint': {
        const { type: _t, trial: _n, at: _at, ...origin } = ev;
        t.checkpoint = origin;
        // From scratch after all: the epochs of an earlier attempt are trained again.
        if (ev.source === 'none') t.curve = [];
        break;
      }
    }
  }

  /** One trial as replayed so far, not a copy: for reading only. */
  trial(n: number): Readonly<StoredTrial> | undefined {
    return this.byNumber.get(n);
  }

  /** A snapshot: callers may keep or change it without touching the replay. */
  trials(): StoredTrial[] {
    return [...this.byNumber.values()].sort((a, b) => a.number - b.number).map((t) => structuredClone(t));
  }
}

export function replay(events: TrialEvent[]): StoredTrial[] {
  const r = new Replay();
  for (const e of events) r.apply(e);
  return r.trials();
}
