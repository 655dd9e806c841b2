/**
 * Matmuls of the wasm backend handed to the machine's BLAS (OpenBLAS or Apple Accelerate)
 * through a small optional N-API addon (native/blas). TensorFlow.js's wasm backend runs matmuls
 * at 2–30 GFLOP/s on one thread; OpenBLAS runs the same shapes at 100–130 GFLOP/s per core and
 * can use every core. The addon reads and writes the operands in place in the wasm heap (offsets
 * into WebAssembly memory), so nothing is copied.
 *
 * Everything else stays on the wasm backend: this only replaces the BatchMatMul and _FusedMatMul
 * kernels, and only for what the addon handles (float32, linear activation, bias row); other
 * cases call the backend's own kernel. Without the addon (not built: no compiler or no node
 * headers; or no BLAS library on the machine) the engine runs as before and says why.
 * TRIALBOOK_NATIVE_BLAS=0 turns it off; TRIALBOOK_BLAS_THREADS sets its thread count (else it
 * follows the cores other processes leave free: cpu-share.ts).
 *
 * The same addon opens oneDNN, when the machine has it, for bf16 matmuls (precision.ts);
 * TRIALBOOK_ONEDNN=0 leaves it closed and TRIALBOOK_ONEDNN_LIB picks the library.
 */
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { coreSource, describeCore, openblasCoreFor, type CoreSource, type CpuFeatures } from './blas-core';
import { CpuShare } from './cpu-share';

interface Addon {
  load(path?: string): { available: boolean; library: string; config: string; core: string; threads: number; error: string };
  cpuFeatures(): CpuFeatures;
  loadOnednn(path?: string): { available: boolean; description: string; error: string };
  setPrecision(p: 'fp32' | 'bf16'): 'fp32' | 'bf16';
  matmulStats(): { fp32: number; bf16: number };
  setThreads(n: number): number;
  gemm(heap: ArrayBuffer, a: number, b: number, c: number, bias: number, batchA: number, batchB: number, m: number, n: number, k: number, transA: boolean, transB: boolean): void;
  gelu(heap: ArrayBuffer, x: number, y: number, n: number): void;
  geluGrad(heap: ArrayBuffer, dy: number, x: number, dx: number, n: number): void;
  geluTanh(heap: ArrayBuffer, x: number, y: number, n: number): void;
  geluTanhGrad(heap: ArrayBuffer, dy: number, x: number, dx: number, n: number): void;
  layerNorm(heap: ArrayBuffer, x: number, gamma: number, beta: number, y: number, xhat: number, rstd: number, rows: number, cols: number, eps: number, res: number): void;
  layerNormGrad(heap: ArrayBuffer, dy: number, xhat: number, rstd: number, gamma: number, dx: number, dgamma: number, dbeta: number, rows: number, cols: number): void;
  gatherRows(heap: ArrayBuffer, table: number, tableRows: number, ids: number, n: number, out: number, cols: number, add: number, addRows: number): void;
  dropoutMask(heap: ArrayBuffer, out: number, states: Uint32Array, per: number, rate: number): void;
  maskedSoftmax(heap: ArrayBuffer, x: number, bias: number, y: number, rows: number, cols: number, group: number): void;
  softmaxGrad(heap: ArrayBuffer, dy: number, y: number, dx: number, rows: number, cols: number): void;
  addInto(heap: ArrayBuffer, dst: number, src: number, n: number): void;
  adamw(heap: ArrayBuffer, p: number, m: number, v: number, g: number, n: number, lr: number, beta1: number, beta2: number, c1: number, c2: number, eps: number, weightDecay: number, gradScale: number): void;
  sumSquares(heap: ArrayBuffer, x: number, out: number, n: number): void;
  gemmStrided(heap: ArrayBuffer, a: number, b: number, c: number, ...sizes: Array<number | boolean>): void;
}

