/**
 * `trialbook plan STUDY [--json]`
 * `trialbook plan --tuner hyperband --max-epochs R --factor η [--iterations k] [--json]`
 *
 * Says before a study starts what its tuner will spend. For Hyperband: every bracket's
 * successive-halving rounds (configurations × total epochs), and the configurations, runs and
 * epochs of the whole search (a promoted configuration resumes its checkpoint, so only its
 * extra epochs count). For the other tuners: the trial budget. Reads nothing but the study file.
 */
import type { Command } from 'commander';
import { InvalidArgumentError, Option } from 'commander';
import { UserError } from '../../core/errors';
import { loadStudy, TunerSpec } from '../../core/study';
import { ashaRungs } from '../../tuners/asha';
import { planHyperband, sMax, type HyperbandPlan } from '../../tuners/hyperband';

interface PlanOptions {
  tuner?: TunerSpec['type'];
  maxEpochs?: number;
  factor?: number;
  iterations?: number;
  minEpochs?: number;
  trials?: number;
  epochs?: number;
  json?: boolean;
}

function int(min: number, flag: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${flag} must be a whole number ≥ ${min}, got "${v}"`);
    return n;
  };
}

export function register(program: Command): void {
  program
    .command('plan')
    .description('show what a tuner will spend before starting: Hyperband brackets, configurations, runs, epochs')
    .argument('[study]', 'study file (NAME.trialbook.json); or describe the tuner with the options below')
    .addOption(new Option('--tuner <type>', 'tuner, without a study file').choices(['random', 'grid', 'hyperband', 'bayesian', 'tpe', 'asha']))
    .option('--max-epochs <R>', 'Hyperband/ASHA: most epochs for one configuration (max_epochs)', int(1, '--max-epochs'))
    .option('--factor <eta>', 'Hyperband/ASHA: reduction factor η (factor)', int(2, '--factor'))
    .option('--iterations <k>', 'Hyperband: hyperband_iterations', int(1, '--iterations'))
    .option('--min-epochs <r>', 'ASHA: epochs of the bottom rung (min_epochs)', int(1, '--min-epochs'))
    .option('--trials <n>', 'other tuners: trial budget (budget.maxTrials)', int(1, '--trials'))
    .option('--epochs <n>', 'other tuners: epochs per trial (training.epochs)', int(1, '--epochs'))
    .option('--json', 'print the plan as JSON')
    .action((file: string | undefined, opts: PlanOptions) => {
      const out = file ? planFromStudy(file, opts) : planFromFlags(opts);
      process.stdout.write(opts.json ? `${JSON.stringify(out.json)}\n` : out.text);
    });
}

interface PlanOutput {
  json: unknown;
  text: string;
}

function planFromStudy(file: string, opts: PlanOptions): PlanOutput {
  const flags = (['tuner', 'maxEpochs', 'factor', 'iterations', 'minEpochs', 'trials', 'epochs'] as const).filter((k) => opts[k] !== undefined);
  if (flags.length) throw new UserError(`plan: give either a study file or --tuner options, not both (got ${file} and --${flags.map(kebab).join(', --')})`, 'E_USAGE');
  const { study, file: abs } = loadStudy(file);
  return describe(study.tuner, study.budget.maxTrials, study.training.epochs, study.budget.repeats, abs);
}

function planFromFlags(opts: PlanOptions): PlanOutput {
  if (!opts.tuner) throw new UserError('plan: give a study file, or --tuner TYPE (e.g. plan --tuner hyperband --max-epochs 27 --factor 3)', 'E_USAGE');
  const raw: Record<string, unknown> = { type: opts.tuner };
  const only = (flag: keyof PlanOptions, key: string, tuners: string[]): void => {
    if (opts[flag] === undefined) return;
    if (!tuners.includes(opts.tuner!)) throw new UserError(`plan: --${kebab(flag)} does not apply to --tuner ${opts.tuner} (only ${tuners.join(', ')})`, 'E_USAGE');
    raw[key] = opts[flag];
  };
  only('maxEpochs', 'max_epochs', ['hyperband', 'asha']);
  only('factor', 'factor', ['hyperband', 'asha']);
  only('iterations', 'hyperband_iterations', ['hyperband']);
  only('minEpochs', 'min_epochs', ['asha']);
  const parsed = TunerSpec.safeParse(raw);
  if (!parsed.success) throw new UserError(`plan: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'tuner'}: ${i.message}`).join('; ')}`, 'E_USAGE');
  const spec = parsed.data;
  if (spec.type === 'asha' && spec.min_epochs > spec.max_epochs) throw new UserError(`plan: --min-epochs (${spec.min_epochs}) must not exceed --max-epochs (${spec.max_epochs})`, 'E_USAGE');
  return describe(spec, opts.trials ?? 20, opts.epochs ?? 3, 1);
}

