/**
 * `trialbook report STUDY [--storage URL] [--format md|csv|json] [--test] [--out FILE]`
 *
 * Trials sorted by objective, the best trial, hyperparameter importance and the
 * sequence-length table. `--test` scores the best trial's saved model on the test split (in a
 * worker) — only on request, never used for selection. Reads the journal without locking it,
 * so it works while `tune` runs; a shared study (storage postgresql://…, or `--storage`) is
 * read from the database, read-only, from any machine.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { Option } from 'commander';
import { UserError } from '../../core/errors';
import { writeFileAtomic } from '../../core/fsutil';
import { describeNotesChange, writeNotesBlock } from '../../core/notes-file';
import { loadStudy, studyStateDir, type LoadedStudy } from '../../core/study';
import type { EvalResult } from '../../engine/types';
import { openStore, studyStorage } from '../../store';
import { JOURNAL_FILE } from '../../store/journal';
import { redactUrl } from '../../store/postgres';
import { buildJsonReport, promotionOrigins, renderCsvReport, renderMarkdownReport, studyView, type ReportExtras } from '../../runner/report';
import { seqlenTag, summarizeSeqlen } from '../../runner/seqlen';
import { trialDir } from '../../runner/checkpoint-source';
import { WorkerClient } from '../../worker/client';
import { isWorkerJobError } from '../../worker/errors';

interface ReportOptions {
  storage?: string;
  format: 'md' | 'csv' | 'json';
  test?: boolean;
  out?: string;
  notes?: boolean | string;
}

async function testScore(loaded: LoadedStudy, best: number, worker?: string): Promise<ReportExtras['test']> {
  const model = join(trialDir(studyStateDir(loaded), best), 'model');
  if (!existsSync(join(model, 'config.json'))) {
    // Shared studies: the model is saved on the machine whose worker trained it.
    const where = worker ? `; it was trained by worker ${worker}: run report --test on that machine` : '';
    throw new UserError(`${model}: the best trial (${best}) has no saved model on this machine to evaluate on the test split${where}`, 'E_NOT_FOUND');
  }
  const client = new WorkerClient();
  try {
    const r = await client.run<EvalResult>({ kind: 'evaluate', options: { model, study: loaded.file, split: 'test' } });
    return { loss: r.loss, accuracy: r.accuracy, count: r.count };
  } catch (e) {
    if (isWorkerJobError(e)) throw new UserError(`evaluating trial ${best} on the test split failed: ${e.message}`, 'E_EVALUATE');
    throw e;
  } finally {
    await client.close();
  }
}

export function register(program: Command): void {
  program
    .command('report')
    .description('study results: trials by objective, best trial, importance, sequence-length table')
    .argument('<study>', 'study file (NAME.trialbook.json)')
    .option('--storage <url>', 'read a study shared through PostgreSQL (postgresql://USER:PASSWORD@HOST:PORT/DATABASE; default: storage in the study file), read-only')
    .addOption(new Option('--format <format>', 'output format').choices(['md', 'csv', 'json']).default('md'))
    .option('--test', "also score the best trial's saved model on the test split (only on request)")
    .option('--out <file>', 'write the report to this file (atomically) instead of stdout')
    .option('--notes [file]', "write the Markdown report into the study's notes file (or FILE) between trialbook markers")
    .action(async (file: string, opts: ReportOptions) => {
      const loaded = loadStudy(file);
      const storage = studyStorage(loaded, opts.storage);
      let journal = join(studyStateDir(loaded), JOURNAL_FILE);
      if (storage.kind === 'journal' && !existsSync(journal)) throw new UserError(`${journal}: study "${loaded.study.name}" has no trials yet (run trialbook tune ${file})`, 'E_NOT_FOUND');
      const store = await openStore(loaded, { readOnly: true, ...(opts.storage ? { storage: opts.storage } : {}) });
      let trials;
      try {
        trials = await store.trials();
      } finally {
        await store.close();
      }
      if (storage.kind === 'postgres') {
        journal = `${redactUrl(storage.url)} (study ${loaded.study.name})`;
        if (!trials.length) throw new UserError(`${journal}: the study has no trials in this database yet (run trialbook worker ${file} or trialbook tune ${file} on any machine)`, 'E_NOT_FOUND');
      }
      const view = studyView(loaded, trials);
      const extras: ReportExtras = {};
      if (trials.some((t) => seqlenTag(t))) extras.seqlen = summarizeSeqlen(trials);
      const promotions = promotionOrigins(trials.filter((t) => !seqlenTag(t)));
      if (promotions.length) extras.promotions = promotions;
      if (opts.test) {
        if (view.bestTrial === null) throw new UserError(`${journal}: no complete trial yet, so there is no best model to test`, 'E_NOT_FOUND');
        extras.test = await testScore(loaded, view.bestTrial, storage.kind === 'postgres' ? trials.find((t) => t.number === view.bestTrial)?.worker : undefined);
      }
      const text =
        opts.format === 'json' ? JSON.stringify(buildJsonReport(view, extras), null, 2) + '\n' : opts.format === 'csv' ? renderCsvReport(view) : renderMarkdownReport(view, extras);
      if (opts.notes) {
        const notesPath = typeof opts.notes === 'string' ? opts.notes : loaded.study.notes ? loaded.resolve(loaded.study.notes) : undefined;
        if (!notesPath) throw new UserError(`${loaded.file}: notes: the study names no notes file (add "notes": "notes.md" or pass --notes FILE)`, 'E_STUDY');
        const md = opts.format === 'md' ? text : renderMarkdownReport(view, extras);
        const change = writeNotesBlock(notesPath, loaded.study.name, md);
        process.stderr.write(`notes: ${describeNotesChange(change, loaded.study.name, notesPath)}\n`);
        if (!opts.out) return;
      }
      if (opts.out) writeFileAtomic(opts.out, text);
      else process.stdout.write(text);
    });
}