export interface NativeBlasInfo {
  /** e.g. "OpenBLAS 0.3.21 (libopenblas.so.0)". */
  library: string;
  /** The most threads; with `adaptive`, fewer while other processes keep cores busy. */
  threads: number;
  adaptive: boolean;
  /** OpenBLAS's kernel set (e.g. "Cooperlake"), who chose it, and what Trialbook asked for. */
  core?: { name: string; source: CoreSource; asked?: string };
  /** bf16 matmuls: oneDNN and the kernel it runs them with, and whether the CPU has bf16 instructions. */
  bf16?: { description: string; native: boolean };
  /** Why bf16 matmuls are not available. */
  bf16Why?: string;
}

/** The addon file name; the build copies it next to the bundles in dist/. */
export const ADDON_FILE = 'trialbook_blas.node';

/** Where the addon may be: next to this bundle (dist/), else the package's native build folder. */
function addonCandidates(): string[] {
  const here = typeof __dirname === 'string' ? __dirname : process.cwd();
  const out = [join(here, ADDON_FILE)];
  for (let dir = here, i = 0; i < 6; i++, dir = dirname(dir)) {
    out.push(join(dir, 'native', 'blas', 'build', 'Release', ADDON_FILE));
  }
  return out;
}

let addon: Addon | undefined;
let installed: NativeBlasInfo | undefined;
/** Off: the installed kernels hand every product back to the wasm kernels (benchmarks, tests). */
let enabled = true;
/** Follows the free cores when no thread count was given (TRIALBOOK_BLAS_THREADS). */
let share: CpuShare | undefined;
let threadsNow = 0;

/** Opens the BLAS library with the core type chosen from the CPU's flags, unless the user set one. */
function loadBlasLibrary(a: Addon): ReturnType<Addon['load']> & { asked?: string; user?: string } {
  const user = process.env.OPENBLAS_CORETYPE || undefined;
  const asked = user ? undefined : openblasCoreFor(a.cpuFeatures());
  // OpenBLAS reads the variable once, as it loads; it is removed again so that child processes
  // (a PyTorch peer, say) do not take Trialbook's choice for their user's.
  if (asked) process.env.OPENBLAS_CORETYPE = asked;
  try {
    return { ...a.load(process.env.TRIALBOOK_BLAS_LIB || undefined), asked, user };
  } finally {
    if (asked) delete process.env.OPENBLAS_CORETYPE;
  }
}

/** oneDNN for bf16 matmuls, or why not. */
function loadBf16(a: Addon): Pick<NativeBlasInfo, 'bf16' | 'bf16Why'> {
  if (process.env.TRIALBOOK_ONEDNN === '0') return { bf16Why: 'oneDNN off (TRIALBOOK_ONEDNN=0)' };
  // oneDNN runs on OpenMP (libgomp), whose idle threads spin for a while after each product by
  // default: between products (our kernels, the JS around them, the threads that round operands
  // and update the weights) they held a core for nothing. Passive waiting trained BERT-base in
  // bf16 about 11% faster here. libgomp reads this once, when it is loaded just below; a
  // user's own setting stays.
  process.env.OMP_WAIT_POLICY ??= 'passive';
  const d = a.loadOnednn(process.env.TRIALBOOK_ONEDNN_LIB || undefined);
  if (!d.available) return { bf16Why: `oneDNN not available (${d.error}); Debian: apt install libdnnl2` };
  const f = a.cpuFeatures();
  return { bf16: { description: d.description, native: f.avx512_bf16 || f.amx_bf16 } };
}

/** Loads the addon itself (not yet any library); the reason when it cannot. */
function loadAddon(): string | undefined {
  if (addon) return undefined;
  const file = addonCandidates().find((f) => existsSync(f));
  if (!file) return 'native BLAS: addon not built (npm run build needs a C compiler and Node headers)';
  try {
    addon = createRequire(file)(file) as Addon;
  } catch (e) {
    return `native BLAS: addon failed to load (${(e as Error).message.split('\n')[0]})`;
  }
  return undefined;
}

/**
 * The OpenBLAS core type for another program on this machine (a PyTorch peer, run at its best):
 * the user's OPENBLAS_CORETYPE, else the one chosen from the CPU's flags; undefined when the
 * addon is not built or OpenBLAS should choose.
 */
