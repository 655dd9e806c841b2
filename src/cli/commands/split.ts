import type { Command } from 'commander';
import { UserError } from '../../core/errors';
import { splitDataset, splitFromStudy, type SplitResult } from '../../core/split';
import { loadStudy } from '../../core/study';

interface SplitCliOptions {
  study?: string;
  input?: string;
  textCol?: string;
  labelCol?: string;
  ratios?: string;
  seed?: string;
  labels?: string;
  delimiter?: string;
  skipBad?: boolean;
  keepDuplicates?: boolean;
  force?: boolean;
  out?: string;
  json?: boolean;
}

/** Options that describe the data; with --study they come from the study file instead. */
const DATA_OPTIONS: Array<[keyof SplitCliOptions, string]> = [
  ['input', '--input'],
  ['textCol', '--text-col'],
  ['labelCol', '--label-col'],
  ['ratios', '--ratios'],
  ['seed', '--seed'],
  ['labels', '--labels'],
  ['delimiter', '--delimiter'],
  ['skipBad', '--skip-bad'],
  ['keepDuplicates', '--keep-duplicates'],
  ['out', '--out'],
];

/** `trialbook split`: stratified, deduplicated, seeded train/val/test split of a CSV/TSV file. */
export function register(program: Command): void {
  program
    .command('split')
    .description('split a labelled CSV/TSV file into train/val/test (stratified, deduplicated, seeded)')
    .option('--study <file>', 'take the data settings from a study file (NAME.trialbook.json)')
    .option('--input <file>', 'data file (.csv, .tsv or .txt; the delimiter is taken from the extension or the header)')
    .option('--text-col <name>', 'column holding the text')
    .option('--label-col <name>', 'column holding the label')
    .option('--ratios <r>', 'train:val:test, e.g. 8:1:1 or 0.8:0.1:0.1', '8:1:1')
    .option('--seed <n>', 'seed for the stratified shuffle', '42')
    .option('--labels <list>', 'comma-separated allowed labels, in id order (others are bad rows)')
    .option('--delimiter <d>', 'force the delimiter: tab, comma or semicolon')
    .option('--skip-bad', 'skip bad rows (empty text, missing/unknown label, wrong column count) and report them')
    .option('--keep-duplicates', 'keep repeated texts (they may then appear in more than one split)')
    .option('--force', 'replace an existing split made from different inputs')
    .option('--out <dir>', 'output folder for train.tsv, val.tsv, test.tsv and manifest.json')
    .option('--json', 'print the manifest as JSON')
    .action((o: SplitCliOptions, cmd: Command) => {
      const result = o.study ? fromStudy(o, cmd) : fromOptions(o);
      if (o.json) process.stdout.write(JSON.stringify({ ...result.manifest, reused: result.reused }, null, 2) + '\n');
      else process.stdout.write(result.report.join('\n') + '\n');
    });
}

function fromStudy(o: SplitCliOptions, cmd: Command): SplitResult {
  // Explicit data options next to --study would be silently ignored; say so instead.
  const clash = DATA_OPTIONS.filter(([k]) => cmd.getOptionValueSource(k) === 'cli').map(([, flag]) => flag);
  if (clash.length > 0) {
    throw new UserError(`split: ${clash.join(', ')} cannot be combined with --study (the study file's "data" section sets them)`, 'E_USAGE');
  }
  return splitFromStudy(loadStudy(o.study!), { force: o.force });
}

function fromOptions(o: SplitCliOptions): SplitResult {
  const missing = [
    ['--input', o.input],
    ['--text-col', o.textCol],
    ['--label-col', o.labelCol],
    ['--out', o.out],
  ]
    .filter(([, v]) => !v)
    .map(([flag]) => flag);
  if (missing.length > 0) throw new UserError(`split: ${missing.join(', ')} ${missing.length > 1 ? 'are' : 'is'} required (or use --study FILE)`, 'E_USAGE');
  const seedText = String(o.seed).trim();
  if (!/^[+-]?\d+$/.test(seedText)) throw new UserError(`--seed: ${JSON.stringify(o.seed)} is not an integer`, 'E_USAGE');
  return splitDataset({
    input: o.input!,
    textColumn: o.textCol!,
    labelColumn: o.labelCol!,
    out: o.out!,
    ratios: o.ratios,
    seed: Number(seedText),
    labels: o.labels ? o.labels.split(',').map((s) => s.trim()) : undefined,
    delimiter: o.delimiter,
    skipBad: !!o.skipBad,
    dedupe: !o.keepDuplicates,
    force: !!o.force,
  });
}
