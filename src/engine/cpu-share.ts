/**
 * How many BLAS threads a trial should run when other processes also want the cores. A product
 * split over two threads finishes when the slower half does; when another process holds one of
 * the cores, the half waiting for it stalls the whole product, and OpenBLAS's threads spin while
 * they wait. On this project's 2-core machine with a load of 7 from other processes, a trial ran
 * at a sixteenth of its quiet speed instead of about its fair share (a quarter).
 *
 * So the thread count follows the cores the other processes leave free: every window (a couple
 * of seconds), the CPU time all cores spent busy minus this process's own CPU time (spinning
 * included) gives the cores the others use. os.cpus() and process.cpuUsage() read it on every
 * platform Node runs on.
 */
import { cpus } from 'node:os';

export interface CpuClock {
  /** Milliseconds, monotonic. */
  now(): number;
  /** Busy milliseconds of all cores together, since boot. */
  busyMs(): number;
  /** CPU milliseconds of this process (all its threads), since it started. */
  ownMs(): number;
}

export const systemClock: CpuClock = {
  now: () => performance.now(),
  busyMs: () => cpus().reduce((s, c) => s + c.times.user + c.times.nice + c.times.sys + c.times.irq, 0),
  ownMs: () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  },
};

/**
 * Threads for `free` idle cores, at most `max`, at least one. Two threads only pay when the
 * second core is nearly all ours: a core shared with another process stalls every product.
 */
export function threadsForFreeCores(free: number, max: number): number {
  return Math.max(1, Math.min(max, Math.floor(free + 0.3)));
}

export class CpuShare {
  private mark: { t: number; busy: number; own: number } | undefined;
  private current: number;
  /** The first estimate comes after a short window; later ones after `windowMs`. */
  private nextWindow: number;

  constructor(
    private readonly cores: number,
    private readonly max: number,
    private readonly clock: CpuClock = systemClock,
    private readonly windowMs = 2000,
  ) {
    this.current = max;
    this.nextWindow = windowMs / 4;
  }

  /** The thread count to use now: re-estimated when a window has passed, else the last one. */
  threads(): number {
    const t = this.clock.now();
    if (!this.mark) {
      this.mark = { t, busy: this.clock.busyMs(), own: this.clock.ownMs() };
      return this.current;
    }
    const span = t - this.mark.t;
    if (span < this.nextWindow) return this.current;
    const busy = this.clock.busyMs();
    const own = this.clock.ownMs();
    const others = Math.max(0, (busy - this.mark.busy - (own - this.mark.own)) / span);
    this.current = threadsForFreeCores(this.cores - others, this.max);
    this.mark = { t, busy, own };
    this.nextWindow = this.windowMs;
    return this.current;
  }
}
