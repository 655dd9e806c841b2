/**
 * `trialbook migrate --study STUDY --to URL`            local journal → PostgreSQL
 * `trialbook migrate --study STUDY --from URL --to-journal`  PostgreSQL → local journal
 *
 * Copies the study's events as they are (the same JSON lines), so both sides replay to the same
 * trials. Refuses to write over a study that already has trials on the other side. The
 * checkpoints a promotion may still continue (Hyperband, ASHA) travel too: into the database
 * from this machine's trial folders, and back into them from the database.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { UserError } from '../../core/errors';
import { writeFileAtomic } from '../../core/fsutil';
import { loadStudy, studyStateDir, type LoadedStudy } from '../../core/study';
import { JournalFile } from '../../store/journal-file';
import { JOURNAL_FILE } from '../../store/journal';
import { acquireLock } from '../../store/lock';
import { isPostgresUrl, openPostgresStudy, redactUrl } from '../../store/postgres';
import { lastEpoch } from '../../protocol/curve';
import { replay } from '../../store/replay';
import { checkpointDir, hasCheckpoint, trialDir } from '../../runner/checkpoint-source';
import { checkpointPolicy } from '../../runner/promotions';
import type { TrialEvent } from '../../store/types';

interface MigrateOptions {
  study: string;
  to?: string;
  from?: string;
  toJournal?: boolean;
}

export function register(program: Command): void {
  program
    .command('migrate')
    .description('copy a study between the local journal and a PostgreSQL database')
    .requiredOption('--study <file>', 'study file (NAME.trialbook.json)')
    .option('--to <url>', 'copy the local journal into this PostgreSQL database')
    .option('--from <url>', 'copy the study from this PostgreSQL database…')
    .option('--to-journal', '…into the local journal (.trialbook/<name>/journal.jsonl)')
    .action(async (opts: MigrateOptions) => {
      const loaded = loadStudy(opts.study);
      if (opts.to && !opts.from && !opts.toJournal) return toDatabase(loaded, opts.to);
      if (opts.from && opts.toJournal && !opts.to) return toJournal(loaded, opts.from);
      throw new UserError('migrate: use either --to URL (journal → PostgreSQL) or --from URL --to-journal (PostgreSQL → journal)', 'E_USAGE');
    });
}

function requireUrl(url: string, flag: string): void {
  if (!isPostgresUrl(url)) throw new UserError(`${flag}: expected a postgresql:// URL, got ${JSON.stringify(redactUrl(url))}`, 'E_USAGE');
}

function mib(bytes: number): string {
  return bytes >= 1 << 20 ? `${(bytes / (1 << 20)).toFixed(1)} MiB` : `${Math.max(1, Math.round(bytes / 1024))} KiB`;
}

function describe(events: TrialEvent[]): string {
  const trials = replay(events);
  return `${trials.length} trials (${trials.filter((t) => t.state === 'complete').length} complete), ${events.length} events`;
}

async function toDatabase(loaded: LoadedStudy, url: string): Promise<void> {
  requireUrl(url, '--to');
  const path = join(studyStateDir(loaded), JOURNAL_FILE);
  if (!existsSync(path)) throw new UserError(`${path}: no journal for study "${loaded.study.name}" to copy`, 'E_NOT_FOUND');
  const batch = new JournalFile(path).read(0, 1);
  for (const w of batch.warnings) process.stderr.write(`trialbook: warning: ${w}\n`);
  const store = await openPostgresStudy(url, loaded);
  try {
    const existing = await store.trials();
    if (existing.length) throw new UserError(`${store.where}: study "${loaded.study.name}" already has ${existing.length} trials there; nothing copied (rename the study or drop it from the database first)`, 'E_STUDY_EXISTS');
    await store.appendMany(batch.events);
    // Checkpoints that a promotion on another machine may still continue.
    const policy = checkpointPolicy(loaded.study);
    let copied = 0;
    let bytes = 0;
    if (policy) {
      const trials = replay(batch.events);
      const obsolete = new Set(policy.obsolete(trials, false));
      for (const t of trials) {
        const dir = checkpointDir(studyStateDir(loaded), t.number);
        if (t.state !== 'complete' || !policy.promotable(t) || obsolete.has(t.number) || !hasCheckpoint(dir)) continue;
        const epoch = lastEpoch(t.curve);
        bytes += (await store.importCheckpoint(t.number, t.attempts ?? 1, dir, epoch)).bytes;
        copied++;
      }
    }
    process.stdout.write(`copied study ${loaded.study.name}: ${describe(batch.events)}${copied ? `, ${copied} checkpoints for promotions (${mib(bytes)})` : ''} from ${path} to ${store.where}\n`);
  } finally {
    await store.close();
  }
}

async function toJournal(loaded: LoadedStudy, url: string): Promise<void> {
  requireUrl(url, '--from');
  const dir = studyStateDir(loaded);
  const path = join(dir, JOURNAL_FILE);
  mkdirSync(dir, { recursive: true });
  // Nobody may be writing the local study while it is replaced.
  const lock = acquireLock(join(dir, 'journal.lock'), { signals: true });
  try {
    if (existsSync(path) && new JournalFile(path).read(0, 1).events.length) {
      throw new UserError(`${path}: the local study "${loaded.study.name}" already has a journal; nothing copied (move it away first)`, 'E_STUDY_EXISTS');
    }
    const store = await openPostgresStudy(url, loaded, { readOnly: true });
    let events: TrialEvent[];
    let copied = 0;
    let bytes = 0;
    try {
      events = await store.events();
      if (!events.length) throw new UserError(`${store.where}: no study "${loaded.study.name}" with trials in this database`, 'E_NOT_FOUND');
      // The stored checkpoints of finished trials, into their trial folders (a local promotion copies them).
      const trials = replay(events);
      for (const c of await store.checkpoints()) {
        const t = trials.find((x) => x.number === c.trial);
        if (!t || t.state !== 'complete' || t.attempts !== c.attempt) continue;
        const dest = checkpointDir(dir, c.trial);
        if (hasCheckpoint(dest)) continue;
        mkdirSync(trialDir(dir, c.trial), { recursive: true });
        await store.fetchCheckpoint(c, dest);
        copied++;
        bytes += c.bytes;
      }
    } finally {
      await store.close();
    }
    writeFileAtomic(path, events.map((e) => JSON.stringify(e) + '\n').join(''));
    process.stdout.write(`copied study ${loaded.study.name}: ${describe(events)}${copied ? `, ${copied} checkpoints for promotions (${mib(bytes)})` : ''} from ${redactUrl(url)} to ${path}\n`);
  } finally {
    lock.release();
  }
}
