/**
 * Where a model folder keeps its weights, in Hugging Face's order of preference: model.safetensors,
 * sharded safetensors (model.safetensors.index.json), pytorch_model.bin, sharded
 * pytorch_model.bin (pytorch_model.bin.index.json).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../core/errors';
import { readSafetensors, type NamedTensor } from './safetensors';
import { readTorchBin } from './torch-bin';

export interface WeightFiles {
  /** The file to name in messages: the weights file, or the shard index. */
  file: string;
  tensors: Map<string, NamedTensor>;
  /** Size and newest modification time of every file read: identifies these weights. */
  bytes: number;
  mtimeMs: number;
}

const LAYOUTS = [
  { file: 'model.safetensors', sharded: false, read: readSafetensors },
  { file: 'model.safetensors.index.json', sharded: true, read: readSafetensors },
  { file: 'pytorch_model.bin', sharded: false, read: readTorchBin },
  { file: 'pytorch_model.bin.index.json', sharded: true, read: readTorchBin },
] as const;

/** The files a folder's weights may be in, in order of preference (the pre-flight check looks for one). */
export const WEIGHT_LAYOUT_FILES = LAYOUTS.map((l) => l.file);

/** Shard files an index names (its weight_map's values), in order of first mention. */
function shardsOf(index: string): string[] {
  let parsed: { weight_map?: Record<string, unknown> };
  try {
    parsed = JSON.parse(readFileSync(index, 'utf8'));
  } catch (e) {
    throw new UserError(`${index}: not valid JSON (${(e as Error).message})`, 'E_CHECKPOINT');
  }
  const files = Object.values(parsed.weight_map ?? {});
  if (!files.length || files.some((f) => typeof f !== 'string' || f.includes('/') || f.includes('\\'))) {
    throw new UserError(`${index}: needs a "weight_map" from tensor names to shard files in the same folder`, 'E_CHECKPOINT');
  }
  return [...new Set(files as string[])];
}

/** Reads a folder's weights, whichever layout it has; a clear error naming the files looked for when none. */
export function readWeightFiles(dir: string): WeightFiles {
  const layout = LAYOUTS.find((l) => existsSync(join(dir, l.file)));
  if (!layout) throw new UserError(`${dir}: no weights (looked for ${WEIGHT_LAYOUT_FILES.join(', ')})`, 'E_NOT_FOUND');
  const file = join(dir, layout.file);
  const files = layout.sharded ? shardsOf(file).map((f) => join(dir, f)) : [file];
  const tensors = new Map<string, NamedTensor>();
  let bytes = 0;
  let mtimeMs = 0;
  for (const f of files) {
    if (!existsSync(f)) throw new UserError(`${file}: names shard ${f}, which is missing`, 'E_NOT_FOUND');
    for (const [name, t] of layout.read(f)) tensors.set(name, t);
    const st = statSync(f);
    bytes += st.size;
    mtimeMs = Math.max(mtimeMs, st.mtimeMs);
  }
  return { file, tensors, bytes, mtimeMs };
}
