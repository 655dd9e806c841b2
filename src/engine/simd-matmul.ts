/**
 * Batched matmul in a tiny hand-assembled WebAssembly SIMD module. The wasm backend sends every
 * matmul with a batch dimension > 1 (attention: [B·heads, S, D]) to a scalar fallback loop at
 * 1–2 GFLOP/s; this kernel runs the same products with f32x4 vectors. Rows of C are built as
 * sums of scaled rows of B (i-k-j order), four rows of A at a time so each B vector is loaded
 * once per four multiply-adds. Needs N % 4 == 0 and M % 4 == 0; callers fall back otherwise.
 */

/** Unsigned LEB128. */
function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

function section(id: number, body: number[]): number[] {
  return [id, ...uleb(body.length), ...body];
}

// Opcodes used below.
const LG = 0x20, LS = 0x21, I32C = 0x41, ADD = 0x6a, MUL = 0x6c, SHL = 0x74, GEU = 0x4f;
const BLOCK = [0x02, 0x40], LOOP = [0x03, 0x40], END = 0x0b, BRIF = 0x0d, BR = 0x0c;
const F32LOAD = [0x2a, 0x02, 0x00];
const V128LOAD = [0xfd, 0x00, 0x02, 0x00];
const V128STORE = [0xfd, 0x0b, 0x02, 0x00];
const SPLAT = [0xfd, 0x13];
const FADD = [0xfd, 0xe4, 0x01];
const FMUL = [0xfd, 0xe6, 0x01];
const V128ZERO = [0xfd, 0x0c, ...new Array(16).fill(0)];

// Locals: params a=0 b=1 c=2 m=3 k=4 n=5; i=6 kk=7 j=8 c0=9 brow=10 a0=11 rowBytes=12 kBytes=13 (i32); av0..av3=14..17 (v128).
const [A, Bp, C, M, K, N, I, KK, J, C0, BROW, A0, RB, KB] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13];
const AV = [14, 15, 16, 17];

function addr(base: number, idx: number): number[] {
  return [LG, base, LG, idx, I32C, 2, SHL, ADD];
}

function body(): number[] {
  const b: number[] = [];
  // rowBytes = n*4, kBytes = k*4
  b.push(LG, N, I32C, 2, SHL, LS, RB, LG, K, I32C, 2, SHL, LS, KB);
  b.push(I32C, 0, LS, I);
  b.push(...BLOCK, ...LOOP);
  b.push(LG, I, LG, M, GEU, BRIF, 1);
  // c0 = c + i*rowBytes ; a0 = a + i*kBytes
  b.push(LG, C, LG, I, LG, RB, MUL, ADD, LS, C0);
  b.push(LG, A, LG, I, LG, KB, MUL, ADD, LS, A0);
  // zero four rows of C
  b.push(I32C, 0, LS, J, ...BLOCK, ...LOOP, LG, J, LG, RB, GEU, BRIF, 1);
  for (let r = 0; r < 4; r++) {
    b.push(LG, C0, LG, J, ADD);
    if (r) b.push(LG, RB, I32C, r, MUL, ADD);
    b.push(...V128ZERO, ...V128STORE);
  }
  b.push(LG, J, I32C, 16, ADD, LS, J, BR, 0, END, END);
  // for kk: splat A[i+r][kk], then C[i+r][:] += av_r * B[kk][:]
  b.push(I32C, 0, LS, KK, ...BLOCK, ...LOOP, LG, KK, LG, K, GEU, BRIF, 1);
  for (let r = 0; r < 4; r++) {
    b.push(LG, A0, LG, KK, I32C, 2, SHL, ADD);
    if (r) b.push(LG, KB, I32C, r, MUL, ADD);
    b.push(...F32LOAD, ...SPLAT, LS, AV[r]);
  }
  b.push(LG, Bp, LG, KK, LG, RB, MUL, ADD, LS, BROW);
  b.push(I32C, 0, LS, J, ...BLOCK, ...LOOP, LG, J, LG, RB, GEU, BRIF, 1);
  for (let r = 0; r < 4; r++) {
    // store address, old value, av_r * B[kk][j..j+3]
    const rowAddr = [LG, C0, LG, J, ADD, ...(r ? [LG, RB, I32C, r, MUL, ADD] : [])];
    b.push(...rowAddr, ...rowAddr, ...V128LOAD, LG, AV[r], LG, BROW, LG, J, ADD, ...V128LOAD, ...FMUL, ...FADD, ...V128STORE);
  }
  b.push(LG, J, I32C, 16, ADD, LS, J, BR, 0, END, END);
  b.push(LG, KK, I32C, 1, ADD, LS, KK, BR, 0, END, END);
  b.push(LG, I, I32C, 4, ADD, LS, I, BR, 0, END, END);
  b.push(END);
  void addr;
  const locals = [2, ...uleb(8), 0x7f, ...uleb(4), 0x7b];
  const fn = [...locals, ...b];
  return [...uleb(fn.length), ...fn];
}

function moduleBytes(): Uint8Array<ArrayBuffer> {
  const type = section(1, [1, 0x60, 6, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0]);
  const imp = section(2, [1, 1, 0x65, 1, 0x6d, 0x02, 0x00, 1]);
  const func = section(3, [1, 0]);
  const exp = section(7, [1, 2, 0x6d, 0x6d, 0x00, 0]);
  const code = section(10, [1, ...body()]);
  return new Uint8Array([0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0, ...type, ...imp, ...func, ...exp, ...code]);
}

interface Kernel {
  mm(a: number, b: number, c: number, m: number, k: number, n: number): void;
  memory: WebAssembly.Memory;
}

let kernel: Kernel | null | undefined;

function load(): Kernel | null {
  if (kernel !== undefined) return kernel;
  try {
    const memory = new WebAssembly.Memory({ initial: 1 });
    const inst = new WebAssembly.Instance(new WebAssembly.Module(moduleBytes()), { e: { m: memory } });
    kernel = { mm: inst.exports.mm as Kernel['mm'], memory };
  } catch {
    kernel = null; // no SIMD in this runtime: callers use tf.matMul
  }
  return kernel;
}

export function simdAvailable(): boolean {
  return load() !== null;
}

/** C[g] = A[g]·B[g] for A [G,M,K], B [G,K,N] (row-major Float32Arrays); M % 4 == 0, N % 4 == 0. */
export function batchedMatmul(a: Float32Array, b: Float32Array, G: number, M: number, K: number, N: number): Float32Array {
  const kern = load();
  if (!kern) throw new Error('SIMD kernel unavailable');
  const aBytes = a.length * 4;
  const bBytes = b.length * 4;
  const cBytes = G * M * N * 4;
  const need = aBytes + bBytes + cBytes;
  const have = kern.memory.buffer.byteLength;
  if (need > have) kern.memory.grow(Math.ceil((need - have) / 65536));
  const heap = new Float32Array(kern.memory.buffer);
  heap.set(a, 0);
  heap.set(b, a.length);
  const cOff = aBytes + bBytes;
  for (let g = 0; g < G; g++) kern.mm(g * M * K * 4, aBytes + g * K * N * 4, cOff + g * M * N * 4, M, K, N);
  return heap.slice(cOff / 4, cOff / 4 + G * M * N);
}
