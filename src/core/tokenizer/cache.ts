/**
 * Encoded splits cached on disk, keyed by (split fingerprint, vocab sha256, max_len, flags), so a
 * trial does not re-tokenize. One binary file: magic, header length, sha256 of the header, the
 * header JSON, then the raw arrays (ids Int32, lengths Uint16, labels Int32 per split), aligned
 * so they are read as typed-array views without copying. A torn or altered file is noticed
 * (length check + header checksum) and rebuilt with a warning.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { EncodedDataset, EncodedSplit } from '../encoded';
import { UserError } from '../errors';
import { writeFileAtomic } from '../fsutil';
import { sha256 } from '../hash';
import { readSplit } from '../split';
import { createTokenizer, checkMaxLen } from './encode';
import { loadVocab } from './vocab';

const MAGIC = 'TBENC001';
/** Bumped whenever tokenization or the file layout changes, so old caches are not reused. */
const FORMAT = 1;
const SPLITS = ['train', 'val', 'test'] as const;

export interface LoadEncodedOptions {
  splitDir: string;
  vocabPath: string;
  maxLen: number;
  cacheDir: string;
  lowercase?: boolean;
  stripAccents?: boolean;
  /** Where warnings go (default: stderr). */
  warn?: (message: string) => void;
  /** Told whether the cache was used, and which file. */
  onCache?: (info: { hit: boolean; file: string }) => void;
}

interface Header {
  format: number;
  keyText: string;
  key: EncodedDataset['key'];
  labels: string[];
  vocabSize: number;
  maxLen: number;
  counts: Record<(typeof SPLITS)[number], number>;
  totalBytes: number;
}

/** The split's encoded form, from the cache when the key matches, else tokenized and cached. */
export function loadEncodedDataset(o: LoadEncodedOptions): EncodedDataset {
  const maxLen = checkMaxLen(o.maxLen);
  const manifestPath = join(o.splitDir, 'manifest.json');
  if (!existsSync(manifestPath)) {
    throw new UserError(`${o.splitDir}: no manifest.json, so no complete split is there; run trialbook split first`, 'E_NOT_FOUND');
  }
  let manifest: { fingerprint?: string; files?: unknown };
  try {
    manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
  } catch (e) {
    throw new UserError(`${manifestPath}: not valid JSON (${(e as Error).message}); re-create the split with --force`, 'E_DATA');
  }
  const vocab = loadVocab(o.vocabPath);
  const flags = { lowercase: !!o.lowercase, stripAccents: !!o.stripAccents };
  const splitKey = String(manifest.fingerprint ?? '');
  // The split files' own hashes join the key so a re-made split with an equal fingerprint is not confused.
  const keyText = JSON.stringify({ format: FORMAT, split: splitKey, files: manifest.files ?? null, vocab: vocab.sha256, maxLen, ...flags });
  const file = join(o.cacheDir, `encoded-${sha256(keyText).slice(0, 24)}.bin`);
  const warn = o.warn ?? ((m: string) => process.stderr.write(`trialbook: warning: ${m}\n`));
  if (existsSync(file)) {
    const why = { reason: '' };
    const cached = readCacheFile(file, keyText, why);
    if (cached) {
      o.onCache?.({ hit: true, file });
      return cached;
    }
    warn(`${file}: the encoded cache is damaged (${why.reason}); rebuilding it`);
  }
  const data = readSplit(o.splitDir);
  const tok = createTokenizer(vocab, flags);
  const enc = (rows: { text: string; label: number }[]): EncodedSplit => {
    const e = tok.encodeBatch(rows.map((r) => r.text), maxLen);
    const labels = new Int32Array(rows.length);
    for (let i = 0; i < rows.length; i++) labels[i] = rows[i].label;
    return { maxLen, count: rows.length, ids: e.ids, lengths: e.lengths, labels };
  };
  const ds: EncodedDataset = {
    train: enc(data.train),
    val: enc(data.val),
    test: enc(data.test),
    labels: data.manifest.labels,
    vocabSize: vocab.size,
    key: { split: data.manifest.fingerprint, vocab: vocab.sha256, maxLen },
  };
  writeFileAtomic(file, serialise(ds, keyText));
  o.onCache?.({ hit: false, file });
  return ds;
}

