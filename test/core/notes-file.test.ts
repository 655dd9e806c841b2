/**
 * The notes file on disk (core/notes-file.ts, behind `report --notes` and Insert Results): its
 * encoding, its links and mode are the user's, and every byte outside the block stays.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, linkSync, lstatSync, mkdirSync, readFileSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import iconv from 'iconv-lite';
import { tempDir, userError } from '../helpers';
import { readNotesBlock } from '../../src/core/notes';
import { writeNotesBlock } from '../../src/core/notes-file';

const BLOCK = '## Study `demo`\n\n### Best trial: #2 — val_loss 0.3538 ± 0.01\n\n```json\n{ "learning_rate": 0.0001 }\n```\n';

function assertPrefixKept(before: Buffer, after: Buffer): void {
  assert.equal(Buffer.compare(after.subarray(0, before.length), before), 0, 'the bytes before the block are unchanged');
}

test('EUC-KR/CP949 notes stay EUC-KR: Korean text kept byte for byte, the block readable in that encoding, a second run changes nothing', (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'notes.md');
  const before = iconv.encode('# 게임 리뷰 감성 분석\n\n똠방각하 — 실험 기록입니다.\n', 'cp949');
  writeFileSync(file, before);
  const change = writeNotesBlock(file, 'demo', BLOCK);
  assert.equal(change.encoding, 'euckr');
  assert.equal(change.action, 'inserted');
  const after = readFileSync(file);
  assertPrefixKept(before, after);
  const text = iconv.decode(after, 'cp949');
  assert.ok(!text.includes('\ufffd'));
  assert.match(text, /^# 게임 리뷰 감성 분석\n/);
  // EUC-KR has no em dash: outside code it becomes a character reference Markdown shows as "—".
  assert.match(readNotesBlock(text, 'demo')!, /### Best trial: #2 &#8212; val_loss 0\.3538 ± 0\.01\n/);
  assert.equal(writeNotesBlock(file, 'demo', BLOCK).action, 'unchanged');
  assert.equal(Buffer.compare(readFileSync(file), after), 0);
});

test('Latin-1 and Windows-1252 notes are written back in their own code page', (t) => {
  const dir = tempDir(t);
  for (const [name, bytes, encoding, codec, dash] of [
    ['latin1.md', Buffer.from('Caf\xe9 cr\xe8me br\xfbl\xe9e\n\x81\n', 'latin1'), 'iso88591', 'latin1', '&#8212;'],
    ['cp1252.md', Buffer.from('Caf\xe9 \x93quoted\x94 na\xefve\n', 'latin1'), 'windows1252', 'windows-1252', '—'],
  ] as const) {
    const file = join(dir, name);
    writeFileSync(file, bytes);
    assert.equal(writeNotesBlock(file, 'demo', BLOCK).encoding, encoding);
    const after = readFileSync(file);
    assertPrefixKept(bytes, after);
    assert.match(iconv.decode(after, codec), new RegExp(`### Best trial: #2 ${dash} val_loss 0\\.3538 ± 0\\.01\n`));
  }
});

test('UTF-8 with BOM and UTF-16 keep their BOM and encoding', (t) => {
  const dir = tempDir(t);
  const cases = [
    ['bom.md', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('# 노트\n')]), 'utf8bom', (b: Buffer) => b.subarray(3).toString('utf8')],
    ['u16.md', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('# 노트\n', 'utf16le')]), 'utf16le', (b: Buffer) => b.subarray(2).toString('utf16le')],
  ] as const;
  for (const [name, bytes, encoding, decode] of cases) {
    const file = join(dir, name);
    writeFileSync(file, bytes);
    assert.equal(writeNotesBlock(file, 'demo', BLOCK).encoding, encoding);
    const after = readFileSync(file);
    assertPrefixKept(bytes, after);
    assert.match(decode(after), /### Best trial: #2 — val_loss/);
  }
});

test('a UTF-8 file with one damaged byte, or results a code page cannot hold in a code block, are refused and left as they were', (t) => {
  const dir = tempDir(t);
  const damaged = join(dir, 'damaged.md');
  const bytes = Buffer.concat([Buffer.from('# 한국어 노트\n둘째 줄 '), Buffer.from([0xff]), Buffer.from(' 끝\n')]);
  writeFileSync(damaged, bytes);
  assert.match(userError(() => writeNotesBlock(damaged, 'demo', BLOCK)), /damaged\.md:2: not valid UTF-8 \(byte 0xff at offset \d+\) although the rest is UTF-8; nothing was changed/);
  assert.equal(Buffer.compare(readFileSync(damaged), bytes), 0);

  const latin = join(dir, 'latin.md');
  writeFileSync(latin, Buffer.from('Caf\xe9\n', 'latin1'));
  const msg = userError(() => writeNotesBlock(latin, 'demo', '```json\n{ "label": "긍정" }\n```\n'));
  assert.match(msg, /latin\.md: line 2 of the results holds "긍" \(U\+AE0D\) in a code block, which Windows-1252 cannot store; nothing was changed — save the notes as UTF-8/);
  assert.equal(readFileSync(latin, 'latin1'), 'Caf\xe9\n');
});

test('a symlinked notes file is written through the link; hard links share the new content; the mode stays', (t) => {
  const dir = tempDir(t);
  mkdirSync(join(dir, 'vault'));
  const real = join(dir, 'vault', 'log.md');
  writeFileSync(real, '# log\n');
  chmodSync(real, 0o600);
  const link = join(dir, 'notes.md');
  symlinkSync(join('vault', 'log.md'), link);
  const twin = join(dir, 'twin.md');
  linkSync(real, twin);

  writeNotesBlock(link, 'demo', BLOCK);
  assert.ok(lstatSync(link).isSymbolicLink(), 'still a symlink');
  assert.match(readFileSync(real, 'utf8'), /trialbook:begin study=demo/);
  assert.equal(readFileSync(twin, 'utf8'), readFileSync(real, 'utf8'), 'the hard link shows the new content');
  assert.equal(statSync(real).nlink, 2);
  assert.equal(statSync(real).mode & 0o777, 0o600);

  // A single-link file is replaced atomically, and still keeps its mode.
  const solo = join(dir, 'solo.md');
  writeFileSync(solo, '# solo\n');
  chmodSync(solo, 0o640);
  writeNotesBlock(solo, 'demo', BLOCK);
  assert.equal(statSync(solo).mode & 0o777, 0o640);
});

test('a read-only notes file is refused in one line and not touched; a folder in its place likewise', (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'notes.md');
  writeFileSync(file, '# frozen\n');
  chmodSync(file, 0o444);
  const msg = userError(() => writeNotesBlock(file, 'demo', BLOCK));
  assert.match(msg, /notes\.md: the file is read-only; nothing was changed/);
  assert.equal(msg.split('\n').length, 1);
  assert.equal(readFileSync(file, 'utf8'), '# frozen\n');
  assert.equal(statSync(file).mode & 0o777, 0o444);
  mkdirSync(join(dir, 'folder.md'));
  assert.match(userError(() => writeNotesBlock(join(dir, 'folder.md'), 'demo', BLOCK)), /folder\.md: is a folder; the notes must be a Markdown file/);
});

test('temporary files a killed write left beside the notes are swept on the next write; a live writer\'s are kept', (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'notes.md');
  writeFileSync(file, '# notes\n');
  const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
  const stale = join(dir, `.notes.md.${dead}.1700000000000.tmp`);
  const live = join(dir, `.notes.md.${process.ppid}.1700000000000.tmp`);
  const other = join(dir, `.other.md.${dead}.1700000000000.tmp`);
  for (const p of [stale, live, other]) writeFileSync(p, 'half a file');
  writeNotesBlock(file, 'demo', BLOCK);
  assert.equal(existsSync(stale), false, 'the dead writer\'s temp file is gone');
  assert.ok(existsSync(live), 'a running writer\'s temp file is left alone');
  assert.ok(existsSync(other), 'temp files of other targets are left alone');
  assert.deepEqual(readdirSync(dir).sort(), [live, file, other].map((p) => p.slice(dir.length + 1)).sort());
});
