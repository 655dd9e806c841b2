/**
 * Small seeded PRNG (mulberry32) used wherever results must repeat for a seed: splitting,
 * shuffling, tuner sampling, weight init. Same seed → same sequence on every platform.
 */
export class Rng {
  private state: number;
  constructor(seed: number) {
    this.state = mixSeed(seed);
  }
  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    return mulberry32Output(this.state);
  }
  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  /** Standard normal (Box–Muller). */
  normal(): number {
    let u = 0;
    while (u === 0) u = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next());
  }
  /**
   * Fills `out` with normal values of standard deviation `std`: Box–Muller keeping both values of
   * each pair (half the logarithms and square roots of normal() per value; weight init draws
   * millions).
   */
  fillNormal(out: Float32Array, std: number): Float32Array {
    for (let i = 0; i < out.length; i += 2) {
      let u = 0;
      while (u === 0) u = this.next();
      const r = Math.sqrt(-2 * Math.log(u)) * std;
      const a = 2 * Math.PI * this.next();
      out[i] = r * Math.cos(a);
      if (i + 1 < out.length) out[i + 1] = r * Math.sin(a);
    }
    return out;
  }
  /**
   * Advances the stream exactly as fillNormal would for `n` values, without computing them: a
   * model whose body comes from a cache still gets the head a full build would give it.
   */
  skipNormals(n: number): void {
    for (let i = 0; i < n; i += 2) {
      while (this.next() === 0);
      this.next();
    }
  }
  /** Fisher–Yates shuffle in place. */
  shuffle<T>(a: T[] | Int32Array | Uint32Array): typeof a {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = a[i];
      a[i] = a[j];
      a[j] = tmp;
    }
    return a;
  }
}

/** The starting state for a seed: mixed so that nearby seeds (1, 2, 3…) give unrelated streams. */
export function mixSeed(seed: number): number {
  let s = (seed ^ 0x9e3779b9) >>> 0;
  s = Math.imul(s ^ (s >>> 16), 0x85ebca6b) >>> 0;
  s = Math.imul(s ^ (s >>> 13), 0xc2b2ae35) >>> 0;
  return (s ^ (s >>> 16)) >>> 0;
}

/** mulberry32's output in [0, 1) for an advanced state (native/blas repeats this bit for bit). */
export function mulberry32Output(state: number): number {
  let t = Math.imul(state ^ (state >>> 15), state | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
