/**
 * The tokenize command's output, `{"i": 0, "ids": [...], "n": 11}` per line (Python json.dumps
 * spacing, so files compare byte for byte with BERT-side scripts), written as ASCII bytes into
 * one buffer: no per-row JSON.stringify or number-to-string.
 */
import type { EncodedTexts } from './encode';

export function encodedToJsonl(e: EncodedTexts, pad: number): Buffer {
  const { maxLen, count, ids, lengths } = e;
  // Worst case per id: 10 digits + sign + ", ".
  let buf = Buffer.allocUnsafe(Math.max(1024, count * (40 + maxLen * 4)));
  let p = 0;
  const ensure = (extra: number): void => {
    if (p + extra <= buf.length) return;
    const b = Buffer.allocUnsafe(Math.max(buf.length * 2, p + extra));
    buf.copy(b, 0, 0, p);
    buf = b;
  };
  const num = (v: number): void => {
    if (v < 0) {
      buf[p++] = 45;
      v = -v;
    }
    if (v < 10) {
      buf[p++] = 48 + v;
      return;
    }
    let digits = 1;
    for (let t = v; t >= 10; t = Math.floor(t / 10)) digits++;
    let q = p + digits;
    p = q;
    while (v > 0) {
      buf[--q] = 48 + (v % 10);
      v = Math.floor(v / 10);
    }
  };
  const lit = (s: Buffer): void => {
    s.copy(buf, p);
    p += s.length;
  };
  const I = Buffer.from('{"i": ');
  const IDS = Buffer.from(', "ids": [');
  const N = Buffer.from('], "n": ');
  const padText = `, ${pad}`;
  const padTail = Buffer.from(padText.repeat(maxLen));
  const padLen = padText.length;
  for (let r = 0; r < count; r++) {
    ensure(64 + maxLen * 13);
    lit(I);
    num(r);
    lit(IDS);
    const off = r * maxLen;
    const used = lengths[r];
    num(ids[off]);
    for (let k = 1; k < used; k++) {
      buf[p++] = 44;
      buf[p++] = 32;
      num(ids[off + k]);
    }
    const pads = maxLen - Math.max(used, 1);
    if (pads > 0) {
      padTail.copy(buf, p, 0, pads * padLen);
      p += pads * padLen;
    }
    lit(N);
    num(used);
    buf[p++] = 125;
    buf[p++] = 10;
  }
  return buf.subarray(0, p);
}
