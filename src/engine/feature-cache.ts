/**
 * Pooled encoder features of a frozen body, by (body, split, max_len): in memory, and on disk in
 * `dir` when given (a study keeps one folder for all its trials, so a trial in a fresh worker
 * process reuses what an earlier trial computed). Its owner decides how long it lives: the worker
 * keeps one per study across trials; a lone trainModel call makes its own.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { EncodedSplit } from '../core/encoded';
import type { TrainHooks } from './types';
import type { BertClassifier } from './model';
import { splitFingerprint } from './data';
import { readSafetensors, writeSafetensors } from './safetensors';
import { pooledFeatures, type PassOptions } from './score';
import { matmulPrecision } from './native-blas';

/** Bounds the memory cache of a worker kept across head-only trials (KR-BERT base, 16k rows: 49 MiB an entry). */
const FEATURE_CACHE_BYTES = 256 * 1048576;

export class FeatureCache {
  private readonly memory = new Map<string, Float32Array>();

  constructor(readonly dir?: string) {}

  /** Features computed with bf16 matmuls are kept apart from fp32 ones (fp32 keys are as before). */
  static key(sourceKey: string, split: EncodedSplit): string {
    return `${sourceKey}|${splitFingerprint(split)}|${split.maxLen}${matmulPrecision() === 'bf16' ? '|bf16' : ''}`;
  }

  /** Cached features for `key` ([count, hidden]), from memory or disk; undefined when there are none. */
  get(key: string, count: number, hidden: number, log: TrainHooks['onLog']): Float32Array | undefined {
    const hit = this.memory.get(key);
    if (hit) return this.remember(key, hit);
    if (!this.dir) return undefined;
    const file = this.file(key);
    if (!existsSync(file)) return undefined;
    try {
      const t = readSafetensors(file).get('features');
      if (t && t.shape[0] === count && t.shape[1] === hidden) {
        log?.('debug', `feature cache hit: ${file}`);
        return this.remember(key, t.data);
      }
      log?.('warn', `${file}: feature cache of another shape; recomputing`);
    } catch {
      log?.('warn', `${file}: unreadable feature cache; recomputing`);
    }
    return undefined;
  }

  /** The features of `split` under `key`: cached ones, or computed by `model` and cached. */
  featuresOf(key: string, model: BertClassifier, split: EncodedSplit, passes: PassOptions): { feats: Float32Array; computed: boolean } {
    const { log } = passes;
    const hidden = model.config.hidden_size;
    const hit = this.get(key, split.count, hidden, log);
    if (hit) return { feats: hit, computed: false };
    const feats = pooledFeatures(model, split, passes);
    if (this.dir) {
      // A cache that cannot be written costs later trials time, never this trial its result.
      try {
        const file = this.file(key);
        mkdirSync(this.dir, { recursive: true });
        writeSafetensors(file, new Map([['features', { shape: [split.count, hidden], data: feats }]]), { key });
        log?.('debug', `feature cache written: ${file}`);
      } catch (e) {
        log?.('warn', `${this.dir}: cannot write the feature cache (${(e as Error).message}); later frozen trials recompute the features`);
      }
    }
    return { feats: this.remember(key, feats), computed: true };
  }

  private file(key: string): string {
    return join(this.dir!, `features-${hashKey(key)}.safetensors`);
  }

  /** Keeps `feats` in memory, dropping the oldest entries beyond the byte bound (but never the newest). */
  private remember(key: string, feats: Float32Array): Float32Array {
    this.memory.delete(key);
    this.memory.set(key, feats);
    let bytes = 0;
    for (const f of this.memory.values()) bytes += f.byteLength;
    for (const [k, f] of this.memory) {
      if (bytes <= FEATURE_CACHE_BYTES || k === key) break;
      this.memory.delete(k);
      bytes -= f.byteLength;
    }
    return feats;
  }
}

function hashKey(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return (h >>> 0).toString(16).padStart(8, '0');
}