const align4 = (n: number): number => (n + 3) & ~3;

function sizes(s: EncodedSplit): [number, number, number] {
  return [s.count * s.maxLen * 4, align4(s.count * 2), s.count * 4];
}

/** The dataset as one buffer (see the module comment for the layout). */
export function serialise(ds: EncodedDataset, keyText: string): Uint8Array {
  const body = SPLITS.reduce((a, k) => a + sizes(ds[k]).reduce((x, y) => x + y, 0), 0);
  // The header states the total length, which depends on the header's own length: settle it in two passes.
  const make = (total: number): Buffer => Buffer.from(JSON.stringify({
    format: FORMAT, keyText, key: ds.key, labels: ds.labels, vocabSize: ds.vocabSize, maxLen: ds.key.maxLen,
    counts: { train: ds.train.count, val: ds.val.count, test: ds.test.count }, totalBytes: total,
  } satisfies Header), 'utf8');
  const prefix = 8 + 4 + 32;
  let head = make(0);
  let total = 0;
  for (let i = 0; i < 3; i++) {
    total = align4(prefix + head.length) + body;
    head = make(total);
  }
  const out = Buffer.alloc(total);
  out.write(MAGIC, 0, 'latin1');
  out.writeUInt32LE(head.length, 8);
  Buffer.from(sha256(head), 'hex').copy(out, 12);
  head.copy(out, prefix);
  let off = align4(prefix + head.length);
  for (const k of SPLITS) {
    const s = ds[k];
    for (const arr of [s.ids, s.lengths, s.labels]) {
      out.set(new Uint8Array(arr.buffer, arr.byteOffset, arr.byteLength), off);
      off += align4(arr.byteLength);
    }
  }
  return out;
}

/** The cached dataset, or undefined (with `why.reason`) when the file is torn, altered or for another key. */
function readCacheFile(file: string, keyText: string, why: { reason: string }): EncodedDataset | undefined {
  let buf: Buffer;
  try {
    if (statSync(file).size < 44) {
      why.reason = 'shorter than its header';
      return undefined;
    }
    buf = readFileSync(file);
  } catch (e) {
    why.reason = `cannot read: ${(e as NodeJS.ErrnoException).code ?? e}`;
    return undefined;
  }
  return deserialise(buf, keyText, why);
}

export function deserialise(buf: Buffer, keyText: string | undefined, why: { reason: string } = { reason: '' }): EncodedDataset | undefined {
  if (buf.length < 44 || buf.toString('latin1', 0, 8) !== MAGIC) {
    why.reason = 'not an encoded cache file';
    return undefined;
  }
  const headLen = buf.readUInt32LE(8);
  if (44 + headLen > buf.length) {
    why.reason = 'truncated header';
    return undefined;
  }
  const head = buf.subarray(44, 44 + headLen);
  if (sha256(head) !== buf.toString('hex', 12, 44)) {
    why.reason = 'header checksum mismatch';
    return undefined;
  }
  const h = JSON.parse(head.toString('utf8')) as Header;
  if (h.totalBytes !== buf.length) {
    why.reason = `length ${buf.length} bytes, expected ${h.totalBytes}`;
    return undefined;
  }
  if (h.format !== FORMAT || (keyText !== undefined && h.keyText !== keyText)) {
    why.reason = 'written for another key';
    return undefined;
  }
  // Typed views need 4-byte-aligned offsets; copy once if Node handed us an unaligned buffer.
  const base = buf.byteOffset % 4 === 0 ? buf : Buffer.from(buf);
  let off = align4(44 + headLen);
  const split = (count: number): EncodedSplit => {
    const ids = new Int32Array(base.buffer, base.byteOffset + off, count * h.maxLen);
    off += ids.byteLength;
    const lengths = new Uint16Array(base.buffer, base.byteOffset + off, count);
    off += align4(lengths.byteLength);
    const labels = new Int32Array(base.buffer, base.byteOffset + off, count);
    off += labels.byteLength;
    return { maxLen: h.maxLen, count, ids, lengths, labels };
  };
  return {
    train: split(h.counts.train),
    val: split(h.counts.val),
    test: split(h.counts.test),
    labels: h.labels,
    vocabSize: h.vocabSize,
    key: h.key,
  };
}
