/** Small helpers the e2e tests share: waiting, journals, canvases, PNG pixels. */
import { inflateSync } from 'node:zlib';
import { join } from 'node:path';
import { JournalStore } from '../../src/store/journal';
import type { Editor } from './harness';

export async function journalTrials(ws: string, name: string) {
  const store = new JournalStore(join(ws, '.trialbook', name), { readOnly: true, onWarning: () => undefined });
  const trials = await store.trials();
  await store.close();
  return trials;
}

export async function waitFor<T>(what: string, fn: () => Promise<T | undefined> | T | undefined, timeoutMs: number, everyMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Share of painted pixels of a canvas in the dashboard frame (0 = blank). */
export async function painted(ed: Editor, id: string): Promise<number> {
  return ed.dashboard().locator(`#${id}`).evaluate((c: HTMLCanvasElement) => {
    const ctx = c.getContext('2d');
    if (!ctx || !c.width || !c.height) return 0;
    const d = ctx.getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 3; i < d.length; i += 4) if (d[i]! > 0) n++;
    return n / (c.width * c.height);
  });
}

/** RGBA of the top-left pixel of an 8-bit RGBA/RGB PNG (non-interlaced, as canvases write them). */
export function firstPixel(png: Buffer): number[] {
  let at = 8;
  let width = 0;
  let channels = 4;
  const idat: Buffer[] = [];
  while (at < png.length) {
    const len = png.readUInt32BE(at);
    const type = png.toString('ascii', at + 4, at + 8);
    const body = png.subarray(at + 8, at + 8 + len);
    if (type === 'IHDR') {
      width = body.readUInt32BE(0);
      channels = body[9] === 6 ? 4 : 3;
    }
    if (type === 'IDAT') idat.push(body);
    at += 12 + len;
  }
  const raw = inflateSync(Buffer.concat(idat));
  // Row 0 starts with its filter byte; every filter leaves row 0's first pixel as stored (its neighbours count as 0).
  if (width === 0) throw new Error('no IHDR');
  return [...raw.subarray(1, 1 + channels)];
}
