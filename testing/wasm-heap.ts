/**
 * The wasm backend's tensor memory, watched from its module's malloc and free: the bytes allocated
 * since a mark and still live, and their high-water mark (what the engine's memory model
 * estimates), beside the heap's size (what wasm32's 4 GiB ceiling limits). Buffers allocated
 * before the watch began are not counted, nor their frees. For the memory model's calibration
 * (bench/bert-base-memory.ts) and its test.
 */
import * as tf from '@tensorflow/tfjs';
import type { BertClassifier } from '../src/engine/model';
import { DropoutRng } from '../src/engine/ops';

interface WasmModule {
  _malloc(n: number): number;
  _free(p: number): void;
  asm: { malloc(n: number): number; free(p: number): void };
  HEAPU8: Uint8Array;
}

export class WasmHeapWatch {
  private readonly sizes = new Map<number, number>();
  private live = 0;
  private peak = 0;
  private base = 0;
  private readonly wasm: WasmModule;

  constructor() {
    if (tf.getBackend() !== 'wasm') throw new Error(`WasmHeapWatch needs the wasm backend (not ${tf.getBackend()})`);
    this.wasm = (tf.backend() as unknown as { wasm: WasmModule }).wasm;
    // The module's own exports: its _malloc/_free wrappers replace themselves on first use.
    const { malloc, free } = this.wasm.asm;
    this.wasm._malloc = (n) => {
      const p = malloc(n);
      // Offsets past 2 GiB come back negative; tfjs keeps them as `>>> 0`.
      this.sizes.set(p >>> 0, n);
      this.live += n;
      this.peak = Math.max(this.peak, this.live);
      return p;
    };
    this.wasm._free = (p) => {
      this.live -= this.sizes.get(p >>> 0) ?? 0;
      this.sizes.delete(p >>> 0);
      free(p);
    };
  }

  /** Starts a new measurement: the high-water mark from here, above what is live now. */
  mark(): void {
    this.base = this.live;
    this.peak = this.live;
  }

  /** The most bytes live at once since mark(), above what was live at mark(). */
  peakBytes(): number {
    return this.peak - this.base;
  }

  /** The wasm heap's size (it grows, never shrinks), MiB. */
  heapMiB(): number {
    return this.wasm.HEAPU8.buffer.byteLength / 1048576;
  }

  /** Puts the module's own malloc and free back. */
  stop(): void {
    this.wasm._malloc = this.wasm.asm.malloc;
    this.wasm._free = this.wasm.asm.free;
  }
}

/**
 * The tensor high-water mark of one pass over `model` with `rows` rows of `seqLen` tokens: a
 * training micro-batch (dropout on; the gradients of every parameter included) or a forward pass.
 */
export function passPeakBytes(watch: WasmHeapWatch, model: BertClassifier, rows: number, seqLen: number, train: boolean): number {
  const ids = tf.tensor2d(Int32Array.from({ length: rows * seqLen }, (_, i) => 5 + ((i * 7919) % (model.config.vocab_size - 5))), [rows, seqLen], 'int32');
  const labels = Int32Array.from({ length: rows }, (_, i) => i % 2);
  const lengths = new Int32Array(rows).fill(seqLen);
  try {
    watch.mark();
    if (train) tf.tidy(() => void tf.variableGrads(() => model.loss({ ids, lengths }, labels, 0.1, rows, DropoutRng.forStep(1, 0, labels)), [...model.vars.values()]));
    else tf.tidy(() => void model.logits({ ids, lengths }, 0).dataSync());
    return watch.peakBytes();
  } finally {
    ids.dispose();
  }
}
