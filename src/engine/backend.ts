/**
 * Chooses the TensorFlow.js backend. Native runtimes are optional peers that esbuild leaves
 * external, so they are required through a runtime `require` that the bundler cannot see.
 */
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths, getThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import { UserError } from '../core/errors';
import { describeNativeBlas, installNativeMatmul, type NativeBlasInfo } from './native-blas';

export interface BackendInfo {
  name: string;
  threads: number;
  /** Why each better backend was not used. */
  skipped: string[];
  /**
   * On wasm: the native BLAS that runs the matmuls (native-blas.ts), e.g. "OpenBLAS 0.3.21
   * (libopenblas.so.0), Cooperlake kernels (from CPU flags), up to 2 threads".
   */
  matmul?: string;
  /** The same, as data (what the editor's Select Runtime shows). */
  blas?: NativeBlasInfo;
  /** Where bf16 matmuls can run (precision bf16/auto), e.g. "oneDNN 2.6.3 (brg:avx512_core_bf16)". */
  bf16?: string;
}

const ORDER = ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'] as const;
type Choice = (typeof ORDER)[number];

let current: BackendInfo | undefined;

function runtimeRequire(): NodeRequire {
  // __filename exists in the CommonJS bundle and under tsx; fall back to the working folder.
  const base = typeof __filename === 'string' ? __filename : join(process.cwd(), 'index.js');
  return createRequire(base);
}

/** Folder holding tfjs-backend-wasm*.wasm: next to the bundle, else in node_modules. */
export function wasmBinaryDir(): string {
  const here = typeof __dirname === 'string' ? __dirname : process.cwd();
  if (existsSync(join(here, 'tfjs-backend-wasm-simd.wasm'))) return here + '/';
  try {
    const pkg = runtimeRequire().resolve('@tensorflow/tfjs-backend-wasm/package.json');
    return join(dirname(pkg), 'dist') + '/';
  } catch {
    return join(process.cwd(), 'node_modules', '@tensorflow', 'tfjs-backend-wasm', 'dist') + '/';
  }
}

function parsePreference(p: string | undefined): Choice | undefined {
  if (!p) return undefined;
  const v = p.trim().toLowerCase();
  if (v === 'auto' || v === '') return undefined;
  if (v === 'gpu' || v === 'tensorflow-gpu' || v === 'tfjs-node-gpu') return 'tensorflow-gpu';
  if (v === 'node' || v === 'tensorflow' || v === 'tfjs-node') return 'tensorflow';
  if (v === 'wasm') return 'wasm';
  if (v === 'cpu') return 'cpu';
  throw new UserError(`backend "${p}": unknown; use one of auto, tensorflow-gpu, tensorflow, wasm, cpu`, 'E_BACKEND');
}

async function tryNative(pkg: string): Promise<string | undefined> {
  try {
    runtimeRequire()(pkg); // registers the 'tensorflow' backend as a side effect
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return code === 'MODULE_NOT_FOUND' ? `${pkg}: not installed` : `${pkg}: failed to load (${(e as Error).message.split('\n')[0]})`;
  }
  try {
    if (!(await tf.setBackend('tensorflow'))) return `${pkg}: backend did not initialise`;
  } catch (e) {
    return `${pkg}: backend did not initialise (${(e as Error).message.split('\n')[0]})`;
  }
  return undefined;
}

async function tryWasm(): Promise<string | undefined> {
  try {
    setWasmPaths(wasmBinaryDir());
    if (!(await tf.setBackend('wasm'))) return 'wasm: backend did not initialise';
  } catch (e) {
    return `wasm: ${(e as Error).message.split('\n')[0]}`;
  }
  return undefined;
}

/**
 * Picks tfjs-node-gpu > tfjs-node > wasm > cpu. `preference` (or env TRIALBOOK_BACKEND) names one
 * backend to use; if it cannot start, that is an error rather than a silent fallback.
 */