export function openblasCoreForPeers(): string | undefined {
  if (process.env.OPENBLAS_CORETYPE) return process.env.OPENBLAS_CORETYPE;
  return loadAddon() || !addon ? undefined : openblasCoreFor(addon.cpuFeatures());
}

/**
 * Loads the addon and its BLAS library. Returns undefined (with the reason) when either is
 * missing; never throws.
 */
export function loadNativeBlas(): { info?: NativeBlasInfo; why?: string } {
  if (process.env.TRIALBOOK_NATIVE_BLAS === '0') return { why: 'native BLAS: off (TRIALBOOK_NATIVE_BLAS=0)' };
  const why = loadAddon();
  if (why || !addon) return { why };
  const r = loadBlasLibrary(addon);
  if (!r.available) return { why: `native BLAS: no BLAS library found (${r.error}); install OpenBLAS (Debian: libopenblas0-pthread)` };
  const fixed = Number(process.env.TRIALBOOK_BLAS_THREADS);
  const wanted = fixed || cpus().length;
  const threads = addon.setThreads(wanted) || wanted;
  threadsNow = threads;
  share = fixed ? undefined : new CpuShare(cpus().length, threads);
  const name = r.config ? r.config.split(' ').slice(0, 2).join(' ') : 'BLAS';
  const core = r.core ? { name: r.core, source: coreSource(r.core, r.user, r.asked), ...(r.asked ? { asked: r.asked } : {}) } : undefined;
  return { info: { library: `${name} (${r.library})`, threads, adaptive: !fixed, ...(core ? { core } : {}), ...loadBf16(addon) } };
}

/** "OpenBLAS 0.3.21 (libopenblas.so.0), Cooperlake kernels (from CPU flags), up to 2 threads". */
export function describeNativeBlas(b: NativeBlasInfo): string {
  const core = b.core ? `, ${describeCore(b.core.name, b.core.source, b.core.asked)}` : '';
  return `${b.library}${core}, ${b.adaptive && b.threads > 1 ? 'up to ' : ''}${b.threads} thread${b.threads === 1 ? '' : 's'}`;
}

/** Sets the BLAS threads to what the free cores allow (cheap between windows: one clock read). */
function followCpuShare(): void {
  if (!share) return;
  const n = share.threads();
  if (n !== threadsNow) threadsNow = addon!.setThreads(n) || n;
}

/** The BLAS threads in use now (for benchmarks and tests). */
export function blasThreadsNow(): number {
  return threadsNow;
}

// The wasm backend's internals this relies on (stable across tfjs 4.x): tensor data lives in the
// wasm heap at `memoryOffset`, and makeOutput allocates there.
interface WasmBackendLike {
  dataIdMap: { get(id: object): { memoryOffset: number } };
  makeOutput(shape: number[], dtype: 'float32'): tf.TensorInfo;
  /** Tensors sharing this data (a reshape shares its input's). */
  refCount(id: object): number;
  wasm: { HEAPU8: Uint8Array };
}

/** Byte offset of a tensor's data in the wasm heap. */
const offsetOf = (b: WasmBackendLike, t: tf.TensorInfo): number => b.dataIdMap.get(t.dataId).memoryOffset;
/** The wasm heap; read it after any allocation, which may have grown (and replaced) it. */
const heapOf = (b: WasmBackendLike): ArrayBuffer => b.wasm.HEAPU8.buffer as ArrayBuffer;
const wasmBackend = () => tf.backend() as unknown as WasmBackendLike;

interface MatmulArgs {
  inputs: { a: tf.TensorInfo; b: tf.TensorInfo; bias?: tf.TensorInfo; preluActivationWeights?: tf.TensorInfo };
  backend: WasmBackendLike;
  attrs: { transposeA: boolean; transposeB: boolean; activation?: string };
}

const size = (s: number[]): number => s.reduce((p, d) => p * d, 1);

