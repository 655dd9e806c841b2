/**
 * `trialbook init --data FILE --text-col C --label-col L --vocab VOCAB [--model M] [--notes N]
 *  [--tuner T] [--name NAME] --out STUDY.trialbook.json`
 *
 * Writes a study file with defaults that fit the data and the model (core/study-defaults.ts: 8:1:1
 * split, seed 42, cased tokenizer; a from-scratch preset gets from-scratch learning rates, a
 * pretrained folder the users' fine-tuning space; batch, warm-up and max_seq_len from the data).
 * It checks the data file and columns first, so a study that `init` writes is one that `split`
 * can run.
 */
import { existsSync } from 'node:fs';
import { basename, dirname, relative, resolve } from 'node:path';
import { Option, type Command } from 'commander';
import { UserError } from '../../core/errors';
import { writeFileAtomic } from '../../core/fsutil';
import { loadVocab } from '../../core/tokenizer';
import { findColumn, readTable } from '../../core/table';
import { parseStudy, type StudyInput, TunerSpec } from '../../core/study';
import { defaultTuner, measureData, studyDefaults } from '../../core/study-defaults';
import { isPreset, readConfig } from '../../engine/config';

interface InitOptions {
  data: string;
  textCol: string;
  labelCol: string;
  vocab: string;
  model: string;
  notes?: string;
  tuner: string;
  name?: string;
  out: string;
  force?: boolean;
}

/** Path as written into the study: relative to the study file's folder, with forward slashes. */
function rel(studyDir: string, p: string): string {
  return relative(studyDir, resolve(p)).split('\\').join('/') || '.';
}

export function buildInitStudy(o: InitOptions): { study: StudyInput; labels: Map<string, number> } {
  const table = readTable(o.data);
  const labelIdx = findColumn(table, o.labelCol, 'label column');
  const textIdx = findColumn(table, o.textCol, 'text column');
  const labels = new Map<string, number>();
  const texts: string[] = [];
  for (const r of table.records) {
    const v = (r.fields[labelIdx] ?? '').trim();
    if (!v) continue;
    labels.set(v, (labels.get(v) ?? 0) + 1);
    texts.push(r.fields[textIdx] ?? '');
  }
  if (labels.size < 2) throw new UserError(`${o.data}: column "${o.labelCol}" has ${labels.size} distinct label(s); a classifier needs at least two`, 'E_DATA');
  loadVocab(o.vocab); // refuses a vocab without [PAD], [UNK], [CLS] and [SEP]
  const out = resolve(o.out);
  const dir = dirname(out);
  const name = o.name ?? basename(out).replace(/\.trialbook\.json$/, '').replace(/\.json$/, '').replace(/[^A-Za-z0-9._-]/g, '-');
  const preset = isPreset(o.model);
  const d = studyDefaults({ ...measureData(texts, o.vocab), pretrained: !preset });
  const study: StudyInput = {
    name,
    data: { file: rel(dir, o.data), textColumn: o.textCol, labelColumn: o.labelCol, ratios: [0.8, 0.1, 0.1], seed: 42 },
    tokenizer: { vocab: rel(dir, o.vocab), lowercase: false, stripAccents: false },
    model: preset ? o.model : rel(dir, o.model),
    training: d.training,
    objective: { metric: 'val_loss', direction: 'minimize' },
    searchSpace: d.searchSpace,
    tuner: defaultTuner(TunerSpec.parse({ type: o.tuner }).type, d.epochs),
    budget: d.budget,
    seqlen: d.seqlen,
    ...(o.notes ? { notes: rel(dir, o.notes) } : {}),
  };
  return { study, labels };
}

export function register(program: Command): void {
  program
    .command('init')
    .description('write a study file with the defaults of the split → tune workflow')
    .requiredOption('--data <file>', 'labelled CSV/TSV file')
    .requiredOption('--text-col <name>', 'column with the text')
    .requiredOption('--label-col <name>', 'column with the label')
    .requiredOption('--vocab <file>', "the model's WordPiece vocab.txt")
    .option('--model <model>', 'tiny | mini | small (from scratch) or a folder with config.json + model.safetensors', 'tiny')
    .option('--notes <file>', 'markdown notes file the results are written into')
    .addOption(new Option('--tuner <tuner>', 'tuner').choices(['hyperband', 'bayesian', 'tpe', 'asha', 'random', 'grid']).default('hyperband'))
    .option('--name <name>', 'study name (default: from the output file name)')
    .requiredOption('--out <file>', 'study file to write (NAME.trialbook.json)')
    .option('--force', 'overwrite an existing study file')
    .action((o: InitOptions) => {
      const out = resolve(o.out);
      if (existsSync(out) && !o.force) throw new UserError(`${o.out}: already exists; pass --force to overwrite it`, 'E_EXISTS');
      if (!isPreset(o.model)) readConfig(resolve(o.model));
      const { study, labels } = buildInitStudy(o);
      parseStudy(study, out);
      writeFileAtomic(out, JSON.stringify(study, null, 2) + '\n');
      const counts = [...labels].map(([k, v]) => `${k}: ${v}`).join(', ');
      process.stdout.write(`wrote ${o.out} (study "${study.name}"; labels ${counts})\nnext: trialbook split --study ${o.out}\n`);
    });
}
