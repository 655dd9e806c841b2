/** Every Trialbook command, registered in one place; each is a few lines over the features. */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { resolveParams } from '../core/params';
import { studyStateDir } from '../core/study';
import type { StudyView } from '../protocol/messages';
import { CliProcess, cliError, studyCwd } from './cli-process';
import { DashboardPanel } from './dashboard';
import type { ExplorerNode, TrialExplorer } from './explorer';
import type { Log } from './log';
import { newStudyWizard } from './new-study';
import { insertResults, notesFileFor } from './notes-writer';
import type { RunManager } from './runs';
import type { StudyEntry, StudyIndex } from './studies';
import { requireTrust } from './trust';
import { objectiveValue, trialJobInput, type TrialJobResult } from '../worker/jobs/trial-types';
import type { WorkerJobs } from './worker-jobs';

export interface Features {
  ctx: vscode.ExtensionContext;
  log: Log;
  studies: StudyIndex;
  explorer: TrialExplorer;
  runs: RunManager;
  jobs: WorkerJobs;
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
    else if (arg && 'entry' in arg) file = arg.entry.file;
    else {
      const active = vscode.window.activeTextEditor?.document.uri.fsPath;
      if (active?.endsWith('.trialbook.json')) file = active;
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

  async function startRun(kind: 'tune' | 'seqlen', arg: StudyArg, mode: 'start' | 'resume'): Promise<void> {
    if (!(await requireTrust(kind === 'tune' ? t('Start Tuning') : t('Run Sequence-Length Study')))) return;
    const e = await pickStudy(arg);
    if (!e) return;
    if (f.runs.get(e.file)) {
      void vscode.window.showInformationMessage(t('Trialbook: {0} is already running. Stop it first.', e.view!.name));
      return;
    }
    if (e.view!.shared) return offerWorker(e, kind === 'tune' ? 'worker' : 'seqlen');
    const extra: string[] = [];
    if (kind === 'tune') {
      const existing = e.view!.trials.length;
      if (mode === 'resume') extra.push('--resume');
      else if (existing) {
        const resume = t('Resume');
        const fresh = t('Start Over');
        const p = await vscode.window.showWarningMessage(t('Study {0} already has {1} trials.', e.view!.name, existing), { modal: true, detail: t('Resume keeps them and continues; Start Over moves the old journal to an archive folder.') }, resume, fresh);
        if (!p) return;
        extra.push(p === resume ? '--resume' : '--fresh');
      }
    }
    f.runs.start(kind, e.file, extra);
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
      const lengths = e.loaded!.study.seqlen.lengths;
      const result = await f.jobs.run<Record<string, unknown>>(t('Counting token lengths of {0}', e.view!.name), { kind: 'lengths', options: { study: e.file, maxLens: lengths } });
      log.info(`lengths: ${JSON.stringify(result).slice(0, 2000)}`);
      studies.setLengths(e.file, lengthsFromResult(result));
      DashboardPanel.show(ctx, studies, log, e.file);
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
      const panel = DashboardPanel.show(ctx, studies, log, e.file);
      try {
        const r = await insertResults(e, notes, panel, log);
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
      const items = [
        { label: 'auto', description: t('best available: tensorflow-gpu > tensorflow (native) > wasm > cpu') },
        { label: 'tensorflow-gpu', description: t('@tensorflow/tfjs-node-gpu (CUDA, needs it installed)') },
        { label: 'tensorflow', description: t('@tensorflow/tfjs-node (native, needs it installed)') },
        { label: 'wasm', description: t('WebAssembly with SIMD, bundled, one thread per worker') },
        { label: 'cpu', description: t('plain JavaScript, slowest') },
      ].map((i) => ({ ...i, picked: i.label === current, detail: i.label === current ? t('current') : undefined }));
      const p = await vscode.window.showQuickPick(items, { title: t('Trialbook runtime backend') });
      if (!p) return;
      await cfg.update('runtime.backend', p.label, vscode.ConfigurationTarget.Workspace);
      void vscode.window.showInformationMessage(t('Trialbook: runtime backend set to {0}.', p.label));
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
      const doc = await vscode.workspace.openTextDocument({ language: 'markdown', content: parts.join('\n') });
      await vscode.window.showTextDocument(doc, { preview: true });
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

/** The worker's lengths result → the dashboard's histogram (tolerant of its exact shape). */
function lengthsFromResult(r: Record<string, unknown>): StudyView['lengths'] {
  const hist = (r.histogram ?? (r as { lengths?: { histogram?: unknown } }).lengths?.histogram) as unknown;
  const trunc = (r.truncated ?? (r as { truncation?: unknown }).truncation) as unknown;
  const histogram: Array<[number, number]> = Array.isArray(hist)
    ? hist.map((h) => (Array.isArray(h) ? [Number(h[0]), Number(h[1])] : [Number((h as { length?: number; len?: number }).length ?? (h as { len?: number }).len), Number((h as { count?: number }).count)]) as [number, number])
    : [];
  const truncated: Record<string, number> = {};
  if (trunc && typeof trunc === 'object') {
    for (const [k, v] of Object.entries(trunc as Record<string, unknown>)) {
      const share = typeof v === 'number' ? v : Number((v as { share?: number }).share);
      if (Number.isFinite(share)) truncated[k] = share;
    }
  }
  return histogram.length ? { histogram, truncated } : undefined;
}
