/**
 * The generated block Trialbook keeps in a user's research notes. Pure text in, text out:
 *
 *   <!-- trialbook:begin study=NAME -->
 *   …generated Markdown…
 *   <!-- trialbook:end -->
 *
 * Only the lines between the two markers are ever rewritten; every byte outside them stays as it
 * was (line endings included). A file with unresolved git conflict markers is refused when the
 * block (or the place a new block would go) lies inside a conflicted region.
 */

export type EmbedStyle = 'markdown' | 'obsidian';

export interface LineRange {
  /** 1-based, inclusive. */
  startLine: number;
  endLine: number;
}

export type NotesUpdate =
  | { ok: true; text: string; action: 'inserted' | 'replaced' | 'unchanged' }
  | { ok: false; reason: 'conflict' | 'malformed'; line: number; message: string };

const BEGIN = /^\s*<!--\s*trialbook:begin\s+study=([^\s>]+)\s*-->\s*$/;
const END = /^\s*<!--\s*trialbook:end\s*-->\s*$/;
const FENCE = /^\s{0,3}(```|~~~)/;

export function beginMarker(study: string): string {
  return `<!-- trialbook:begin study=${study} -->`;
}
export const END_MARKER = '<!-- trialbook:end -->';

/** Lines with their terminators, so joining them gives back the exact original text. */
function splitKeepingEol(text: string): string[] {
  const parts = text.match(/[^\n]*\n|[^\n]+$/g);
  return parts ?? [];
}

function stripEol(line: string): string {
  return line.replace(/\r?\n$/, '');
}

/**
 * Unresolved git conflict regions (`<<<<<<<` … `>>>>>>>`). `=======` alone is not a conflict (it
 * is also a Setext heading underline); an opening marker without a closing one runs to the end.
 */
export function findConflicts(text: string): LineRange[] {
  const lines = splitKeepingEol(text).map(stripEol);
  const out: LineRange[] = [];
  let open: number | undefined;
  lines.forEach((l, i) => {
    if (open === undefined && /^<{7}(\s|$)/.test(l)) open = i + 1;
    else if (open !== undefined && /^>{7}(\s|$)/.test(l)) {
      out.push({ startLine: open, endLine: i + 1 });
      open = undefined;
    }
  });
  if (open !== undefined) out.push({ startLine: open, endLine: Math.max(open, lines.length) });
  return out;
}

/**
 * Obsidian embeds (`![[image.png]]`) in the user's own text → keep to that style. Trialbook's
 * blocks do not count: an image it once wrote in the other style must not decide the next one.
 */
export function detectEmbedStyle(text: string): EmbedStyle {
  const own = text.replace(/<!--\s*trialbook:begin[\s\S]*?<!--\s*trialbook:end\s*-->/g, '');
  return /!\[\[[^\]\n]+\]\]/.test(own) ? 'obsidian' : 'markdown';
}

/** An image link in the file's own style; `relPath` uses forward slashes. */
export function imageEmbed(style: EmbedStyle, relPath: string, alt: string): string {
  if (style === 'obsidian') return `![[${relPath}]]`;
  const target = /[\s()<>]/.test(relPath) ? `<${relPath}>` : relPath;
  return `![${alt.replace(/[[\]]/g, '')}](${target})`;
}

interface Block {
  study: string;
  beginLine: number; // 0-based index of the begin marker
  endLine: number; // 0-based index of the end marker
}

function findBlocks(lines: string[]): { blocks: Block[]; error?: { line: number; message: string } } {
  const blocks: Block[] = [];
  let fence: string | undefined;
  let open: { study: string; line: number } | undefined;
  for (let i = 0; i < lines.length; i++) {
    const l = stripEol(lines[i]!);
    const f = FENCE.exec(l);
    if (f && !open) {
      // Markers shown inside a code fence are documentation, not a block.
      if (fence === undefined) fence = f[1];
      else if (f[1] === fence) fence = undefined;
      continue;
    }
    if (fence !== undefined) continue;
    const b = BEGIN.exec(l);
    if (b) {
      if (open) return { blocks, error: { line: i + 1, message: `line ${i + 1}: a new trialbook:begin marker before the block opened at line ${open.line + 1} was closed` } };
      open = { study: b[1]!, line: i };
    } else if (END.test(l)) {
      if (!open) return { blocks, error: { line: i + 1, message: `line ${i + 1}: trialbook:end marker without a matching begin marker` } };
      blocks.push({ study: open.study, beginLine: open.line, endLine: i });
      open = undefined;
    }
  }
  if (open) return { blocks, error: { line: open.line + 1, message: `line ${open.line + 1}: trialbook:begin marker for study ${open.study} has no trialbook:end marker` } };
  return { blocks };
}

function overlaps(a: LineRange, b: LineRange): boolean {
  return a.startLine <= b.endLine && b.startLine <= a.endLine;
}

function conflictMessage(c: LineRange, where: string): string {
  return `unresolved git conflict markers at lines ${c.startLine}–${c.endLine} ${where}; resolve the conflict first (Trialbook never writes inside a conflicted region)`;
}

/**
 * Puts `body` between the study's markers: replaces the existing block's contents in place, or
 * appends a new block at the end of the file. `body` is written with the file's line endings.
 */
export function upsertNotesBlock(text: string, study: string, body: string): NotesUpdate {
  const lines = splitKeepingEol(text);
  const found = findBlocks(lines);
  if (found.error) return { ok: false, reason: 'malformed', ...found.error };
  const conflicts = findConflicts(text);
  const existing = found.blocks.find((b) => b.study === study);
  // Write the body with the line ending already used there (the block's, else the file's first).
  const eol = (existing ? lines[existing.beginLine]! : (lines[0] ?? '')).endsWith('\r\n') ? '\r\n' : '\n';
  const bodyLines = body.replace(/\r\n/g, '\n').replace(/\n+$/, '').split('\n');
  const inner = bodyLines.map((l) => l + eol).join('');

  if (existing) {
    const range = { startLine: existing.beginLine + 1, endLine: existing.endLine + 1 };
    const c = conflicts.find((r) => overlaps(r, range));
    if (c) return { ok: false, reason: 'conflict', line: c.startLine, message: conflictMessage(c, `overlap the trialbook block of study ${study} (lines ${range.startLine}–${range.endLine})`) };
    const before = lines.slice(0, existing.beginLine + 1).join('');
    const after = lines.slice(existing.endLine).join('');
    const next = before + inner + after;
    return { ok: true, text: next, action: next === text ? 'unchanged' : 'replaced' };
  }

  // New block at the end: refused if the file ends inside a conflicted region.
  const last = Math.max(1, lines.length);
  const c = conflicts.find((r) => r.endLine >= last && overlaps(r, { startLine: last, endLine: last }));
  if (c && (lines.length === 0 || !/^>{7}(\s|$)/.test(stripEol(lines[lines.length - 1]!)))) {
    return { ok: false, reason: 'conflict', line: c.startLine, message: conflictMessage(c, 'run to the end of the file, where the new block would go') };
  }
  let prefix = text;
  if (prefix.length && !prefix.endsWith('\n')) prefix += eol;
  // One blank line between the user's text and the block.
  if (prefix.length && !/(\r?\n){2}$/.test(prefix)) prefix += eol;
  const next = prefix + beginMarker(study) + eol + inner + END_MARKER + eol;
  return { ok: true, text: next, action: 'inserted' };
}

/** The block's current contents for a study, without markers (undefined when absent). */
export function readNotesBlock(text: string, study: string): string | undefined {
  const lines = splitKeepingEol(text);
  const b = findBlocks(lines).blocks.find((x) => x.study === study);
  return b ? lines.slice(b.beginLine + 1, b.endLine).join('') : undefined;
}
