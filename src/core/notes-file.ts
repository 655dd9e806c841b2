/**
 * The notes file on disk, for `report --notes` and the editor's Insert Results alike: read in
 * its own encoding (./text-encoding.ts), the study's block put in by ./notes.ts, written back in
 * that same encoding through writeFileAtomic (which keeps links, mode and read-only files). The
 * bytes outside the block come out exactly as they went in.
 */
import { readFileSync } from 'node:fs';
import { UserError } from './errors';
import { writeFileAtomic } from './fsutil';
import { upsertNotesBlock } from './notes';
import { canEncode, decodeText, encodeText, encodingLabel, isUnicode, type TextEncoding } from './text-encoding';

export interface NotesText {
  file: string;
  text: string;
  encoding: TextEncoding;
  /** The file's bytes; undefined when it does not exist yet (it is then created as UTF-8). */
  bytes?: Buffer;
}

export interface NotesChange {
  action: 'inserted' | 'replaced' | 'unchanged';
  text: string;
  bytes: Buffer;
  encoding: TextEncoding;
}

export function readNotesFile(file: string): NotesText {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { file, text: '', encoding: 'utf8' };
    if (code === 'EISDIR') throw new UserError(`${file}: is a folder; the notes must be a Markdown file`, 'E_IS_DIR');
    throw new UserError(`${file}: cannot read the notes (${code ?? (e as Error).message})`, 'E_IO');
  }
  return { file, ...decodeText(file, bytes), bytes };
}

/** The notes with the study's block put in or replaced: the new text and the bytes to write. */
export function updateNotes(notes: NotesText, study: string, markdown: string): NotesChange {
  const update = upsertNotesBlock(notes.text, study, fitToEncoding(markdown, notes));
  // `line` lets the editor offer to show the spot.
  if (!update.ok) throw Object.assign(new UserError(`${notes.file}:${update.line}: ${update.message}`, 'E_NOTES'), { line: update.line });
  const bytes = encodeText(update.text, notes.encoding);
  const action = notes.bytes?.equals(bytes) ? 'unchanged' : update.action;
  return { action, text: update.text, bytes, encoding: notes.encoding };
}

/** `report --notes`: reads, updates and writes the notes file; nothing is written when nothing changed. */
export function writeNotesBlock(file: string, study: string, markdown: string): NotesChange {
  const change = updateNotes(readNotesFile(file), study, markdown);
  if (change.action !== 'unchanged') writeFileAtomic(file, change.bytes);
  return change;
}

/** How a change is described: the encoding is named when it is not plain UTF-8. */
export function describeNotesChange(change: NotesChange, study: string, file: string): string {
  const kept = change.encoding === 'utf8' ? '' : ` (kept its ${encodingLabel(change.encoding)} encoding)`;
  return `${change.action} the trialbook block for study ${study} in ${file}${kept}`;
}

/**
 * The block in characters the file's encoding can hold. Outside code, a character it lacks (an
 * EUC-KR file has no "—") becomes a numeric character reference, which Markdown shows as that
 * character; inside a code block it would show as written, so that is refused instead.
 */
function fitToEncoding(markdown: string, notes: NotesText): string {
  if (isUnicode(notes.encoding)) return markdown;
  let fence: string | undefined;
  return markdown
    .split('\n')
    .map((line, i) => {
      const f = /^\s{0,3}(```|~~~)/.exec(line);
      if (f) fence = fence === undefined ? f[1] : f[1] === fence ? undefined : fence;
      let out = '';
      for (const ch of line) {
        if (canEncode(ch, notes.encoding)) out += ch;
        else if (fence === undefined && !f) out += `&#${ch.codePointAt(0)};`;
        else {
          const cp = `U+${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
          throw new UserError(
            `${notes.file}: line ${i + 1} of the results holds "${ch}" (${cp}) in a code block, which ${encodingLabel(notes.encoding)} cannot store; nothing was changed — save the notes as UTF-8 to insert them`,
            'E_ENCODING',
          );
        }
      }
      return out;
    })
    .join('\n');
}