/** Runs the product on the addon, or returns undefined for a case it does not take. */
function nativeMatmul(args: MatmulArgs): tf.TensorInfo | undefined {
  const { inputs, backend, attrs } = args;
  const { a, b, bias } = inputs;
  if (!addon || !enabled || a.dtype !== 'float32' || b.dtype !== 'float32') return undefined;
  if (inputs.preluActivationWeights || (attrs.activation && attrs.activation !== 'linear')) return undefined;
  const ra = a.shape.length, rb = b.shape.length;
  if (ra < 2 || rb < 2) return undefined;
  const m = attrs.transposeA ? a.shape[ra - 1] : a.shape[ra - 2];
  const k = attrs.transposeA ? a.shape[ra - 2] : a.shape[ra - 1];
  const kb = attrs.transposeB ? b.shape[rb - 1] : b.shape[rb - 2];
  const n = attrs.transposeB ? b.shape[rb - 2] : b.shape[rb - 1];
  if (k !== kb || m === 0 || n === 0 || k === 0) return undefined;
  const outerA = a.shape.slice(0, -2), outerB = b.shape.slice(0, -2);
  const batchA = size(outerA), batchB = size(outerB);
  // Batches must match exactly or one side be a single matrix; other broadcasts go to wasm.
  const sameOuter = outerA.length === outerB.length && outerA.every((d, i) => d === outerB[i]);
  if (!sameOuter && batchA !== 1 && batchB !== 1) return undefined;
  if (bias && (bias.dtype !== 'float32' || size(bias.shape) !== n)) return undefined;
  const outer = batchA >= batchB ? outerA : outerB;
  followCpuShare();
  const out = backend.makeOutput([...outer, m, n], 'float32');
  const off = (t: tf.TensorInfo): number => offsetOf(backend, t);
  addon.gemm(heapOf(backend), off(a), off(b), off(out), bias ? off(bias) : -1, batchA, batchB, m, n, k, attrs.transposeA, attrs.transposeB);
  return out;
}

/** Kernels of our own (ops.ts calls them by name when nativeKernelsReady()): one pass each. */
export const NATIVE_KERNELS = {
  gelu: 'TrialbookGelu',
  geluGrad: 'TrialbookGeluGrad',
  geluTanh: 'TrialbookGeluTanh',
  geluTanhGrad: 'TrialbookGeluTanhGrad',
  layerNorm: 'TrialbookLayerNorm',
  layerNormGrad: 'TrialbookLayerNormGrad',
  gatherRows: 'TrialbookGatherRows',
  dropoutMask: 'TrialbookDropoutMask',
  maskedSoftmax: 'TrialbookMaskedSoftmax',
  softmaxGrad: 'TrialbookSoftmaxGrad',
  sumSquares: 'TrialbookSumSquares',
  gemmStrided: 'TrialbookGemmStrided',
} as const;

/**
 * A batch of products C[o,i] = alpha·op(A[o,i])·op(B[o,i]) whose matrices sit at strides inside
 * larger tensors (all sizes in elements): see gemmStrided in native/blas. `outShape` is the
 * shape of the tensor C is written into; every element of it must be covered.
 */
export interface StridedGemm {
  outer: number; inner: number; m: number; n: number; k: number;
  transA: boolean; transB: boolean; lda: number; ldb: number; ldc: number;
  sAo: number; sAi: number; sBo: number; sBi: number; sCo: number; sCi: number;
  alpha: number; outShape: number[];
}

interface KernelArgs {
  inputs: Record<string, tf.TensorInfo>;
  backend: WasmBackendLike;
  attrs: Record<string, unknown>;
}

