/** Every Trialbook command, registered in one place; each is a few lines over the features. */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { resolveParams } from '../core/params';
import { studyStateDir } from '../core/study';
import type { EvalResult } from '../engine/types';
import { preflight } from '../runner/preflight';
import type { ReportExtras } from '../runner/report';
import { trialDir } from '../runner/checkpoint-source';
import { fixedParams } from '../runner/seqlen';
import type { StudyView } from '../protocol/messages';
import { CliProcess, cliError, studyCwd } from './cli-process';
import { DashboardPanel } from './dashboard';
import type { ExplorerNode, TrialExplorer } from './explorer';
import type { Log } from './log';
import { newStudyWizard } from './new-study';
import { insertResults, notesFileFor } from './notes-writer';
import type { RunManager } from './runs';
import type { StudyEntry, StudyIndex } from './studies';
import { formatDuration } from './run-progress';
import { requireTrust } from './trust';
import type { FailureLogs } from './failure-log';
import type { LengthsJobResult } from '../worker/jobs/tokenize';
import { objectiveValue, trialJobInput, type TrialJobResult } from '../worker/jobs/trial-types';
import type { WorkerJobs } from './worker-jobs';

export interface Features {
  ctx: vscode.ExtensionContext;
  log: Log;
  studies: StudyIndex;
  explorer: TrialExplorer;
  runs: RunManager;
  jobs: WorkerJobs;
  failureLogs: FailureLogs;
}

type StudyArg = ExplorerNode | vscode.Uri | string | undefined;

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export type CommandHandler = (...args: unknown[]) => Promise<unknown>;

