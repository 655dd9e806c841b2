/**
 * Minimal safetensors reader/writer (https://huggingface.co/docs/safetensors): 8-byte
 * little-endian header length, a JSON header {name: {dtype, shape, data_offsets}}, raw bytes.
 * No npm package for this is in the project's allowed set, and the format is small enough to
 * own. Tensors come back as Float32Array; F16 and BF16 are widened on load.
 */
import { readFileSync } from 'node:fs';
import { UserError } from '../core/errors';
import { writeFileAtomic } from '../core/fsutil';

export interface NamedTensor {
  shape: number[];
  data: Float32Array;
}

/** Bytes per element of each dtype decodeFloat32 reads. */
export const DTYPE_BYTES: Readonly<Record<string, number>> = { F32: 4, F16: 2, BF16: 2, F64: 8, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1 };

function f16ToF32(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f ? NaN : s * Infinity;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}

/**
 * `n` little-endian elements of `dtype` (safetensors's names: F32, F16, BF16, F64, I64, I32, I16,
 * I8, U8, BOOL) as float32.
 */
export function decodeFloat32(bytes: Uint8Array, dtype: string, n: number): Float32Array {
  if (dtype === 'F32') return new Float32Array(Uint8Array.prototype.slice.call(bytes, 0, n * 4).buffer);
  const data = new Float32Array(n);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < n; i++) {
    switch (dtype) {
      case 'F16': data[i] = f16ToF32(dv.getUint16(i * 2, true)); break;
      case 'BF16': data[i] = new Float32Array(new Uint32Array([dv.getUint16(i * 2, true) << 16]).buffer)[0]; break;
      case 'F64': data[i] = dv.getFloat64(i * 8, true); break;
      case 'I64': data[i] = Number(dv.getBigInt64(i * 8, true)); break;
      case 'I32': data[i] = dv.getInt32(i * 4, true); break;
      case 'I16': data[i] = dv.getInt16(i * 2, true); break;
      case 'I8': data[i] = dv.getInt8(i); break;
      default: data[i] = dv.getUint8(i);
    }
  }
  return data;
}

/** A weights file's bytes; a clear error naming it when it cannot be read. */
export function readWeightsBytes(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new UserError(`${path}: cannot read (${(e as NodeJS.ErrnoException).code ?? e})`, 'E_NOT_FOUND');
  }
}

/** Reads every tensor of a safetensors file as float32; integer buffers (e.g. position_ids) too. */
export function readSafetensors(path: string): Map<string, NamedTensor> {
  return decodeSafetensors(path, readWeightsBytes(path));
}

/** The tensors of a safetensors file already in memory (`path` names it in messages). */
export function decodeSafetensors(path: string, buf: Buffer): Map<string, NamedTensor> {
  const bad = (why: string) => new UserError(`${path}: not a valid safetensors file: ${why}`, 'E_CHECKPOINT');
  if (buf.length < 8) throw bad('shorter than the 8-byte header length');
  const headerLen = Number(buf.readBigUInt64LE(0));
  if (headerLen <= 0 || 8 + headerLen > buf.length || headerLen > 100_000_000) throw bad(`header length ${headerLen} does not fit the file (${buf.length} bytes)`);
  let header: Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
  try {
    header = JSON.parse(buf.subarray(8, 8 + headerLen).toString('utf8'));
  } catch {
    throw bad('header is not valid JSON');
  }
  if (!header || typeof header !== 'object' || Array.isArray(header)) throw bad('header is not a JSON object');
  const base = 8 + headerLen;
  const out = new Map<string, NamedTensor>();
  for (const [name, info] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const { dtype, shape, data_offsets: offs } = info ?? ({} as never);
    if (!Array.isArray(shape) || !Array.isArray(offs) || offs.length !== 2 || typeof dtype !== 'string') throw bad(`tensor "${name}" has no dtype/shape/data_offsets`);
    const width = DTYPE_BYTES[dtype];
    if (!width) throw bad(`tensor "${name}" has unsupported dtype ${dtype}`);
    const n = shape.reduce((a, b) => a * b, 1);
    const [begin, end] = offs;
    if (end - begin !== n * width || base + end > buf.length || begin < 0) throw bad(`tensor "${name}" data_offsets [${begin}, ${end}] do not match shape [${shape}] (${dtype}) or the file size`);
    const data = decodeFloat32(buf.subarray(base + begin, base + end), dtype, n);
    out.set(name, { shape: shape.slice(), data });
  }
  return out;
}

/** Encodes float32 tensors (sorted by name, as the reference writer does) into safetensors bytes. */
export function encodeSafetensors(tensors: Map<string, NamedTensor>, metadata?: Record<string, string>): Buffer {
  const names = [...tensors.keys()].sort();
  const header: Record<string, unknown> = {};
  if (metadata) header.__metadata__ = metadata;
  let off = 0;
  for (const n of names) {
    const t = tensors.get(n)!;
    const len = t.data.length * 4;
    header[n] = { dtype: 'F32', shape: t.shape, data_offsets: [off, off + len] };
    off += len;
  }
  let json = JSON.stringify(header);
  // Pad the header with spaces so the data starts 8-byte aligned.
  while ((8 + Buffer.byteLength(json)) % 8 !== 0) json += ' ';
  const hb = Buffer.from(json, 'utf8');
  const out = Buffer.alloc(8 + hb.length + off);
  out.writeBigUInt64LE(BigInt(hb.length), 0);
  hb.copy(out, 8);
  let pos = 8 + hb.length;
  for (const n of names) {
    const d = tensors.get(n)!.data;
    Buffer.from(d.buffer, d.byteOffset, d.byteLength).copy(out, pos);
    pos += d.byteLength;
  }
  return out;
}

export function writeSafetensors(path: string, tensors: Map<string, NamedTensor>, metadata?: Record<string, string>): void {
  writeFileAtomic(path, encodeSafetensors(tensors, metadata));
}