function registerOwnKernels(): void {
  const reg = (name: string, f: (a: KernelArgs, off: (t: tf.TensorInfo) => number) => tf.TensorInfo | tf.TensorInfo[]) =>
    tf.registerKernel({ kernelName: name, backendName: 'wasm', kernelFunc: ((a: KernelArgs) => f(a, (t) => offsetOf(a.backend, t))) as never });
  // GELU, exact and tanh-approximated: y = f(x), and dx from (dy, x).
  for (const [fwd, grad, f, g] of [[NATIVE_KERNELS.gelu, NATIVE_KERNELS.geluGrad, 'gelu', 'geluGrad'], [NATIVE_KERNELS.geluTanh, NATIVE_KERNELS.geluTanhGrad, 'geluTanh', 'geluTanhGrad']] as const) {
    reg(fwd, ({ inputs: { x }, backend }, off) => {
      const y = backend.makeOutput(x.shape, 'float32');
      addon![f](heapOf(backend), off(x), off(y), size(x.shape));
      return y;
    });
    reg(grad, ({ inputs: { dy, x }, backend }, off) => {
      const dx = backend.makeOutput(x.shape, 'float32');
      addon![g](heapOf(backend), off(dy), off(x), off(dx), size(x.shape));
      return dx;
    });
  }
  // Optional input `res`: the residual branch, normalised as x + res. Attr `inference`: only y
  // (nothing kept for a backward pass); else [y, xhat, rstd].
  reg(NATIVE_KERNELS.layerNorm, ({ inputs: { x, gamma, beta, res }, backend, attrs }, off) => {
    const cols = x.shape[x.shape.length - 1];
    const rows = size(x.shape) / cols;
    const y = backend.makeOutput(x.shape, 'float32');
    const kept = attrs.inference ? [] : [backend.makeOutput(x.shape, 'float32'), backend.makeOutput([rows], 'float32')];
    addon!.layerNorm(heapOf(backend), off(x), off(gamma), off(beta), off(y), kept[0] ? off(kept[0]) : -1, kept[1] ? off(kept[1]) : -1, rows, cols, attrs.eps as number, res ? off(res) : -1);
    return [y, ...kept];
  });
  reg(NATIVE_KERNELS.layerNormGrad, ({ inputs: { dy, xhat, rstd, gamma }, backend }, off) => {
    const cols = dy.shape[dy.shape.length - 1];
    const rows = size(dy.shape) / cols;
    const dx = backend.makeOutput(dy.shape, 'float32');
    const dgamma = backend.makeOutput([cols], 'float32');
    const dbeta = backend.makeOutput([cols], 'float32');
    addon!.layerNormGrad(heapOf(backend), off(dy), off(xhat), off(rstd), off(gamma), off(dx), off(dgamma), off(dbeta), rows, cols);
    return [dx, dgamma, dbeta];
  });
  // Optional input `add` [R, cols]: row i of the output also gets add[i mod R].
  reg(NATIVE_KERNELS.gatherRows, ({ inputs: { table, ids, add }, backend }, off) => {
    const cols = table.shape[1];
    const n = size(ids.shape);
    const out = backend.makeOutput([n, cols], 'float32');
    addon!.gatherRows(heapOf(backend), off(table), table.shape[0], off(ids), n, off(out), cols, add ? off(add) : -1, add ? add.shape[0] : 0);
    return out;
  });
  // Inputs: none. Attrs: shape, rate, and the per-example generator states (advanced in place).
  reg(NATIVE_KERNELS.dropoutMask, ({ backend, attrs }, off) => {
    const shape = attrs.shape as number[];
    const states = attrs.states as Uint32Array;
    const out = backend.makeOutput(shape, 'float32');
    addon!.dropoutMask(heapOf(backend), off(out), states, size(shape) / states.length, attrs.rate as number);
    return out;
  });
  // x [..., cols]; bias [rows/group, cols]: one bias row for each `group` consecutive rows of x.
  reg(NATIVE_KERNELS.maskedSoftmax, ({ inputs: { x, bias }, backend }, off) => {
    const cols = x.shape[x.shape.length - 1];
    const rows = size(x.shape) / cols;
    const y = backend.makeOutput(x.shape, 'float32');
    addon!.maskedSoftmax(heapOf(backend), off(x), off(bias), off(y), rows, cols, rows / (size(bias.shape) / cols));
    return y;
  });
  reg(NATIVE_KERNELS.softmaxGrad, ({ inputs: { dy, y }, backend }, off) => {
    const cols = y.shape[y.shape.length - 1];
    const dx = backend.makeOutput(y.shape, 'float32');
    addon!.softmaxGrad(heapOf(backend), off(dy), off(y), off(dx), size(y.shape) / cols, cols);
    return dx;
  });
  reg(NATIVE_KERNELS.sumSquares, ({ inputs: { x }, backend }, off) => {
    const out = backend.makeOutput([], 'float32');
    addon!.sumSquares(heapOf(backend), off(x), off(out), size(x.shape));
    return out;
  });
  reg(NATIVE_KERNELS.gemmStrided, ({ inputs: { a, b }, backend, attrs }, off) => {
    const g = attrs as unknown as StridedGemm;
    followCpuShare();
    const out = backend.makeOutput(g.outShape, 'float32');
    addon!.gemmStrided(heapOf(backend), off(a), off(b), off(out), g.outer, g.inner, g.m, g.n, g.k, g.transA, g.transB, g.lda, g.ldb, g.ldc, g.sAo, g.sAi, g.sBo, g.sBi, g.sCo, g.sCi, g.alpha);
    return out;
  });
}

