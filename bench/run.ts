/**
 * `npm run bench`: runs every bench/*.bench.ts (or those whose name contains an argument) and
 * prints one JSON object. Each bench module exports `run(): Promise<object>` and compares
 * Trialbook with its peer in the same run, as ratios. Benchmarks are not timed tests.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

async function main(): Promise<void> {
  const filters = process.argv.slice(2);
  const files = readdirSync(__dirname).filter((f) => f.endsWith('.bench.ts')).sort()
    .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)));
  const out: Record<string, unknown> = { machine: { cpus: require('node:os').cpus().length, node: process.version } };
  for (const f of files) {
    const mod = await import(join(__dirname, f));
    const name = f.replace(/\.bench\.ts$/, '');
    process.stderr.write(`bench: ${name}…\n`);
    try {
      out[name] = await mod.run();
    } catch (e) {
      out[name] = { error: (e as Error).message };
    }
  }
  process.stdout.write(JSON.stringify(out, null, 2) + '\n');
}
main();
