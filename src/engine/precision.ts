/**
 * The precision of a trial's matmuls: `fp32`, `bf16` (mixed precision: bf16 matmul inputs, fp32
 * accumulation, fp32 master weights, optimizer and everything outside the products, as PyTorch's
 * CPU autocast and TPUs do it) or `auto` (bf16 where the CPU has bf16 instructions, AVX512-BF16
 * or AMX, and oneDNN loads; else fp32). The bf16 products run on oneDNN through the native addon
 * (native/blas/onednn.c); products too small to gain stay fp32 there.
 */
import { UserError } from '../core/errors';
import type { PRECISIONS } from '../core/study';
import type { BackendInfo } from './backend';
import { setMatmulPrecision } from './native-blas';

export type PrecisionSetting = (typeof PRECISIONS)[number];
export type Precision = 'fp32' | 'bf16';

/** The precision a setting gives on this backend; `bf16` that cannot run is an error naming the setting. */
export function resolvePrecision(setting: PrecisionSetting, backend: Pick<BackendInfo, 'name' | 'blas' | 'skipped'>): { precision: Precision; note?: string } {
  if (setting === 'fp32') return { precision: 'fp32' };
  const bf16 = backend.blas?.bf16;
  if (setting === 'auto') return { precision: bf16?.native ? 'bf16' : 'fp32' };
  if (!bf16) {
    const why = backend.name !== 'wasm' ? `the ${backend.name} backend has no bf16 matmuls here` : !backend.blas ? `the native BLAS addon is not in use (${backend.skipped.filter((s) => s.startsWith('native BLAS')).join('; ') || 'not built'})` : backend.blas.bf16Why;
    throw new UserError(`precision "bf16": ${why}; use "fp32" or "auto"`, 'E_PRECISION');
  }
  return { precision: 'bf16', note: bf16.native ? undefined : 'precision bf16: this CPU has no bf16 instructions (AVX512-BF16, AMX); oneDNN emulates them, slower than fp32' };
}

/**
 * Runs a training run `f` at the precision `setting` gives on `backend` (a note, such as bf16
 * emulated, goes to `log`) and adds the precision it ran at to its result.
 */
export async function atPrecision<T extends object>(setting: PrecisionSetting | undefined, backend: Pick<BackendInfo, 'name' | 'blas' | 'skipped'>, log: ((level: 'warn', text: string) => void) | undefined, f: () => Promise<T>): Promise<T & { precision: Precision }> {
  const { precision, note } = resolvePrecision(setting ?? 'fp32', backend);
  if (note) log?.('warn', note);
  return withPrecision(precision, async () => ({ ...(await f()), precision }));
}

/** Runs `f` with the native matmuls at `precision`, and fp32 again afterwards. */
export async function withPrecision<T>(precision: Precision, f: () => Promise<T>): Promise<T> {
  if (precision === 'fp32') return f();
  if (setMatmulPrecision('bf16') !== 'bf16') throw new Error('engine: bf16 matmuls could not be switched on');
  try {
    return await f();
  } finally {
    setMatmulPrecision('fp32');
  }
}
