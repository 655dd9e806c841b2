/**
 * A busy machine: tiny training throughput (seq 128, batch 16) with busy loops in other
 * processes (twice as many as cores), BLAS threads fixed at one per core (as before cpu-share.ts)
 * against BLAS threads that follow the free cores (the default), and the same two quiet, all in
 * one run, with the cores each trial held (its CPU time over the wall time) and its examples/s per
 * core held. Compare the ratios: absolute figures depend on whatever else the machine runs.
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
  const run = async (env: NodeJS.ProcessEnv) => {
    const r = await runChild(ENGINE_BENCH, m, env);
    return { ex: Number(r.train_ex_s), cores: Number(r.train_cores) };
  };
  const quietFixed = await run(fixed);
  const quietAdaptive = await run({});
  const busyFixed = await withBusyLoops(loops, () => run(fixed));
  const busyAdaptive = await withBusyLoops(loops, () => run({}));
  // Examples per second for each core's worth of CPU the trial held: equal busy and quiet when
  // a trial degrades in proportion to its CPU share; lower when it burns its share waiting.
  const perCore = (x: { ex: number; cores: number }) => r2(x.ex / x.cores);
  return {
    cores,
    busy_loops: loops,
    train_ex_s: { quiet_fixed: r2(quietFixed.ex), quiet_adaptive: r2(quietAdaptive.ex), busy_fixed: r2(busyFixed.ex), busy_adaptive: r2(busyAdaptive.ex) },
    cores_held: { quiet_fixed: r2(quietFixed.cores), quiet_adaptive: r2(quietAdaptive.cores), busy_fixed: r2(busyFixed.cores), busy_adaptive: r2(busyAdaptive.cores) },
    ex_s_per_core_held: { quiet_fixed: perCore(quietFixed), quiet_adaptive: perCore(quietAdaptive), busy_fixed: perCore(busyFixed), busy_adaptive: perCore(busyAdaptive) },
    busy_over_quiet: { fixed_threads: r2(busyFixed.ex / quietFixed.ex), adaptive_threads: r2(busyAdaptive.ex / quietAdaptive.ex) },
    busy_adaptive_over_fixed: r2(busyAdaptive.ex / busyFixed.ex),
    quiet_adaptive_over_fixed: r2(quietAdaptive.ex / quietFixed.ex),
  };
}
