/**
 * A busy machine: tiny training throughput (seq 128, batch 16) with busy loops in other
 * processes (twice as many as cores), BLAS threads fixed at one per core (as before cpu-share.ts)
 * against BLAS threads that follow the free cores (the default), and the same two quiet, all in
 * one run. Compare the ratios: absolute figures depend on whatever else the machine runs.
 * TRIALBOOK_BENCH_BUSY_LOOPS sets the number of busy loops.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { r2, runChild } from './shared';

const ENGINE_BENCH = join(__dirname, 'engine.bench.ts');
const m = { preset: 'tiny', seq: 128, batch: 16, steps: 40, what: 'throughput' };

async function withBusyLoops<T>(count: number, f: () => Promise<T>): Promise<T> {
  const loops: ChildProcess[] = Array.from({ length: count }, () => spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }));
  try {
    return await f();
  } finally {
    for (const p of loops) p.kill();
  }
}

export async function run(): Promise<object> {
  const cores = cpus().length;
  const loops = Number(process.env.TRIALBOOK_BENCH_BUSY_LOOPS) || 2 * cores;
  const fixed = { TRIALBOOK_BLAS_THREADS: String(cores) };
  const ex = async (env: NodeJS.ProcessEnv) => Number((await runChild(ENGINE_BENCH, m, env)).train_ex_s);
  const quietFixed = await ex(fixed);
  const quietAdaptive = await ex({});
  const busyFixed = await withBusyLoops(loops, () => ex(fixed));
  const busyAdaptive = await withBusyLoops(loops, () => ex({}));
  return {
    cores,
    busy_loops: loops,
    // What a trial running a thread per core keeps of its quiet speed if every runnable thread
    // got the same CPU time and nothing were lost to waiting.
    fair_share_of_quiet: r2(cores / (cores + loops)),
    train_ex_s: { quiet_fixed: r2(quietFixed), quiet_adaptive: r2(quietAdaptive), busy_fixed: r2(busyFixed), busy_adaptive: r2(busyAdaptive) },
    busy_over_quiet: { fixed_threads: r2(busyFixed / quietFixed), adaptive_threads: r2(busyAdaptive / quietAdaptive) },
    busy_adaptive_over_fixed: r2(busyAdaptive / busyFixed),
    quiet_adaptive_over_fixed: r2(quietAdaptive / quietFixed),
  };
}