/** Whether ops.ts may call NATIVE_KERNELS (the addon is installed on wasm and switched on). */
export function nativeKernelsReady(): boolean {
  return installed !== undefined && enabled && tf.getBackend() === 'wasm';
}

/** One AdamW step's constants (optimizer.ts): bias corrections c1, c2 and the clipping factor gradScale. */
export interface AdamWStep { lr: number; beta1: number; beta2: number; c1: number; c2: number; eps: number; weightDecay: number; gradScale: number }

/**
 * One fused AdamW update of the variables p, m and v from the gradient g, written over them in
 * place (no parameter-sized allocations, the memory-bound pass split over the cores). A variable
 * whose memory another tensor shares (a reshape of it still alive) gets its own copy first, so
 * nothing else sees it change. Call only when nativeKernelsReady().
 */
export function adamwInPlace(p: tf.Variable, m: tf.Variable, v: tf.Variable, g: tf.Tensor, k: AdamWStep): void {
  const backend = wasmBackend();
  for (const x of [p, m, v]) {
    if (backend.refCount(x.dataId) > 1) tf.tidy(() => x.assign(tf.add(x, 0)));
  }
  const off = (t: tf.Tensor): number => offsetOf(backend, t);
  addon!.adamw(heapOf(backend), off(p), off(m), off(v), off(g), size(p.shape), k.lr, k.beta1, k.beta2, k.c1, k.c2, k.eps, k.weightDecay, k.gradScale);
}

/**
 * sum + x: written into `sum` in place (no allocation) when it is a float32 tensor of the same
 * shape whose memory nothing else shares; else a new tensor. Either way `sum` is no longer to be
 * used by the caller, and `x` is left as it was.
 */
export function addInto(sum: tf.Tensor, x: tf.Tensor): tf.Tensor {
  const backend = nativeKernelsReady() ? wasmBackend() : undefined;
  if (!backend || sum.dtype !== 'float32' || x.dtype !== 'float32' || !tf.util.arraysEqual(sum.shape, x.shape) || backend.refCount(sum.dataId) > 1) {
    const out = tf.add(sum, x);
    sum.dispose();
    return out;
  }
  addon!.addInto(heapOf(backend), offsetOf(backend, sum), offsetOf(backend, x), sum.size);
  return sum;
}

/**
 * Puts the addon behind the wasm backend's matmul kernels (call after the wasm backend is ready).
 * Returns what it installed, or why not.
 */
