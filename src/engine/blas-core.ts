/**
 * Which of OpenBLAS's kernel sets ("core types") to load. OpenBLAS picks them by CPU model
 * number, and a model it does not know gets its oldest x86-64 kernels: OpenBLAS 0.3.21 runs a
 * VM's generic "Intel Xeon Processor" (AVX-512, AMX) as Prescott, at a fifth of the speed of its
 * SkylakeX kernels (../shared/notes/runtime-facts.md). The feature bits are right even where the
 * model is not, so the core type is chosen from them, as the addon's own kernels are
 * (target_clones), and handed to OpenBLAS through OPENBLAS_CORETYPE, which it reads once, when
 * it is loaded. A user's own OPENBLAS_CORETYPE wins.
 */

/** What the addon's cpuid reads (native/blas/cpu.c); each only where the OS saves its registers. */
export interface CpuFeatures {
  vendor: string;
  avx: boolean;
  avx2: boolean;
  fma: boolean;
  /** AVX-512 F, DQ, BW and VL. */
  avx512: boolean;
  avx512_bf16: boolean;
  amx_bf16: boolean;
}

/** Who chose the kernels OpenBLAS runs. */
export type CoreSource = 'cpu-flags' | 'user' | 'openblas';

/**
 * The best OpenBLAS core type for these features (names as OPENBLAS_CORETYPE spells them), or
 * undefined to leave the choice to OpenBLAS (not x86, or too old to matter). Cooperlake is
 * SkylakeX's kernels plus bf16 ones and measured faster than SapphireRapids for sgemm on an AMX
 * machine; AMD's AVX2 cores get OpenBLAS's Zen tuning of the Haswell kernels.
 */
export function openblasCoreFor(f: CpuFeatures): string | undefined {
  if (f.avx512 && f.avx512_bf16) return 'Cooperlake';
  if (f.avx512) return 'SkylakeX';
  if (f.avx2 && f.fma) return f.vendor === 'AuthenticAMD' || f.vendor === 'HygonGenuine' ? 'Zen' : 'Haswell';
  if (f.avx) return 'Sandybridge';
  return undefined;
}

/** Whether the kernels OpenBLAS reports are the ones asked for (its names, any case). */
export function coreSource(loaded: string, user: string | undefined, chosen: string | undefined): CoreSource {
  if (user) return 'user';
  return chosen && loaded.toLowerCase() === chosen.toLowerCase() ? 'cpu-flags' : 'openblas';
}

/** "Cooperlake kernels (from CPU flags)", for the runtime line. */
export function describeCore(core: string, source: CoreSource, asked?: string): string {
  const why = source === 'user' ? 'OPENBLAS_CORETYPE' : source === 'cpu-flags' ? 'from CPU flags' : asked ? `OpenBLAS's choice; asked for ${asked}` : "OpenBLAS's choice";
  return `${core} kernels (${why})`;
}