export async function initBackend(preference?: string): Promise<BackendInfo> {
  const wanted = parsePreference(preference ?? process.env.TRIALBOOK_BACKEND);
  if (current && (!wanted || current.name === backendNameOf(wanted))) return current;
  const skipped: string[] = [];
  const candidates: Choice[] = wanted ? [wanted] : [...ORDER];
  for (const c of candidates) {
    let why: string | undefined;
    if (c === 'tensorflow-gpu') why = await tryNative('@tensorflow/tfjs-node-gpu');
    else if (c === 'tensorflow') why = await tryNative('@tensorflow/tfjs-node');
    else if (c === 'wasm') why = await tryWasm();
    else why = (await tf.setBackend('cpu')) ? undefined : 'cpu: backend did not initialise';
    if (why === undefined) {
      await tf.ready();
      const name = tf.getBackend();
      current = { name: c === 'tensorflow-gpu' ? 'tensorflow-gpu' : name, threads: threadsOf(name), skipped };
      if (name === 'wasm') {
        shareIdentityOnWasm();
        const blas = installNativeMatmul();
        if (blas.info) {
          current.matmul = describeNativeBlas(blas.info);
          current.blas = blas.info;
          if (blas.info.bf16) current.bf16 = `${blas.info.bf16.description}${blas.info.bf16.native ? '' : ', emulated: this CPU has no bf16 instructions'}`;
          else if (blas.info.bf16Why) skipped.push(`bf16: ${blas.info.bf16Why}`);
        } else if (blas.why) skipped.push(blas.why);
      }
      return current;
    }
    skipped.push(why);
  }
  throw new UserError(`no TensorFlow.js backend could start: ${skipped.join('; ')}`, 'E_BACKEND');
}

/**
 * The wasm backend's Identity kernel copies the tensor; tf.customGrad and variableGrads call it
 * for every input and output (about 130 copies per BERT-tiny step, 6% of its time). Tensors are
 * immutable, so the output can share the input's memory with a reference count, as the cpu
 * backend and wasm's own Reshape do.
 */
function shareIdentityOnWasm(): void {
  const original = tf.getKernel('Identity', 'wasm');
  if (!original || (original as { shared?: boolean }).shared) return;
  tf.unregisterKernel('Identity', 'wasm');
  tf.registerKernel({
    kernelName: 'Identity',
    backendName: 'wasm',
    kernelFunc: ((args: { inputs: { x: tf.TensorInfo }; backend: { incRef(id: object): void } }) => {
      const { x } = args.inputs;
      if (x.dtype === 'string') return original.kernelFunc(args as never);
      args.backend.incRef(x.dataId);
      return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
    }) as never,
    shared: true,
  } as tf.KernelConfig);
}

function backendNameOf(c: Choice): string {
  return c;
}

function threadsOf(name: string): number {
  if (name === 'wasm') {
    try {
      return getThreadsCount();
    } catch {
      return 1;
    }
  }
  if (name === 'tensorflow') return Number(process.env.TF_NUM_INTRAOP_THREADS) || require('node:os').cpus().length;
  return 1;
}

/**
 * One line for people: "wasm (1 thread), matmuls on OpenBLAS 0.3.21 (…), Cooperlake kernels
 * (from CPU flags), up to 2 threads; bf16 on oneDNN 2.6.3 (brg:avx512_core_bf16)".
 */
export function describeBackend(b: Pick<BackendInfo, 'name' | 'threads' | 'matmul' | 'bf16'>): string {
  const base = `${b.name} (${b.threads} thread${b.threads === 1 ? '' : 's'})`;
  const matmul = b.matmul ? `${base}, matmuls on ${b.matmul}` : base;
  return b.bf16 ? `${matmul}; bf16 on ${b.bf16}` : matmul;
}

/** The backend initBackend chose (initialising with defaults if nobody called it yet). */
export async function ensureBackend(): Promise<BackendInfo> {
  return current ?? initBackend();
}
