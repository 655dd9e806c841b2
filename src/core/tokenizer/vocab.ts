/**
 * A BERT `vocab.txt`: one token per line, the line number is the id. Read the way BERT's
 * `load_vocab` reads it (each line stripped; a repeated token keeps its last line), so ids match.
 */
import { readFileSync } from 'node:fs';
import { UserError } from '../errors';
import { assertReadableFile } from '../fsutil';
import { sha256 } from '../hash';

export const SPECIAL_TOKENS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]'] as const;

export interface Vocab {
  /** The path as given, for messages. */
  file: string;
  /** Token by id (line order). */
  tokens: string[];
  /** Id by token. */
  ids: Map<string, number>;
  size: number;
  /** sha256 of the file's bytes: part of the encoded-cache key. */
  sha256: string;
  pad: number;
  unk: number;
  cls: number;
  sep: number;
}

/** Reads and checks a vocab file; missing specials, an empty or binary file are UserErrors. */
export function loadVocab(file: string): Vocab {
  assertReadableFile(file, 'vocab file');
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    throw new UserError(`${file}: cannot read the vocab file (${(e as NodeJS.ErrnoException).code ?? e})`, 'E_IO');
  }
  return parseVocab(file, bytes);
}

export function parseVocab(file: string, bytes: Uint8Array): Vocab {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new UserError(`${file}: the vocab file is not valid UTF-8 text`, 'E_ENCODING');
  }
  if (text.includes('\0')) throw new UserError(`${file}: the vocab file is binary (NUL byte), expected one token per line`, 'E_ENCODING');
  const lines = text.split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  if (lines.length === 0) throw new UserError(`${file}: the vocab file is empty; expected one token per line`, 'E_DATA');
  const tokens = lines.map(pyStrip);
  const ids = new Map<string, number>();
  tokens.forEach((t, i) => ids.set(t, i));
  const missing = SPECIAL_TOKENS.filter((t) => !ids.has(t));
  if (missing.length > 0) {
    throw new UserError(`${file}: the vocab has no ${missing.join(', ')} (a BERT vocab needs [PAD], [UNK], [CLS] and [SEP], one per line)`, 'E_VOCAB');
  }
  return {
    file,
    tokens,
    ids,
    size: tokens.length,
    sha256: sha256(bytes),
    pad: ids.get('[PAD]')!,
    unk: ids.get('[UNK]')!,
    cls: ids.get('[CLS]')!,
    sep: ids.get('[SEP]')!,
  };
}

/** Python's str.strip(): Unicode whitespace, but not U+FEFF (which JS trim() also removes). */
function pyStrip(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && isPySpace(s.charCodeAt(a))) a++;
  while (b > a && isPySpace(s.charCodeAt(b - 1))) b--;
  return a === 0 && b === s.length ? s : s.slice(a, b);
}

function isPySpace(c: number): boolean {
  return (c >= 9 && c <= 13) || (c >= 0x1c && c <= 0x20) || c === 0x85 || c === 0xa0 || c === 0x1680 ||
    (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000;
}
