/**
 * The "Trials" tree: studies → trials. State icon per trial, objective in the label, key
 * hyperparameters in the description, the best trial starred. A study with sequence-length runs
 * also gets a "Sequence length" node with one row per max_len (mean ± std of val_loss, the lowest
 * mean starred). Built from StudyIndex views.
 */
import * as vscode from 'vscode';
import type { StudyView, TrialView } from '../protocol/messages';
import type { RunManager } from './runs';
import type { StudyEntry, StudyIndex } from './studies';

export type ExplorerNode =
  | { kind: 'study'; entry: StudyEntry }
  | { kind: 'trial'; entry: StudyEntry; trial: TrialView }
  | { kind: 'seqlen'; entry: StudyEntry }
  | { kind: 'seqlenRow'; entry: StudyEntry; row: SeqlenRow };

type SeqlenRow = NonNullable<StudyView['seqlen']>[number];

/** Hyperparameters that tell trials apart at a glance, in this order when present. */
const KEY_PARAMS = ['learning_rate', 'batch_size', 'dropout_rate', 'warmup_steps', 'freeze_body', 'max_seq_len'];
const SHORT: Record<string, string> = { learning_rate: 'lr', batch_size: 'bs', dropout_rate: 'drop', warmup_steps: 'warmup', freeze_body: 'freeze', max_seq_len: 'len' };

export function formatValue(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '—';
  if (v !== 0 && (Math.abs(v) < 1e-3 || Math.abs(v) >= 1e5)) return v.toExponential(2);
  return String(Number(v.toFixed(4)));
}

export function keyParams(params: Record<string, unknown>): string {
  const names = [...KEY_PARAMS.filter((k) => k in params), ...Object.keys(params).filter((k) => !KEY_PARAMS.includes(k)).sort()];
  return names
    .slice(0, 4)
    .map((k) => `${SHORT[k] ?? k}=${typeof params[k] === 'number' ? formatValue(params[k] as number) : String(params[k])}`)
    .join(' ');
}

/** The short connection state of a shared study, for the tree. */
export function sharedLabel(sh: NonNullable<StudyView['shared']>): string {
  switch (sh.status) {
    case 'connecting':
      return vscode.l10n.t('shared, connecting…');
    case 'offline':
      return vscode.l10n.t('shared, offline');
    case 'live':
      if (!sh.exists) return vscode.l10n.t('shared, no worker yet');
      return sh.workers ? vscode.l10n.t('shared, {0} running', sh.workers === 1 ? vscode.l10n.t('1 worker') : vscode.l10n.t('{0} workers', sh.workers)) : vscode.l10n.t('shared');
  }
}

/** A trial's state in the user's language. */
export function stateText(state: TrialView['state']): string {
  const t = vscode.l10n.t;
  return { queued: t('queued'), running: t('running'), complete: t('complete'), failed: t('failed'), pruned: t('pruned'), cancelled: t('cancelled') }[state];
}

function stateIcon(t: TrialView, best: boolean): vscode.ThemeIcon {
  if (best) return new vscode.ThemeIcon('star-full', new vscode.ThemeColor('charts.yellow'));
  switch (t.state) {
    case 'queued':
      return new vscode.ThemeIcon('clock');
    case 'running':
      return new vscode.ThemeIcon('sync~spin', new vscode.ThemeColor('charts.blue'));
    case 'complete':
      return new vscode.ThemeIcon('pass', new vscode.ThemeColor('charts.green'));
    case 'failed':
      return new vscode.ThemeIcon('error', new vscode.ThemeColor('charts.red'));
    case 'pruned':
      return new vscode.ThemeIcon('debug-step-out', new vscode.ThemeColor('charts.orange'));
    case 'cancelled':
      // Stopped, not broken: Resume runs it again.
      return new vscode.ThemeIcon('debug-pause', new vscode.ThemeColor('descriptionForeground'));
  }
}