/** Every command's handler by id (extension.ts registers them, before this module is loaded). */
export function commandHandlers(f: Features): Map<string, CommandHandler> {
  const { ctx, log, studies } = f;
  const t = vscode.l10n.t;

  /** The study a command is about: the explorer node, a file, the active study editor, or a pick. */
  async function pickStudy(arg: StudyArg, needTrials = false, sharedOnly = false): Promise<StudyEntry | undefined> {
    await studies.ready();
    let file: string | undefined;
    if (typeof arg === 'string') file = arg;
    else if (arg instanceof vscode.Uri) file = arg.fsPath;
    // A tree node: the study of the row (a title action receives the selected row, which may be
    // a broken study file: then the user picks among the valid ones).
    else if (arg && 'entry' in arg) file = arg.entry.view ? arg.entry.file : undefined;
    else {
      // The study open in the editor, when it is a valid one (a broken file opened from the tree is not a target).
      const active = vscode.window.activeTextEditor?.document.uri.fsPath;
      if (active?.endsWith('.trialbook.json') && studies.get(active)?.view) file = active;
    }
    if (file) {
      const e = studies.get(file) ?? (await studies.reload(file));
      if (!e.view) {
        void vscode.window.showErrorMessage(t('Trialbook: {0}', e.error ?? file), t('Open Study File')).then((p) => {
          if (p) void vscode.window.showTextDocument(vscode.Uri.file(file!));
        });
        return undefined;
      }
      return e;
    }
    const valid = studies.list().filter((e) => e.view && (!needTrials || e.view.trials.length || e.view.seqlen?.length) && (!sharedOnly || e.view.shared));
    if (!valid.length && sharedOnly) {
      void vscode.window.showInformationMessage(t('Trialbook: no study in this workspace is shared through PostgreSQL (set "storage": "postgresql://…" in its study file).'));
      return undefined;
    }
    if (!valid.length) {
      const create = t('New Study');
      const p = await vscode.window.showWarningMessage(needTrials ? t('Trialbook: no study has trials yet. Start tuning first.') : t('Trialbook: no valid study file (*.trialbook.json) in this workspace.'), create);
      if (p === create) void vscode.commands.executeCommand('trialbook.newStudy');
      return undefined;
    }
    if (valid.length === 1) return valid[0];
    const pick = await vscode.window.showQuickPick(
      valid.map((e) => ({ label: e.view!.name, description: vscode.workspace.asRelativePath(e.file), entry: e })),
      // Kept open when focus moves (a dashboard repainting beside the notes must not dismiss it).
      { title: t('Pick a study'), ignoreFocusOut: true },
    );
    return pick?.entry;
  }

  /**
   * As `report --test` does: offer the best trial's score on the test split (its saved model
   * evaluated in the worker). Undefined: no score (none asked for, or no model here); null: cancelled.
   */
  async function offerTestScore(e: StudyEntry): Promise<ReportExtras['test'] | undefined | null> {
    const best = e.view!.bestTrial;
    const model = best === null ? undefined : join(trialDir(studyStateDir(e.loaded!), best), 'model');
    if (!model || !existsSync(join(model, 'config.json'))) return undefined;
    const yes = { label: t('With the test-set score'), description: t("scores trial {0}'s model on the test split, as report --test does", best!), test: true };
    const no = { label: t('Without the test-set score'), description: t('the validation results only'), test: false };
    const pick = await vscode.window.showQuickPick([yes, no], { title: t('Insert Results into Notes'), ignoreFocusOut: true });
    if (!pick) return null;
    if (!pick.test) return undefined;
    const r = await f.jobs.run<EvalResult>(t('Scoring trial {0} on the test split', best!), { kind: 'evaluate', options: { model, study: e.file, split: 'test' } });
    log.info(`notes: test split of trial ${best}: loss ${r.loss}, accuracy ${r.accuracy} on ${r.count} examples`);
    return { loss: r.loss, accuracy: r.accuracy, count: r.count };
  }

  function trialArg(arg: unknown): { entry: StudyEntry; trial: StudyView['trials'][number] } | undefined {
    const n = arg as ExplorerNode | undefined;
    return n && n.kind === 'trial' ? { entry: n.entry, trial: n.trial } : undefined;
  }

  /** Starts `trialbook worker` on a shared study: the one way the editor writes to its database. */
  function startWorker(e: StudyEntry, kind: 'worker' | 'seqlen' = 'worker'): void {
    if (f.runs.get(e.file)) {
      void vscode.window.showInformationMessage(t('Trialbook: {0} is already running. Stop it first.', e.view!.name));
      return;
    }
    f.runs.start(kind, e.file);
    DashboardPanel.show(ctx, studies, log, e.file);
  }

  /**
   * A shared study is read-only here: Start Tuning and Resume offer a worker instead of `tune`,
   * Run Sequence-Length Study offers to run its runs as a worker (`seqlen` on a shared study).
   */
  async function offerWorker(e: StudyEntry, kind: 'worker' | 'seqlen'): Promise<void> {
    const run = t('Run a Worker Here');
    const rel = vscode.workspace.asRelativePath(e.file);
    const where = e.view!.shared!.where;
    const p = await vscode.window.showInformationMessage(
      t('Study {0} is shared through PostgreSQL: this editor shows it read-only.', e.view!.name),
      {
        modal: true,
        detail:
          kind === 'worker'
            ? t("Its trials are run by workers (trialbook worker {0}) on any machine that has the study file and its data; they share the budget and pick up each other's lost trials. Run a Worker Here starts one in the background that claims trials and writes their results to {1}. Nothing is written there otherwise.", rel, where)
            : t('Its sequence-length runs are shared like its trials (trialbook seqlen {0} on any machine). Run a Worker Here runs them on this machine, with the others, and writes their results to {1}. Nothing is written there otherwise.', rel, where),
      },
      run,
    );
    if (p === run) startWorker(e, kind);
  }

  /**
   * Before a run spends CPU hours: the pre-flight check (missing files stop it), then a
   * confirmation with the plan, an ETA and the warnings. Returns the extra CLI arguments, or
   * undefined when the user (or a missing file) stops it.
   */
  async function confirmRun(kind: 'tune' | 'seqlen', e: StudyEntry, mode: 'start' | 'resume'): Promise<{ args: string[]; runs: number } | undefined> {
    const name = e.view!.name;
    const pre = preflight(e.loaded!);
    const errors = pre.issues.filter((i) => i.level === 'error');
    if (errors.length) {
      const open = t('Open Study File');
      log.error(`${kind}: ${name} cannot start: ${errors.map((i) => `${i.key}: ${i.message}`).join('; ')}`);
      void vscode.window.showErrorMessage(t('Trialbook: {0} cannot start: {1}', name, errors.map((i) => `${i.key}: ${i.message}`).join('; ')), open).then((p) => {
        if (p === open) void vscode.window.showTextDocument(vscode.Uri.file(e.file));
      });
      return undefined;
    }
    const study = e.loaded!.study;
    const budget = kind === 'tune' ? pre.budget : { runs: study.seqlen.lengths.length * study.seqlen.repeats, epochs: study.seqlen.lengths.length * study.seqlen.repeats * study.training.epochs };
    const lines = [t('Plan: {0} runs, at most {1} epochs ({2}).', budget.runs, budget.epochs, kind === 'tune' ? study.tuner.type : t('sequence-length study'))];
    if (pre.trainRows !== undefined) lines.push(pre.estimated ? t('Train split: about {0} rows (not split yet).', pre.trainRows) : t('Train split: {0} rows.', pre.trainRows));
    const speed = pre.trainRows ? await measureSpeed(e) : undefined;
    if (speed && pre.trainRows) {
      // Each epoch trains on the train split and scores the validation split (forward only, about a third of a training step).
      const examples = budget.epochs * (pre.trainRows + (pre.valRows ?? 0) / 3);
      const seconds = examples / speed.examplesPerSec / Math.max(1, study.budget.parallel);
      lines.push(speed.measured ? t('ETA: about {0} at {1} examples/s, measured on a training step of this model.', formatDuration(seconds), Math.round(speed.examplesPerSec)) : t('ETA: about {0} at {1} examples/s, as the trials so far trained.', formatDuration(seconds), Math.round(speed.examplesPerSec)));
    }
    for (const w of pre.issues) lines.push(t('Warning — {0}: {1}', w.key, w.message));
    const existing = kind === 'tune' && mode === 'start' ? e.view!.trials.length : 0;
    const start = kind === 'tune' ? (mode === 'resume' ? t('Resume') : t('Start Tuning')) : t('Run Sequence-Length Study');
    const resume = t('Resume');
    const fresh = t('Start Over');
    const edit = t('Open Study File');
    const buttons = existing ? [resume, fresh] : [start];
    if (pre.issues.length) buttons.push(edit);
    const title = existing ? t('Study {0} already has {1} trials.', name, existing) : kind === 'tune' ? t('Start tuning {0}?', name) : t('Run the sequence-length study of {0}?', name);
    const detail = existing ? [t('Resume keeps them and continues; Start Over moves the old journal to an archive folder.'), '', ...lines].join('\n') : lines.join('\n');
    const p = await vscode.window.showInformationMessage(title, { modal: true, detail }, ...buttons);
    if (p === edit) void vscode.window.showTextDocument(vscode.Uri.file(e.file));
    if (!p || p === edit) return undefined;
    const args = kind !== 'tune' ? [] : mode === 'resume' || p === resume ? ['--resume'] : p === fresh ? ['--fresh'] : [];
    return { args, runs: budget.runs };
  }

  /**
   * Examples per second of this study's training: from the epochs its trials have trained, else
   * measured on one training step of the middle configuration in the worker (stopped as soon as
   * the first step is logged; cancellable; skipped after a minute).
   */
  async function measureSpeed(e: StudyEntry): Promise<{ examplesPerSec: number; measured: boolean } | undefined> {
    const seen = [...e.view!.trials, ...(e.view!.seqlenRuns ?? [])].flatMap((x) => x.curve ?? []).filter((m) => m.val_loss != null && m.examples_per_sec);
    if (seen.length) return { examplesPerSec: seen.reduce((a, m) => a + m.examples_per_sec!, 0) / seen.length, measured: false };
    const stop = new AbortController();
    const timer = setTimeout(() => stop.abort(), 60_000);
    let rate: number | undefined;
    const loaded = e.loaded!;
    const { params } = resolveParams(loaded.study, loaded.file, { ...fixedParams(loaded).params, epochs: 1 });
    try {
      await f.jobs.run(t('Measuring a training step of {0}…', e.view!.name), trialJobInput(loaded, params), {
        signal: stop.signal,
        onMetric: (m) => {
          rate ??= m.examples_per_sec;
          stop.abort();
        },
      });
    } catch (err) {
      if (rate === undefined) log.warn(`ETA: no training step measured (${errorText(err)})`);
    } finally {
      clearTimeout(timer);
    }
    if (rate) log.info(`ETA: ${e.view!.name} trains ${rate.toFixed(1)} examples/s (measured)`);
    return rate ? { examplesPerSec: rate, measured: true } : undefined;
  }

  async function startRun(kind: 'tune' | 'seqlen', arg: StudyArg, mode: 'start' | 'resume'): Promise<void> {
    if (!(await requireTrust(kind === 'tune' ? t('Start Tuning') : t('Run Sequence-Length Study')))) return;
    const e = await pickStudy(arg);
    if (!e) return;
    if (f.runs.get(e.file)) {
      void vscode.window.showInformationMessage(t('Trialbook: {0} is already running. Stop it first.', e.view!.name));
      return;
    }
    if (e.view!.shared) return offerWorker(e, kind === 'tune' ? 'worker' : 'seqlen');
    const go = await confirmRun(kind, e, mode);
    if (!go) return;
    f.runs.start(kind, e.file, go.args, go.runs);
    DashboardPanel.show(ctx, studies, log, e.file);
  }

  const reg = (id: string, fn: (...args: unknown[]) => unknown): [string, CommandHandler] => [
    id,
    async (...args: unknown[]) => {
      try {
        return await fn(...args);
      } catch (e) {
        const msg = errorText(e);
        log.error(`${id}: ${msg}`);
        const open = t('Open Log');
        const p = await vscode.window.showErrorMessage(t('Trialbook: {0}', msg), open);
        if (p === open) log.show();
        return undefined;
      }
    },
  ];

  return new Map([
    reg('trialbook.newStudy', async () => {
      if (!(await requireTrust(t('New Study')))) return;
      const file = await newStudyWizard();
      if (!file) return;
      await studies.reload(file);
      await vscode.window.showTextDocument(vscode.Uri.file(file), { preview: false });
      const tune = t('Start Tuning');
      const p = await vscode.window.showInformationMessage(t('Study written to {0}.', vscode.workspace.asRelativePath(file)), tune);
      if (p === tune) await vscode.commands.executeCommand('trialbook.startTuning', file);
    }),

    reg('trialbook.splitData', async (arg) => {
      if (!(await requireTrust(t('Split Data')))) return;
      const e = await pickStudy(arg as StudyArg);
      if (!e) return;
      const result = await f.jobs.run<Record<string, unknown>>(t('Splitting the data of {0}', e.view!.name), { kind: 'split', options: { study: e.file } });
      log.info(`split: ${JSON.stringify(result)}`);
      void vscode.window.showInformationMessage(t('Trialbook: data of {0} split into train/validation/test.', e.view!.name));
    }),

    reg('trialbook.inspectLengths', async (arg) => {
      if (!(await requireTrust(t('Inspect Token Lengths')))) return;
      const e = await pickStudy(arg as StudyArg);
      if (!e) return;
      const { seqlen, training } = e.loaded!.study;
      const maxLens = [...new Set([...seqlen.lengths, training.max_seq_len])].sort((a, b) => a - b);
      const result = await f.jobs.run<LengthsJobResult>(t('Counting token lengths of {0}', e.view!.name), { kind: 'lengths', options: { study: e.file, maxLens } });
      log.info(`lengths: ${JSON.stringify(result.stats)}`);
      studies.setLengths(e.file, lengthsFromResult(result));
      DashboardPanel.show(ctx, studies, log, e.file).showView('lengths');
    }),

    reg('trialbook.runSeqlen', (arg) => startRun('seqlen', arg as StudyArg, 'start')),
    reg('trialbook.startTuning', (arg) => startRun('tune', arg as StudyArg, 'start')),
    reg('trialbook.resume', (arg) => startRun('tune', arg as StudyArg, 'resume')),

    reg('trialbook.runWorker', async (arg) => {
      if (!(await requireTrust(t('Run a Worker Here')))) return;
      const e = await pickStudy(arg as StudyArg, false, true);
      if (!e) return;
      if (!e.view!.shared) {
        void vscode.window.showInformationMessage(t('Trialbook: {0} keeps its trials in a local journal: use Start Tuning. Workers run studies shared through PostgreSQL.', e.view!.name));
        return;
      }
      startWorker(e);
    }),

    reg('trialbook.stop', async (arg) => {
      const running = f.runs.list();
      let file: string | undefined = typeof arg === 'string' ? arg : arg && typeof arg === 'object' && 'entry' in arg ? (arg as { entry: StudyEntry }).entry.file : undefined;
      if (!file && running.length === 1) file = running[0]!.studyFile;
      if (!file && running.length > 1) file = (await vscode.window.showQuickPick(running.map((r) => ({ label: r.name, file: r.studyFile }))))?.file;
      if (!file || !f.runs.stop(file)) void vscode.window.showInformationMessage(t('Trialbook: nothing is running.'));
    }),

    reg('trialbook.openDashboard', async (arg) => {
      const e = await pickStudy(arg as StudyArg);
      if (e) DashboardPanel.show(ctx, studies, log, e.file);
    }),

    reg('trialbook.insertResults', async (arg) => {
      if (!(await requireTrust(t('Insert Results into Notes')))) return;
      const e = await pickStudy(arg as StudyArg, true);
      if (!e) return;
      const notes = await notesFileFor(e);
      if (!notes) return;
      // The notes first, the dashboard beside them: its canvas draws the chart image.
      const doc = await vscode.workspace.openTextDocument(vscode.Uri.file(notes));
      await vscode.window.showTextDocument(doc, { viewColumn: vscode.ViewColumn.One, preview: false });
      const test = await offerTestScore(e);
      if (test === null) return;
      const panel = DashboardPanel.show(ctx, studies, log, e.file);
      try {
        const r = await insertResults(e, notes, panel, log, test ? { test } : {});
        const msg = r.action === 'unchanged' ? t('Trialbook: the notes of {0} are up to date.', e.view!.name) : r.action === 'replaced' ? t('Trialbook: results of {0} updated in {1}.', e.view!.name, vscode.workspace.asRelativePath(notes)) : t('Trialbook: results of {0} inserted into {1}.', e.view!.name, vscode.workspace.asRelativePath(notes));
        void vscode.window.showInformationMessage(msg);
      } catch (err) {
        const line = (err as { line?: number }).line;
        const show = t('Show Conflict');
        const p = await vscode.window.showErrorMessage(t('Trialbook: {0}', errorText(err)), ...(line ? [show] : []));
        if (p === show && line) {
          const pos = new vscode.Position(line - 1, 0);
          await vscode.window.showTextDocument(doc, { viewColumn: vscode.ViewColumn.One, selection: new vscode.Range(pos, pos) });
        }
      }
    }),

    reg('trialbook.exportReport', async (arg) => {
      if (!(await requireTrust(t('Export Report')))) return;
      const e = await pickStudy(arg as StudyArg, true);
      if (!e) return;
      const fmt = await vscode.window.showQuickPick([
        { label: 'Markdown', format: 'md' },
        { label: 'CSV', format: 'csv' },
        { label: 'JSON', format: 'json' },
      ], { title: t('Report format') });
      if (!fmt) return;
      const target = await vscode.window.showSaveDialog({ defaultUri: vscode.Uri.file(join(studyCwd(e.file), `${e.view!.name}-report.${fmt.format}`)), filters: { [fmt.label]: [fmt.format] } });
      if (!target) return;
      const proc = new CliProcess({ extensionPath: ctx.extensionPath, args: ['report', e.file, '--format', fmt.format, '--out', target.fsPath], cwd: studyCwd(e.file), onStderr: (l) => log.warn(`[report] ${l}`) });
      const r = await proc.done;
      if (r.code !== 0) throw new Error(cliError(r));
      const open = t('Open');
      if ((await vscode.window.showInformationMessage(t('Trialbook: report written to {0}.', vscode.workspace.asRelativePath(target)), open)) === open) await vscode.window.showTextDocument(target);
    }),

    reg('trialbook.showLog', () => log.show()),

    reg('trialbook.selectRuntime', async () => {
      const cfg = vscode.workspace.getConfiguration('trialbook');
      const current = cfg.get<string>('runtime.backend', 'auto');
      // What the latest trials actually trained on (auto resolves when a trial starts).
      const inUse = studies.list().map((e) => e.view?.runtime).find((r) => r);
      const items = [
        { label: 'auto', description: t('best available: tensorflow-gpu > tensorflow (native) > wasm > cpu') },
        { label: 'tensorflow-gpu', description: t('@tensorflow/tfjs-node-gpu (CUDA, needs it installed)') },
        { label: 'tensorflow', description: t('@tensorflow/tfjs-node (native, needs it installed)') },
        { label: 'wasm', description: t('WebAssembly with SIMD, bundled, one thread per worker') },
        { label: 'cpu', description: t('plain JavaScript, slowest') },
      ].map((i) => ({ ...i, picked: i.label === current, detail: i.label === current ? (inUse ? t('selected · in use: {0}', inUse) : t('selected · in use: not known until a trial has run')) : undefined }));
      const title = inUse ? t('Trialbook runtime — in use: {0}', inUse) : t('Trialbook runtime — setting: {0}', current);
      const p = await vscode.window.showQuickPick(items, { title });
      if (!p) return;
      await cfg.update('runtime.backend', p.label, vscode.ConfigurationTarget.Workspace);
      void vscode.window.showInformationMessage(inUse ? t('Trialbook: runtime backend set to {0} (the last trials ran on {1}; the next trial uses the new setting).', p.label, inUse) : t('Trialbook: runtime backend set to {0}.', p.label));
    }),

    reg('trialbook.showCurves', async (arg) => {
      const x = trialArg(arg);
      if (x) DashboardPanel.show(ctx, studies, log, x.entry.file, x.trial.number);
    }),

    reg('trialbook.copyParams', async (arg) => {
      const x = trialArg(arg);
      if (!x) return;
      await vscode.env.clipboard.writeText(JSON.stringify(x.trial.params, null, 2));
      vscode.window.setStatusBarMessage(t('Trialbook: hyperparameters of trial {0} copied', x.trial.number), 3000);
    }),

    reg('trialbook.rerunWithSeed', async (arg) => {
      const x = trialArg(arg);
      if (!x || !(await requireTrust(t('Re-run with New Seed')))) return;
      const seed = Math.floor(Math.random() * 2 ** 31);
      const loaded = x.entry.loaded!;
      const { params } = resolveParams(loaded.study, loaded.file, { ...x.trial.params, seed });
      const result = await f.jobs.run<TrialJobResult>(t('Re-running trial {0} with seed {1}', x.trial.number, seed), trialJobInput(loaded, params));
      log.info(`re-run of trial ${x.trial.number} (seed ${seed}): ${JSON.stringify(result).slice(0, 2000)}`);
      const v = objectiveValue(result, loaded.study.objective.metric);
      void vscode.window.showInformationMessage(t('Trialbook: trial {0} with seed {1}: {2} = {3} (was {4}).', x.trial.number, seed, x.entry.view!.objective.metric, typeof v === 'number' ? v.toFixed(4) : '—', x.trial.value?.toFixed(4) ?? '—'));
    }),

    reg('trialbook.openFailureLog', async (arg) => {
      const x = trialArg(arg);
      if (!x) return;
      const dir = join(studyStateDir(x.entry.loaded!), 'trials', String(x.trial.number));
      const logs = existsSync(dir) ? readdirSync(dir).filter((n) => n.endsWith('.log')) : [];
      const parts = [`# ${t('Trial {0}', x.trial.number)} — ${x.trial.state}`, '', '```json', JSON.stringify(x.trial.params, null, 2), '```', '', x.trial.error ?? t('(no error recorded)')];
      for (const n of logs) parts.push('', `## ${n}`, '```', readFileSync(join(dir, n), 'utf8').slice(-20_000), '```');
      await f.failureLogs.show(`${x.entry.view!.name}-trial-${x.trial.number}`, parts.join('\n'));
    }),

    reg('trialbook.retrySmallerBatch', async (arg) => {
      const e = await pickStudy(arg as StudyArg);
      if (!e) return;
      void vscode.window.showInformationMessage(t('Trialbook: lower the batch_size choices (or training.memoryBudgetMiB) in {0}, then Resume.', vscode.workspace.asRelativePath(e.file)));
      await vscode.window.showTextDocument(vscode.Uri.file(e.file));
    }),

    reg('trialbook.refresh', async () => {
      for (const e of studies.list()) await studies.reload(e.file);
      studies.poke();
    }),
  ]);
}

/** The worker's lengths result → the dashboard's histogram, statistics and truncation shares. */
function lengthsFromResult(r: LengthsJobResult): StudyView['lengths'] {
  const { count, mean, p50, p95, p99, max } = r.stats;
  return { histogram: r.histogram, truncated: r.truncated, width: r.width, ...(r.overflowFrom !== undefined ? { overflowFrom: r.overflowFrom } : {}), stats: { count, mean, p50, p95, p99, max } };
}
