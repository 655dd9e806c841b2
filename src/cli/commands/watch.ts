/**
 * `trialbook watch STUDY [--storage URL] [--until-done] [--json]`
 *
 * Follows a study live from any machine, read-only: one line per trial that appears, starts,
 * finishes an epoch, completes, fails or is pruned, and per connection change. A shared study
 * (storage postgresql://…) is polled with the same follower the editor uses (one indexed query
 * per poll, back-off while the database is away, the password never shown); a local study's
 * journal is re-read. Writes nothing. `--until-done` leaves once the study's tuner has nothing
 * left to run and no trial is running.
 */
import type { Command } from 'commander';
import { loadStudy, studyStateDir } from '../../core/study';
import { JournalStore, studyStorage } from '../../store';
import { StudyFollower, type FollowState } from '../../store/postgres/follow';
import { isEpochSummary, lastEpoch } from '../../protocol/curve';
import type { StoredTrial } from '../../store/types';
import { seqlenTag } from '../../runner/seqlen';
import { toHistory } from '../../runner/study-runner';
import { makeTuner } from '../../runner/tuner-source';
import { formatMetric, formatParams } from '../run-printer';

interface WatchOptions {
  storage?: string;
  untilDone?: boolean;
  json?: boolean;
}

type WatchEvent =
  | { type: 'status'; status: FollowState['status']; where: string; message?: string }
  | { type: 'trial'; trial: number; state: StoredTrial['state']; params: StoredTrial['params']; epochs?: number; attempt?: number; worker?: string; resumeFrom?: number; value?: number; error?: string; prunedAt?: number }
  | { type: 'epoch'; trial: number; epoch: number; metric: StoredTrial['curve'][number] }
  | { type: 'done'; trials: number; complete: number };

export function register(program: Command): void {
  program
    .command('watch')
    .description('follow a study live, read-only (a shared PostgreSQL study from any machine, or a local one)')
    .argument('<study>', 'study file (NAME.trialbook.json)')
    .option('--storage <url>', 'follow a study shared through PostgreSQL (postgresql://USER:PASSWORD@HOST:PORT/DATABASE; default: storage in the study file)')
    .option('--until-done', 'leave once the tuner has nothing left to run and no trial is running')
    .option('--json', 'print JSON lines (one per change) instead of text')
    .action(async (file: string, opts: WatchOptions) => {
      const loaded = loadStudy(file);
      const { study } = loaded;
      const storage = studyStorage(loaded, opts.storage);
      const tuner = makeTuner(loaded, study.budget.maxTrials);
      const out = (e: WatchEvent, text: string): void => void process.stdout.write(opts.json ? `${JSON.stringify(e)}\n` : `${text}\n`);
      const seen = new Map<number, { state: string; attempts: number; epoch: number }>();
      let finish: (() => void) | undefined;
      const ended = new Promise<void>((resolve) => (finish = resolve));

      const onTrials = (all: StoredTrial[]): void => {
        const trials = all.filter((t) => !seqlenTag(t));
        for (const t of trials) {
          const before = seen.get(t.number);
          const epoch = lastEpoch(t.curve) ?? 0;
          const now = { state: t.state, attempts: t.attempts ?? 0, epoch };
          // Epochs first (a poll may bring several), then the trial's new state.
          const restarted = before !== undefined && now.attempts !== before.attempts;
          for (const m of t.curve) {
            if (isEpochSummary(m) && (m.epoch > (before?.epoch ?? 0) || restarted)) out({ type: 'epoch', trial: t.number, epoch: m.epoch, metric: m }, `  trial ${t.number} epoch ${m.epoch}: ${formatMetric(m)}`);
          }
          if (!before || before.state !== now.state || restarted) {
            const e: WatchEvent = {
              type: 'trial',
              trial: t.number,
              state: t.state,
              params: t.params,
              ...(t.epochs !== undefined ? { epochs: t.epochs } : {}),
              ...(t.attempts ? { attempt: t.attempts } : {}),
              ...(t.worker ? { worker: t.worker } : {}),
              ...(t.resumeFrom !== undefined ? { resumeFrom: t.resumeFrom } : {}),
              ...(t.value !== undefined && t.state === 'complete' ? { value: t.value } : {}),
              ...(t.error && t.state === 'failed' ? { error: t.error } : {}),
              ...(t.prunedAt !== undefined && t.state === 'pruned' ? { prunedAt: t.prunedAt } : {}),
            };
            out(e, describe(t, study.objective.metric));
          }
          seen.set(t.number, now);
        }
        if (opts.untilDone && trials.length && !trials.some((t) => t.state === 'running' || t.state === 'queued')) {
          const history = toHistory(trials, study.budget.max_retries_per_trial, study.objective.metric);
          const capped = study.tuner.type !== 'hyperband' && trials.length >= study.budget.maxTrials * (study.tuner.type === 'asha' ? 1 : study.budget.repeats);
          if (capped || tuner.suggest(history, trials).kind === 'done') {
            const complete = trials.filter((t) => t.state === 'complete').length;
            out({ type: 'done', trials: trials.length, complete }, `study ${study.name}: done — ${trials.length} trials, ${complete} complete`);
            finish?.();
          }
        }
      };

      const onSignal = (): void => finish?.();
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      // The follower's timers never keep the process alive by themselves: this does, until the end.
      const keepAlive = setInterval(() => undefined, 60_000);
      try {
        if (storage.kind === 'postgres') {
          let last: FollowState['status'] | undefined;
          const follower = new StudyFollower({
            url: storage.url,
            studyName: study.name,
            onWarning: () => undefined,
            onChange: (s) => {
              if (s.status !== last || s.status === 'offline') {
                const text = s.status === 'live' ? `watching study ${study.name} at ${s.where}${s.exists ? '' : ' (no worker has created it yet)'}` : s.status === 'offline' ? `offline: ${s.message ?? 'the database does not answer'} — retrying` : `connecting to ${s.where}`;
                out({ type: 'status', status: s.status, where: s.where, ...(s.message ? { message: s.message } : {}) }, text);
                last = s.status;
              }
              if (s.trials) onTrials(s.trials);
            },
          }).start();
          try {
            await ended;
          } finally {
            await follower.stop();
          }
        } else {
          const store = new JournalStore(studyStateDir(loaded), { readOnly: true });
          out({ type: 'status', status: 'live', where: store.path }, `watching study ${study.name} in ${store.path}`);
          try {
            const poll = async (): Promise<void> => onTrials(await store.trials());
            await poll();
            const timer = setInterval(() => void poll(), 1000);
            try {
              await ended;
            } finally {
              clearInterval(timer);
            }
          } finally {
            await store.close();
          }
        }
      } finally {
        clearInterval(keepAlive);
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    });
}

function describe(t: StoredTrial, metric: string): string {
  const who = t.worker ? ` on ${t.worker}` : '';
  switch (t.state) {
    case 'queued':
      return `trial ${t.number} queued: ${formatParams(t.params)}`;
    case 'running':
      return `trial ${t.number} running${who}${(t.attempts ?? 0) > 1 ? ` (attempt ${t.attempts})` : ''}${t.resumeFrom !== undefined ? `, promoted from trial ${t.resumeFrom}` : ''}: ${formatParams(t.params)}, ${t.epochs ?? '?'} epochs`;
    case 'complete':
      return `trial ${t.number} complete${who}: ${metric} ${t.value!.toFixed(4)}`;
    case 'pruned':
      return `trial ${t.number} pruned after epoch ${t.prunedAt ?? '?'}`;
    case 'failed':
      return `trial ${t.number} failed: ${(t.error ?? 'unknown').split('\n')[0]}`;
  }
}