export class TrialExplorer implements vscode.TreeDataProvider<ExplorerNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<ExplorerNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly subs: vscode.Disposable[];

  /** `runs`: which studies have a run going (context value, and the running trial's epoch). */
  constructor(private readonly studies: StudyIndex, private readonly runs: Pick<RunManager, 'get' | 'onDidChange'>) {
    this.subs = [studies.onDidChange(() => this.changed.fire(undefined)), runs.onDidChange(() => this.changed.fire(undefined))];
  }

  refresh(): void {
    this.changed.fire(undefined);
  }

  async getChildren(node?: ExplorerNode): Promise<ExplorerNode[]> {
    if (!node) {
      await this.studies.ready();
      return this.studies.list().map((entry) => ({ kind: 'study', entry }));
    }
    if (node.kind === 'study' && node.entry.view) {
      const trials = [...node.entry.view.trials].sort((a, b) => b.number - a.number);
      const out: ExplorerNode[] = node.entry.view.seqlen?.length ? [{ kind: 'seqlen', entry: node.entry }] : [];
      return out.concat(trials.map((trial) => ({ kind: 'trial', entry: node.entry, trial })));
    }
    if (node.kind === 'seqlen') return (node.entry.view?.seqlen ?? []).map((row) => ({ kind: 'seqlenRow', entry: node.entry, row }));
    return [];
  }

  getTreeItem(node: ExplorerNode): vscode.TreeItem {
    switch (node.kind) {
      case 'study':
        return this.studyItem(node.entry);
      case 'trial':
        return this.trialItem(node.entry, node.trial);
      case 'seqlen':
        return this.seqlenItem(node.entry);
      case 'seqlenRow':
        return this.seqlenRowItem(node.entry, node.row);
    }
  }

  private studyItem(e: StudyEntry): vscode.TreeItem {
    const uri = vscode.Uri.file(e.file);
    if (!e.view) {
      const item = new vscode.TreeItem(vscode.workspace.asRelativePath(uri), vscode.TreeItemCollapsibleState.None);
      item.iconPath = new vscode.ThemeIcon('warning', new vscode.ThemeColor('problemsWarningIcon.foreground'));
      item.description = vscode.l10n.t('invalid study file');
      item.tooltip = e.error ?? '';
      item.contextValue = 'study.invalid';
      item.command = { command: 'vscode.open', title: vscode.l10n.t('Open'), arguments: [uri] };
      item.id = `invalid:${e.file}`;
      return item;
    }
    const v = e.view;
    const done = v.trials.filter((t) => t.state === 'complete').length;
    const best = v.trials.find((t) => t.number === v.bestTrial);
    const running = this.runs.get(e.file) !== undefined;
    const children = v.trials.length + (v.seqlen?.length ? 1 : 0);
    // Small or running studies open expanded; a study of hundreds of trials starts collapsed.
    const state = !children ? vscode.TreeItemCollapsibleState.None : v.trials.length <= 100 || running ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.Collapsed;
    const item = new vscode.TreeItem(v.name, state);
    // A new id once children exist: VS Code keeps an id's old (leaf) state otherwise.
    item.id = `study:${e.file}${children ? '' : ':empty'}`;
    item.resourceUri = uri;
    item.iconPath = new vscode.ThemeIcon(running ? 'loading~spin' : 'beaker');
    const runs = v.seqlen?.reduce((a, r) => a + r.n, 0) ?? 0;
    // A study that so far only ran its sequence-length study says so, not "0/0 complete".
    item.description =
      !v.trials.length && runs
        ? vscode.l10n.t('{0} sequence-length runs · best max_len {1}', runs, String(v.seqlenBest ?? '—'))
        : vscode.l10n.t('{0}/{1} complete · best {2}', done, v.trials.length, best ? formatValue(best.value) : '—');
    const tip = `**${v.name}** — ${v.tuner}, ${v.objective.metric} (${v.objective.direction})\n\n${vscode.workspace.asRelativePath(uri)}`;
    item.tooltip = new vscode.MarkdownString(tip);
    item.contextValue = running ? 'study.running' : 'study';
    const sh = v.shared;
    if (sh) {
      // Shared through PostgreSQL: read-only here; workers anywhere run its trials.
      item.description += ` · ${sharedLabel(sh)}`;
      if (!running) item.iconPath = sh.status === 'offline' ? new vscode.ThemeIcon('debug-disconnect', new vscode.ThemeColor('problemsWarningIcon.foreground')) : sh.status === 'connecting' ? new vscode.ThemeIcon('sync~spin') : new vscode.ThemeIcon('cloud');
      const md = new vscode.MarkdownString(tip);
      md.appendMarkdown(`\n\n${vscode.l10n.t('Shared through PostgreSQL: shown read-only here; its trials are run by `trialbook worker` on any machine (Run a Worker Here starts one on this one).')}`);
      md.appendCodeblock(sh.where, 'text');
      if (sh.message) md.appendMarkdown(`\n\n${vscode.l10n.t('Offline, reconnecting:')}`).appendCodeblock(sh.message, 'text');
      item.tooltip = md;
      item.contextValue = running ? 'study.shared.running' : 'study.shared';
    }
    return item;
  }

  private seqlenItem(e: StudyEntry): vscode.TreeItem {
    const item = new vscode.TreeItem(vscode.l10n.t('Sequence length'), vscode.TreeItemCollapsibleState.Expanded);
    item.id = `seqlen:${e.file}`;
    item.iconPath = new vscode.ThemeIcon('symbol-ruler');
    const best = e.view!.seqlenBest;
    item.description = best != null ? vscode.l10n.t('val_loss mean ± std · lowest at {0}', best) : vscode.l10n.t('val_loss mean ± std');
    item.contextValue = 'seqlen';
    item.command = { command: 'trialbook.openDashboard', title: vscode.l10n.t('Open Dashboard'), arguments: [{ kind: 'study', entry: e }] };
    return item;
  }

  private seqlenRowItem(e: StudyEntry, r: SeqlenRow): vscode.TreeItem {
    const best = e.view!.seqlenBest === r.maxLen;
    const item = new vscode.TreeItem(`max_len ${r.maxLen}${best ? ' ★' : ''}`, vscode.TreeItemCollapsibleState.None);
    item.id = `seqlen:${e.file}:${r.maxLen}`;
    item.description = r.mean === null ? vscode.l10n.t('no finished run yet') : `${formatValue(r.mean)} ± ${formatValue(r.std ?? 0)} (n=${r.n})`;
    item.iconPath = best ? new vscode.ThemeIcon('star-full', new vscode.ThemeColor('charts.yellow')) : new vscode.ThemeIcon('dash');
    item.contextValue = 'seqlen.row';
    return item;
  }

  private trialItem(e: StudyEntry, t: TrialView): vscode.TreeItem {
    const v = e.view!;
    const best = v.bestTrial === t.number;
    const progress = t.state === 'running' && t.curve?.length ? ` · ${vscode.l10n.t('epoch {0}', t.curve[t.curve.length - 1]!.epoch)}${t.epochs ? `/${t.epochs}` : ''}` : '';
    const label = `#${t.number}  ${t.value !== null ? `${v.objective.metric} ${formatValue(t.value)}` : stateText(t.state)}${best ? ' ★' : ''}`;
    const item = new vscode.TreeItem(label, vscode.TreeItemCollapsibleState.None);
    item.id = `trial:${e.file}:${t.number}`;
    item.description = keyParams(t.params) + progress;
    item.iconPath = stateIcon(t, best);
    const tip = new vscode.MarkdownString();
    tip.appendMarkdown(`**${vscode.l10n.t('Trial {0}', t.number)}** — ${stateText(t.state)}${best ? ` (${vscode.l10n.t('best')})` : ''}\n\n`);
    const scores = [t.valLoss !== undefined ? `val_loss ${formatValue(t.valLoss)}` : '', t.valAccuracy !== undefined ? `val_accuracy ${formatValue(t.valAccuracy)}` : '', t.bestEpoch !== undefined ? vscode.l10n.t('best epoch {0}', t.bestEpoch) : ''].filter(Boolean);
    if (scores.length) tip.appendMarkdown(`${scores.join(' · ')}\n\n`);
    if (t.state === 'cancelled') tip.appendMarkdown(`${vscode.l10n.t('Stopped before it finished: Resume runs it again.')}\n\n`);
    if (t.resumeFrom !== undefined) tip.appendMarkdown(`${t.inheritedEpochs !== undefined ? vscode.l10n.t('Continued the checkpoint of trial {0} after epoch {1}.', t.resumeFrom, t.inheritedEpochs) : vscode.l10n.t('Promoted from trial {0}, trained from scratch.', t.resumeFrom)}\n\n`);
    tip.appendCodeblock(JSON.stringify(t.params, null, 2), 'json');
    if (t.error) tip.appendMarkdown(`\n\n${t.error}`);
    item.tooltip = tip;
    item.contextValue = `trial.${t.state}`;
    item.command = { command: 'trialbook.showCurves', title: vscode.l10n.t('Show Curves'), arguments: [{ kind: 'trial', entry: e, trial: t }] };
    return item;
  }

  dispose(): void {
    for (const d of this.subs) d.dispose();
    this.changed.dispose();
  }
}