function kebab(k: string): string {
  return k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

function describe(spec: TunerSpec, maxTrials: number, epochs: number, repeats: number, file?: string): PlanOutput {
  const where = file ? ` (${file})` : '';
  if (spec.type === 'hyperband') return describeHyperband(spec.max_epochs, spec.factor, spec.hyperband_iterations, repeats, where);
  if (spec.type === 'asha') {
    if (spec.min_epochs > spec.max_epochs) throw new UserError(`${file}: tuner.min_epochs (${spec.min_epochs}) must not exceed tuner.max_epochs (${spec.max_epochs})`, 'E_STUDY');
    const rungs = ashaRungs(spec.min_epochs, spec.max_epochs, spec.factor);
    const runs = maxTrials * repeats;
    const text =
      `ASHA${where}: rungs at ${rungs.join(', ')} epochs (factor ${spec.factor}); a run is promoted to the next rung when it is in the top 1/${spec.factor} of its rung.\n` +
      `budget: ${maxTrials} runs${repeats > 1 ? ` × ${repeats} repeats = ${runs} runs` : ''}, promotions included; between ${runs * rungs[0]} and ${runs * spec.max_epochs} epochs.\n`;
    return { json: { tuner: 'asha', rungs, trials: maxTrials, repeats, runs, minEpochs: runs * rungs[0], maxEpochs: runs * spec.max_epochs }, text };
  }
  const runs = maxTrials * repeats;
  const text =
    `${spec.type}${where}: ${maxTrials} trials${repeats > 1 ? ` × ${repeats} repeats = ${runs} runs` : ''} of ${epochs} epochs = ${runs * epochs} epochs at most ` +
    `(early stopping can end a run sooner).\n`;
  return { json: { tuner: spec.type, trials: maxTrials, repeats, runs, epochs: runs * epochs }, text };
}

function describeHyperband(R: number, eta: number, iterations: number, repeats: number, where: string): PlanOutput {
  const plan: HyperbandPlan = planHyperband(R, eta, iterations);
  const lines = [`Hyperband${where}: max_epochs R = ${R}, factor η = ${eta}, ${iterations} iteration${iterations > 1 ? 's' : ''}, s_max = ${sMax(R, eta)}`];
  for (const b of plan.brackets) {
    let prev = 0;
    let ep = 0;
    let runs = 0;
    for (const r of b.rounds) {
      ep += r.n * (r.epochs - prev);
      runs += r.n;
      prev = r.epochs;
    }
    const rounds = b.rounds.map((r) => `${r.n}×${r.epochs}`).join(' → ');
    lines.push(`  bracket s=${b.s}: ${rounds}   (${b.rounds[0].n} configurations, ${runs} runs, ${ep} epochs)`);
  }
  lines.push(`  (n×e: n configurations trained to e epochs in total; a promoted one resumes its checkpoint and trains only the extra epochs)`);
  const per = iterations > 1 ? ` over ${iterations} iterations` : '';
  lines.push(`total${per}: ${plan.configs} configurations, ${plan.runs} runs, ${plan.epochs} epochs`);
  if (repeats > 1) lines.push(`with repeats = ${repeats}: ${plan.runs * repeats} runs, ${plan.epochs * repeats} epochs`);
  const json: Record<string, unknown> = { brackets: plan.brackets, configs: plan.configs, runs: plan.runs * repeats, epochs: plan.epochs * repeats };
  if (repeats > 1) json.repeats = repeats;
  return { json, text: `${lines.join('\n')}\n` };
}
