/**
 * `trialbook runtime [--backend NAME] [--json]`: the runtime training would use here (asked of a
 * worker, as training does), as one line (backend, the BLAS behind the matmuls with its kernels
 * and threads, bf16; then why each better runtime was skipped) or as JSON (what the editor's
 * Select Runtime shows).
 */
import type { Command } from 'commander';
import { runJobFromCli } from '../../worker/cli-run';
import type { WorkerBackend } from '../../worker/backend';

export function register(program: Command): void {
  program
    .command('runtime')
    .description('Show the runtime training would use here: backend, BLAS kernels and threads, bf16')
    .option('--backend <name>', 'TensorFlow.js backend to try: tensorflow-gpu, tensorflow, wasm or cpu (default: best available)')
    .option('--json', 'print the backend information as JSON')
    .action(async (o: { backend?: string; json?: boolean }) => {
      const outcome = await runJobFromCli<WorkerBackend>({ kind: 'runtime', options: { backend: o.backend } }, {});
      if (!outcome.ok || !outcome.result) {
        process.exitCode = outcome.code;
        return;
      }
      const r = outcome.result;
      if (o.json) process.stdout.write(`${JSON.stringify(r)}\n`);
      else process.stdout.write([r.runtime, ...r.skipped.map((s) => `  skipped: ${s}`)].join('\n') + '\n');
    });
}
