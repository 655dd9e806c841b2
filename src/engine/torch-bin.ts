/**
 * Reads a PyTorch `pytorch_model.bin` (torch.save's zip format, PyTorch ≥ 1.6) without Python:
 * the zip's `data.pkl` is a pickle of the state dict whose tensors point, by persistent id, at
 * raw storages stored beside it (`data/<key>`). The unpickler is restricted: it knows only the
 * opcodes and the few globals a state dict of tensors uses (OrderedDict, torch's tensor and
 * parameter rebuilders, storage types) and refuses anything else, so a pickle can name no other
 * code. torch writes its zip entries uncompressed, which is all the zip reader here takes.
 */
import { UserError } from '../core/errors';
import { decodeFloat32, DTYPE_BYTES, readWeightsBytes, type NamedTensor } from './safetensors';

// ---- zip (stored entries, zip64 aware) ----

interface ZipEntry { name: string; method: number; size: number; offset: number }

function zipEntries(buf: Buffer, bad: (why: string) => Error): Map<string, ZipEntry> {
  let eocd = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 22 - 65535); i--) {
    if (buf.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw bad('no zip end-of-directory record');
  let count = buf.readUInt16LE(eocd + 10);
  let cdOffset = buf.readUInt32LE(eocd + 16);
  if (cdOffset === 0xffffffff || count === 0xffff) {
    // Zip64: the locator sits just before the end record and points at the zip64 end record.
    const loc = eocd - 20;
    if (loc < 0 || buf.readUInt32LE(loc) !== 0x07064b50) throw bad('zip64 locator missing');
    const rec = Number(buf.readBigUInt64LE(loc + 8));
    count = Number(buf.readBigUInt64LE(rec + 32));
    cdOffset = Number(buf.readBigUInt64LE(rec + 48));
  }
  const out = new Map<string, ZipEntry>();
  let p = cdOffset;
  for (let k = 0; k < count; k++) {
    if (buf.readUInt32LE(p) !== 0x02014b50) throw bad('corrupt zip central directory');
    const method = buf.readUInt16LE(p + 10);
    let size = buf.readUInt32LE(p + 24);
    const nameLen = buf.readUInt16LE(p + 28);
    const extraLen = buf.readUInt16LE(p + 30);
    const commentLen = buf.readUInt16LE(p + 32);
    let local = buf.readUInt32LE(p + 42);
    const name = buf.toString('utf8', p + 46, p + 46 + nameLen);
    // Zip64 extra field: the 64-bit values of those fields that were saturated, in this order.
    for (let e = p + 46 + nameLen; e < p + 46 + nameLen + extraLen; ) {
      const id = buf.readUInt16LE(e);
      const len = buf.readUInt16LE(e + 2);
      if (id === 0x0001) {
        let q = e + 4;
        if (buf.readUInt32LE(p + 24) === 0xffffffff) { size = Number(buf.readBigUInt64LE(q)); q += 8; }
        if (buf.readUInt32LE(p + 20) === 0xffffffff) q += 8;
        if (local === 0xffffffff) local = Number(buf.readBigUInt64LE(q));
      }
      e += 4 + len;
    }
    const offset = local + 30 + buf.readUInt16LE(local + 26) + buf.readUInt16LE(local + 28);
    out.set(name, { name, method, size, offset });
    p += 46 + nameLen + extraLen + commentLen;
  }
  return out;
}

// ---- restricted unpickler ----

/** What a persistent id names: a raw storage of `dtype` under `key`. */
interface StorageRef { kind: 'storage'; dtype: string; key: string }
interface TensorRef { kind: 'tensor'; storage: StorageRef; offset: number; shape: number[]; stride: number[] }
interface Global { kind: 'global'; name: string }
const MARK = Symbol('mark');
type Value = unknown;

/** torch storage classes → safetensors dtype names (decodeFloat32). */
const STORAGES: Record<string, string> = {
  FloatStorage: 'F32', HalfStorage: 'F16', BFloat16Storage: 'BF16', DoubleStorage: 'F64',
  LongStorage: 'I64', IntStorage: 'I32', ShortStorage: 'I16', CharStorage: 'I8', ByteStorage: 'U8', BoolStorage: 'BOOL',
};
const REBUILDERS = new Set(['torch._utils._rebuild_tensor_v2', 'torch._utils._rebuild_parameter', 'collections.OrderedDict']);

function allowedGlobal(module: string, name: string, bad: (why: string) => Error): Global {
  const full = `${module}.${name}`;
  if (REBUILDERS.has(full) || (module === 'torch' && name in STORAGES)) return { kind: 'global', name: full };
  throw bad(`the pickle names ${full}, which a state dict of tensors does not use; only plain weight files are read`);
}

function call(fn: Value, args: Value[], bad: (why: string) => Error): Value {
  const name = (fn as Global)?.kind === 'global' ? (fn as Global).name : '?';
  if (name === 'collections.OrderedDict') return new Map();
  if (name === 'torch._utils._rebuild_parameter') return args[0];
  if (name === 'torch._utils._rebuild_tensor_v2') {
    const [storage, offset, shape, stride] = args as [StorageRef, number, number[], number[]];
    if (storage?.kind !== 'storage') throw bad('a tensor without its storage');
    return { kind: 'tensor', storage, offset, shape: [...shape], stride: [...stride] } satisfies TensorRef;
  }
  throw bad(`cannot call ${name}`);
}

function unpickle(data: Buffer, bad: (why: string) => Error): Value {
  const stack: Value[] = [];
  const memo = new Map<number, Value>();
  let p = 0;
  const popMark = (): Value[] => {
    const i = stack.lastIndexOf(MARK);
    if (i < 0) throw bad('pickle MARK missing');
    const items = stack.splice(i);
    return items.slice(1);
  };
  const str = (len: number) => {
    const s = data.toString('utf8', p, p + len);
    p += len;
    return s;
  };
  const setItems = (dict: Value, kv: Value[]) => {
    if (!(dict instanceof Map)) throw bad('SETITEM on something not a dict');
    for (let i = 0; i + 1 < kv.length; i += 2) dict.set(kv[i], kv[i + 1]);
  };
  for (;;) {
    if (p >= data.length) throw bad('pickle ends without STOP');
    const op = data[p++];
    switch (op) {
      case 0x80: p++; break; // PROTO
      case 0x95: p += 8; break; // FRAME
      case 0x2e: return stack.pop(); // STOP
      case 0x28: stack.push(MARK); break; // MARK
      case 0x7d: stack.push(new Map()); break; // EMPTY_DICT
      case 0x5d: stack.push([]); break; // EMPTY_LIST
      case 0x29: stack.push([]); break; // EMPTY_TUPLE
      case 0x74: stack.push(popMark()); break; // TUPLE
      case 0x85: stack.push([stack.pop()]); break; // TUPLE1
      case 0x86: { const b = stack.pop(); stack.push([stack.pop(), b]); break; } // TUPLE2
      case 0x87: { const c = stack.pop(); const b = stack.pop(); stack.push([stack.pop(), b, c]); break; } // TUPLE3
      case 0x4e: stack.push(null); break; // NONE
      case 0x88: stack.push(true); break; // NEWTRUE
      case 0x89: stack.push(false); break; // NEWFALSE
      case 0x4b: stack.push(data[p++]); break; // BININT1
      case 0x4d: stack.push(data.readUInt16LE(p)); p += 2; break; // BININT2
      case 0x4a: stack.push(data.readInt32LE(p)); p += 4; break; // BININT
      case 0x8a: { // LONG1
        const n = data[p++];
        let v = 0n;
        for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(data[p + i]);
        if (n > 0 && data[p + n - 1] & 0x80) v -= 1n << BigInt(8 * n);
        p += n;
        stack.push(Number(v));
        break;
      }
      case 0x47: stack.push(data.readDoubleBE(p)); p += 8; break; // BINFLOAT
      case 0x58: { const n = data.readUInt32LE(p); p += 4; stack.push(str(n)); break; } // BINUNICODE
      case 0x8c: { const n = data[p++]; stack.push(str(n)); break; } // SHORT_BINUNICODE
      case 0x8d: { const n = Number(data.readBigUInt64LE(p)); p += 8; stack.push(str(n)); break; } // BINUNICODE8
      case 0x55: { const n = data[p++]; stack.push(str(n)); break; } // SHORT_BINSTRING
      case 0x63: { // GLOBAL "module\nname\n"
        const nl1 = data.indexOf(10, p);
        const module = data.toString('utf8', p, nl1);
        const nl2 = data.indexOf(10, nl1 + 1);
        const name = data.toString('utf8', nl1 + 1, nl2);
        p = nl2 + 1;
        stack.push(allowedGlobal(module, name, bad));
        break;
      }
      case 0x93: { const name = stack.pop() as string; stack.push(allowedGlobal(stack.pop() as string, name, bad)); break; } // STACK_GLOBAL
      case 0x71: memo.set(data[p++], stack[stack.length - 1]); break; // BINPUT
      case 0x72: memo.set(data.readUInt32LE(p), stack[stack.length - 1]); p += 4; break; // LONG_BINPUT
      case 0x94: memo.set(memo.size, stack[stack.length - 1]); break; // MEMOIZE
      case 0x68: stack.push(memo.get(data[p++])); break; // BINGET
      case 0x6a: stack.push(memo.get(data.readUInt32LE(p))); p += 4; break; // LONG_BINGET
      case 0x52: { const args = stack.pop() as Value[]; stack.push(call(stack.pop(), args, bad)); break; } // REDUCE
      case 0x62: stack.pop(); break; // BUILD: a state dict's only state is its _metadata; dropped
      case 0x73: { const v = stack.pop(); const k = stack.pop(); setItems(stack[stack.length - 1], [k, v]); break; } // SETITEM
      case 0x75: { const kv = popMark(); setItems(stack[stack.length - 1], kv); break; } // SETITEMS
      case 0x61: { const v = stack.pop(); (stack[stack.length - 1] as Value[]).push(v); break; } // APPEND
      case 0x65: { const items = popMark(); (stack[stack.length - 1] as Value[]).push(...items); break; } // APPENDS
      case 0x51: { // BINPERSID: ('storage', storage_type, key, location, numel)
        const pid = stack.pop() as Value[];
        const type = pid?.[1] as Global | undefined;
        const dtype = type?.kind === 'global' ? STORAGES[type.name.replace(/^torch\./, '')] : undefined;
        if (pid?.[0] !== 'storage' || !dtype) throw bad('a persistent id that is not a torch storage');
        stack.push({ kind: 'storage', dtype, key: String(pid[2]) } satisfies StorageRef);
        break;
      }
      default:
        throw bad(`pickle opcode 0x${op.toString(16)} at byte ${p - 1} is not one a state dict of tensors uses`);
    }
  }
}

/** A tensor's elements in row-major order, gathered from its storage by its strides. */
function materialise(t: TensorRef, storage: Float32Array): Float32Array {
  const n = t.shape.reduce((a, b) => a * b, 1);
  let contiguous = true;
  for (let d = t.shape.length - 1, s = 1; d >= 0; s *= t.shape[d], d--) if (t.shape[d] > 1 && t.stride[d] !== s) contiguous = false;
  if (contiguous) return t.offset === 0 && n === storage.length ? storage : storage.slice(t.offset, t.offset + n);
  const out = new Float32Array(n);
  const idx = new Array(t.shape.length).fill(0);
  for (let i = 0; i < n; i++) {
    let at = t.offset;
    for (let d = 0; d < idx.length; d++) at += idx[d] * t.stride[d];
    out[i] = storage[at];
    for (let d = idx.length - 1; d >= 0 && ++idx[d] === t.shape[d]; d--) idx[d] = 0;
  }
  return out;
}

/** Every tensor of a torch.save'd state dict, by name, as float32. */
export function readTorchBin(path: string): Map<string, NamedTensor> {
  const buf = readWeightsBytes(path);
  const bad = (why: string) => new UserError(`${path}: not a PyTorch state dict Trialbook can read: ${why}`, 'E_CHECKPOINT');
  if (buf.length < 4 || buf.readUInt32LE(0) !== 0x04034b50) throw bad('not a zip file (torch.save before PyTorch 1.6 wrote another format); re-save it with a newer PyTorch or as model.safetensors');
  const entries = zipEntries(buf, bad);
  const pkl = [...entries.values()].find((e) => e.name.endsWith('/data.pkl') || e.name === 'data.pkl');
  if (!pkl) throw bad('no data.pkl in the archive');
  const prefix = pkl.name.slice(0, pkl.name.length - 'data.pkl'.length);
  const bytesOf = (e: ZipEntry) => {
    if (e.method !== 0) throw bad(`${e.name} is compressed (method ${e.method}); torch.save stores entries uncompressed`);
    return buf.subarray(e.offset, e.offset + e.size);
  };
  const root = unpickle(bytesOf(pkl), bad);
  const dict = root instanceof Map ? root : undefined;
  if (!dict) throw bad('the pickle is not a dict of tensors');
  const storages = new Map<string, Float32Array>();
  const out = new Map<string, NamedTensor>();
  for (const [name, t] of dict) {
    if ((t as TensorRef)?.kind !== 'tensor') continue;
    const ref = t as TensorRef;
    let storage = storages.get(ref.storage.key);
    if (!storage) {
      const e = entries.get(`${prefix}data/${ref.storage.key}`);
      if (!e) throw bad(`storage ${ref.storage.key} of ${String(name)} is missing`);
      const bytes = bytesOf(e);
      storage = decodeFloat32(bytes, ref.storage.dtype, Math.floor(bytes.length / DTYPE_BYTES[ref.storage.dtype]));
      storages.set(ref.storage.key, storage);
    }
    out.set(String(name), { shape: ref.shape, data: materialise(ref, storage) });
  }
  return out;
}
