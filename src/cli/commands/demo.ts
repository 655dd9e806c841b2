/**
 * `trialbook demo [--dir DIR]` — the whole workflow on a generated corpus, with nothing from
 * outside the project: write a demo workspace (synthetic Korean game reviews, a char vocab,
 * a notes file and a study), split it, show token lengths, tune, and write the results into the
 * notes. Each step is the real command, run in this process in order, so the demo shows
 * exactly what a user would type. Running it again continues (the split is reused, the study
 * resumes) instead of starting over.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { DEMO_DEFAULTS, writeDemoWorkspace } from '../../core/demo';
import { loadStudy, studyStateDir } from '../../core/study';
import { JOURNAL_FILE } from '../../store/journal';
import type { CommandContext } from '../context';

const STUDY_FILE = 'demo.trialbook.json';

interface DemoOptions {
  dir: string;
  count: string;
  seed: string;
}

async function step(ctx: CommandContext, title: string, argv: string[]): Promise<void> {
  process.stdout.write(`\n== ${title}\n$ trialbook ${argv.join(' ')}\n`);
  const program = ctx.program();
  program.exitOverride();
  await program.parseAsync(argv, { from: 'user' });
  if (typeof process.exitCode === 'number' && process.exitCode !== 0) {
    throw Object.assign(new Error(`demo stopped: \`trialbook ${argv.join(' ')}\` exited with ${process.exitCode}`), { name: 'UserError' });
  }
}

export function register(program: Command, ctx: CommandContext): void {
  program
    .command('demo')
    .description('run the whole workflow (split → lengths → tune → report into notes) on a generated demo corpus')
    .option('--dir <dir>', 'folder for the demo workspace (created if missing)', 'trialbook-demo')
    .option('--count <n>', 'reviews to generate', String(DEMO_DEFAULTS.count))
    .option('--seed <n>', 'seed of the generated corpus', String(DEMO_DEFAULTS.seed))
    .action(async (opts: DemoOptions) => {
      const dir = resolve(opts.dir);
      const study = join(dir, STUDY_FILE);
      if (!existsSync(study)) {
        writeDemoWorkspace(dir, { count: Number(opts.count), seed: Number(opts.seed) });
        process.stdout.write(`demo workspace written to ${dir}\n`);
      } else {
        process.stdout.write(`using the existing demo workspace in ${dir}\n`);
      }
      const loaded = loadStudy(study);
      const data = loaded.study.data.file;
      await step(ctx, '1. split 8:1:1 (stratified, seeded; reused when unchanged)', ['split', '--study', study]);
      await step(ctx, '2. token lengths (to choose max_seq_len)', ['lengths', '--vocab', loaded.resolve(loaded.study.tokenizer.vocab), '--input', loaded.resolve(data), '--text-col', loaded.study.data.textColumn]);
      const resume = existsSync(join(studyStateDir(loaded), JOURNAL_FILE)) ? ['--resume'] : [];
      await step(ctx, `3. tune (${loaded.study.tuner.type})`, ['tune', study, ...resume]);
      await step(ctx, '4. report, test-set score of the best trial, written into the notes', ['report', study, '--test', '--notes']);
      process.stdout.write(`\nDone. Open ${loaded.study.notes ? loaded.resolve(loaded.study.notes) : dir} to see the results block.\n`);
    });
}