export function installNativeMatmul(): { info?: NativeBlasInfo; why?: string } {
  if (installed) return { info: installed };
  if (tf.getBackend() !== 'wasm') return { why: 'native BLAS: only used with the wasm backend' };
  const loaded = loadNativeBlas();
  if (!loaded.info) return loaded;
  const originals: tf.KernelConfig[] = [];
  for (const name of ['BatchMatMul', '_FusedMatMul']) {
    const original = tf.getKernel(name, 'wasm');
    if (!original) continue;
    originals.push(original);
    tf.unregisterKernel(name, 'wasm');
    tf.registerKernel({
      kernelName: name,
      backendName: 'wasm',
      kernelFunc: ((args: MatmulArgs) => nativeMatmul(args) ?? original.kernelFunc(args as never)) as never,
    });
  }
  const error = disagreementWithWasm();
  if (!(error <= CHECK_TOLERANCE)) {
    for (const original of originals) {
      tf.unregisterKernel(original.kernelName, 'wasm');
      tf.registerKernel(original);
    }
    const core = loaded.info.core ? ` with its ${loaded.info.core.name} kernels` : '';
    return { why: `native BLAS: ${loaded.info.library}${core} disagrees with the wasm kernels (largest relative error ${error.toPrecision(2)}); running on the wasm kernels. Set OPENBLAS_CORETYPE to an older core type (e.g. Haswell) or TRIALBOOK_BLAS_LIB to another BLAS` };
  }
  registerOwnKernels();
  installed = loaded.info;
  return { info: installed };
}

/** Test hook: make the BLAS products wrong, as a broken kernel set would. */
export const blasFaults = { wrongProducts: false };

const CHECK_TOLERANCE = 1e-3;

/**
 * Checks the BLAS once, at load, against the wasm kernels: products in every transpose, sizes
 * that are not multiples of any kernel's block (edge code paths) and one large enough for the
 * main kernel. A wrong kernel set (a core type the CPU lacks an instruction for would crash; one
 * that computes wrong sums would not) shows as a large relative error. Runs in milliseconds.
 */
function disagreementWithWasm(): number {
  const operand = (rows: number, cols: number, salt: number) => tf.tensor2d(Float32Array.from({ length: rows * cols }, (_, i) => Math.sin(i * 0.37 + salt)), [rows, cols]);
  const cases: Array<[number[], number[], boolean, boolean]> = [
    [[37, 53], [53, 29], false, false],
    [[53, 37], [53, 29], true, false],
    [[37, 53], [29, 53], false, true],
    [[130, 96], [96, 200], false, false],
  ];
  let worst = 0;
  for (const [sa, sb, ta, tb] of cases) {
    tf.tidy(() => {
      const a = operand(sa[0], sa[1], 1);
      const b = operand(sb[0], sb[1], 2);
      enabled = false;
      const want = tf.matMul(a, b, ta, tb).dataSync();
      enabled = true;
      const got = tf.matMul(a, b, ta, tb).dataSync();
      for (let i = 0; i < want.length; i++) {
        const g = blasFaults.wrongProducts ? got[i] + 1 : got[i];
        const e = Math.abs(g - want[i]) / Math.max(1, Math.abs(want[i]));
        worst = Math.max(worst, Number.isNaN(e) ? Infinity : e);
      }
    });
  }
  return worst;
}

let precisionNow: 'fp32' | 'bf16' = 'fp32';

/** Sets the precision of the native matmuls; returns the one in force ('bf16' needs oneDNN). */
export function setMatmulPrecision(p: 'fp32' | 'bf16'): 'fp32' | 'bf16' {
  precisionNow = addon && installed ? addon.setPrecision(p) : 'fp32';
  return precisionNow;
}

/** Multiply-adds the native matmuls have run in each precision (bf16 takes only products large enough to gain). */
export function matmulMacs(): { fp32: number; bf16: number } {
  return addon ? addon.matmulStats() : { fp32: 0, bf16: 0 };
}

/** The precision the native matmuls run at now. */
export function matmulPrecision(): 'fp32' | 'bf16' {
  return precisionNow;
}

/** What installNativeMatmul put in place and is in use, if anything. */
export function nativeMatmulInfo(): NativeBlasInfo | undefined {
  return enabled && tf.getBackend() === 'wasm' ? installed : undefined;
}

/** Switches the native matmuls off and on again in one process (for side-by-side measurements). */
export function setNativeMatmulEnabled(on: boolean): void {
  enabled = on;
}
