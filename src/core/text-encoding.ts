/**
 * Text files in the encoding they came in. Notes kept on Korean Windows are often EUC-KR/CP949,
 * older Western ones Windows-1252 or Latin-1; decoding them as UTF-8 turns every such character
 * into U+FFFD for good. `decodeText` finds a file's encoding and only accepts one that gives the
 * file's bytes back exactly when the text is encoded again, so a file rewritten through
 * `encodeText` keeps every byte outside what was meant to change. Legacy code pages come from
 * iconv-lite. Names are VS Code's (`TextDocument.encoding`), so the editor can compare them.
 */
import iconv from 'iconv-lite';
import { UserError } from './errors';

export type TextEncoding = 'utf8' | 'utf8bom' | 'utf16le' | 'utf16be' | 'euckr' | 'windows1252' | 'iso88591';

const CODEC: Record<TextEncoding, string> = {
  utf8: 'utf8',
  utf8bom: 'utf8',
  utf16le: 'utf16le',
  utf16be: 'utf16be',
  // CP949 (Unified Hangul Code) is EUC-KR plus the Hangul syllables EUC-KR lacks.
  euckr: 'cp949',
  windows1252: 'windows-1252',
  iso88591: 'latin1',
};

const LABEL: Record<TextEncoding, string> = {
  utf8: 'UTF-8',
  utf8bom: 'UTF-8 with BOM',
  utf16le: 'UTF-16 LE',
  utf16be: 'UTF-16 BE',
  euckr: 'EUC-KR/CP949',
  windows1252: 'Windows-1252',
  iso88591: 'Latin-1',
};

export function encodingLabel(e: TextEncoding): string {
  return LABEL[e];
}

export function isUnicode(e: TextEncoding): boolean {
  return e === 'utf8' || e === 'utf8bom' || e === 'utf16le' || e === 'utf16be';
}

export interface DecodedText {
  text: string;
  encoding: TextEncoding;
}

/** Text and encoding of a file's bytes; a UserError naming the file when it cannot be told safely. */
export function decodeText(file: string, bytes: Uint8Array): DecodedText {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  const found = detect(file, buf);
  const text = decodeAs(buf, found);
  if (!encodeText(text, found).equals(buf)) {
    throw new UserError(`${file}: its bytes do not read back the same as ${LABEL[found]} text (a damaged or mixed encoding); nothing was changed — save it as UTF-8`, 'E_ENCODING');
  }
  return { text, encoding: found };
}

export function encodeText(text: string, e: TextEncoding): Buffer {
  return iconv.encode(text, CODEC[e], { addBOM: e !== 'utf8' && e !== 'euckr' && e !== 'windows1252' && e !== 'iso88591' });
}

/** Can `e` hold this character? (The characters a legacy code page lacks are written some other way or refused.) */
export function canEncode(ch: string, e: TextEncoding): boolean {
  return isUnicode(e) || iconv.decode(iconv.encode(ch, CODEC[e]), CODEC[e]) === ch;
}

function decodeAs(buf: Buffer, e: TextEncoding): string {
  const body = e === 'utf8bom' ? buf.subarray(3) : e === 'utf16le' || e === 'utf16be' ? buf.subarray(2) : buf;
  return iconv.decode(body, CODEC[e], { stripBOM: false });
}

function detect(file: string, b: Buffer): TextEncoding {
  if (b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf) return 'utf8bom';
  if (b[0] === 0xff && b[1] === 0xfe) return 'utf16le';
  if (b[0] === 0xfe && b[1] === 0xff) return 'utf16be';
  const nul = b.indexOf(0);
  if (nul !== -1) throw new UserError(`${file}:${lineOfOffset(b, nul)}: a binary file (NUL byte at offset ${nul}), not text`, 'E_ENCODING');
  const bad = firstInvalidUtf8(b);
  if (bad === b.length) return 'utf8';
  if (mostlyHangul(iconv.decode(b, 'cp949')) && iconv.encode(iconv.decode(b, 'cp949'), 'cp949').equals(b)) return 'euckr';
  const seq = utf8Sequences(b);
  if (seq.valid >= seq.invalid) {
    // Valid multi-byte UTF-8 beside invalid bytes: a UTF-8 file with a few damaged bytes, not a code page.
    throw new UserError(
      `${file}:${lineOfOffset(b, bad)}: not valid UTF-8 (byte 0x${b[bad]!.toString(16).padStart(2, '0')} at offset ${bad}) although the rest is UTF-8; nothing was changed — fix that byte or save the file as UTF-8`,
      'E_ENCODING',
    );
  }
  return iconv.encode(iconv.decode(b, 'windows-1252'), 'windows-1252').equals(b) ? 'windows1252' : 'iso88591';
}

/** Korean text decoded from CP949: most of its non-ASCII characters are Hangul (accented Latin-1 text decodes to Hanja and symbols). */
function mostlyHangul(text: string): boolean {
  let other = 0;
  let hangul = 0;
  for (const ch of text) {
    const c = ch.codePointAt(0)!;
    if (c < 0x80) continue;
    if (c === 0xfffd) return false;
    if ((c >= 0xac00 && c <= 0xd7a3) || (c >= 0x1100 && c <= 0x11ff) || (c >= 0x3130 && c <= 0x318f)) hangul++;
    else other++;
  }
  return hangul > other;
}

/** 1-based line of a byte offset. */
export function lineOfOffset(bytes: Uint8Array, offset: number): number {
  let line = 1;
  for (let i = bytes.indexOf(10); i !== -1 && i < offset; i = bytes.indexOf(10, i + 1)) line++;
  return line;
}

/** Length of the valid UTF-8 sequence at `i` (1 for ASCII), or 0 when the bytes there are not UTF-8. */
function utf8SequenceAt(b: Uint8Array, i: number): number {
  const c = b[i]!;
  if (c < 0x80) return 1;
  let n: number;
  let min: number;
  if (c >= 0xc2 && c <= 0xdf) [n, min] = [1, 0x80];
  else if (c >= 0xe0 && c <= 0xef) [n, min] = [2, 0x800];
  else if (c >= 0xf0 && c <= 0xf4) [n, min] = [3, 0x10000];
  else return 0;
  if (i + n >= b.length) return 0;
  let cp = c & (0x3f >> n);
  for (let k = 1; k <= n; k++) {
    if ((b[i + k]! & 0xc0) !== 0x80) return 0;
    cp = (cp << 6) | (b[i + k]! & 0x3f);
  }
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
  return n + 1;
}

/** Offset of the first byte that breaks UTF-8 (the length when every byte is fine). */
export function firstInvalidUtf8(b: Uint8Array): number {
  let i = 0;
  while (i < b.length) {
    const n = utf8SequenceAt(b, i);
    if (n === 0) return i;
    i += n;
  }
  return b.length;
}

/** Valid multi-byte UTF-8 sequences and invalid bytes, counted side by side. */
function utf8Sequences(b: Uint8Array): { valid: number; invalid: number } {
  const out = { valid: 0, invalid: 0 };
  for (let i = 0; i < b.length; ) {
    const n = utf8SequenceAt(b, i);
    if (n > 1) out.valid++;
    if (n === 0) out.invalid++;
    i += Math.max(1, n);
  }
  return out;
}
