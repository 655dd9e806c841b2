import { test } from 'node:test';
import assert from 'node:assert/strict';
import { detectEmbedStyle, findConflicts, imageEmbed, readNotesBlock, upsertNotesBlock } from '../../src/core/notes';

const NOTES = [
  '# KR-BERT on Steam reviews',
  '',
  'Setext heading with a rule',
  '=======',
  '',
  'Some thoughts before the results.',
  '',
].join('\n');

function ok(r: ReturnType<typeof upsertNotesBlock>): string {
  assert.equal(r.ok, true, r.ok ? '' : r.message);
  return (r as { text: string }).text;
}

test('a new block is appended after the user text, which stays byte-identical', () => {
  const out = ok(upsertNotesBlock(NOTES, 'demo', '| a | b |\n|---|---|\n| 1 | 2 |'));
  assert.equal(Buffer.compare(Buffer.from(out.slice(0, NOTES.length)), Buffer.from(NOTES)), 0);
  assert.match(out, /<!-- trialbook:begin study=demo -->\n\| a \| b \|\n\|---\|---\|\n\| 1 \| 2 \|\n<!-- trialbook:end -->\n$/);
  assert.equal(readNotesBlock(out, 'demo'), '| a | b |\n|---|---|\n| 1 | 2 |\n');
});

test('running again replaces the block in place; bytes before and after it are unchanged', () => {
  const first = ok(upsertNotesBlock(NOTES, 'demo', 'old table'));
  const tail = '\n## Later notes\n\nWritten after the first insert. ![[img.png]] stays.\r\n';
  const withTail = first + tail;
  const r = upsertNotesBlock(withTail, 'demo', 'new table\nsecond line');
  assert.equal(r.ok && r.action, 'replaced');
  const out = ok(r);
  const begin = out.indexOf('<!-- trialbook:begin study=demo -->');
  const endMarker = '<!-- trialbook:end -->\n';
  const end = out.indexOf(endMarker) + endMarker.length;
  // Byte compare what lies outside the block with the original.
  const origBegin = withTail.indexOf('<!-- trialbook:begin study=demo -->');
  const origEnd = withTail.indexOf(endMarker) + endMarker.length;
  assert.equal(Buffer.compare(Buffer.from(out.slice(0, begin)), Buffer.from(withTail.slice(0, origBegin))), 0);
  assert.equal(Buffer.compare(Buffer.from(out.slice(end)), Buffer.from(withTail.slice(origEnd))), 0);
  assert.equal(readNotesBlock(out, 'demo'), 'new table\nsecond line\n');
  // Same body again: nothing to do.
  const again = upsertNotesBlock(out, 'demo', 'new table\nsecond line');
  assert.equal(again.ok && again.action, 'unchanged');
  assert.equal(ok(again), out);
});

test('blocks of other studies and CRLF files are respected', () => {
  const crlf = 'intro\r\n\r\n<!-- trialbook:begin study=a -->\r\nA\r\n<!-- trialbook:end -->\r\nmiddle\r\n<!-- trialbook:begin study=b -->\r\nB\r\n<!-- trialbook:end -->\r\noutro\r\n';
  const out = ok(upsertNotesBlock(crlf, 'b', 'B2\nB3'));
  assert.equal(out, crlf.replace('B\r\n', 'B2\r\nB3\r\n'));
  assert.equal(readNotesBlock(out, 'a'), 'A\r\n');
});

test('markers inside a code fence are documentation, not a block', () => {
  const doc = 'how it looks:\n```\n<!-- trialbook:begin study=demo -->\n<!-- trialbook:end -->\n```\n';
  const out = ok(upsertNotesBlock(doc, 'demo', 'X'));
  assert.ok(out.startsWith(doc));
  assert.equal(out.split('trialbook:begin').length, 3);
});

test('a conflicted region around the block is refused, naming the lines', () => {
  const withBlock = ok(upsertNotesBlock('top\n', 'demo', 'v1'));
  const conflicted = '<<<<<<< HEAD\n' + withBlock + '=======\ntheirs\n>>>>>>> branch\nafter\n';
  const r = upsertNotesBlock(conflicted, 'demo', 'v2');
  assert.equal(r.ok, false);
  assert.equal(!r.ok && r.reason, 'conflict');
  assert.equal(!r.ok && r.line, 1);
  assert.match(!r.ok ? r.message : '', /conflict markers at lines 1–9/);
  assert.deepEqual(findConflicts(conflicted), [{ startLine: 1, endLine: 9 }]);
});

test('a resolved-elsewhere conflict does not block an update outside it; an unterminated one at the end does', () => {
  const withBlock = ok(upsertNotesBlock('top\n', 'demo', 'v1'));
  const elsewhere = withBlock + '<<<<<<< HEAD\nmine\n=======\ntheirs\n>>>>>>> x\n';
  const out = ok(upsertNotesBlock(elsewhere, 'demo', 'v2'));
  assert.ok(out.endsWith('<<<<<<< HEAD\nmine\n=======\ntheirs\n>>>>>>> x\n'), 'conflict region left untouched');
  assert.equal(readNotesBlock(out, 'demo'), 'v2\n');
  // Appending a new study's block after a closed conflict is fine; into an open one is not.
  assert.equal(upsertNotesBlock(elsewhere, 'other', 'x').ok, true);
  const open = 'intro\n<<<<<<< HEAD\nmine\n=======\ntheirs\n';
  const r = upsertNotesBlock(open, 'other', 'x');
  assert.equal(r.ok, false);
  assert.equal(!r.ok && r.reason, 'conflict');
});

test('an unclosed begin marker is reported as malformed, not overwritten', () => {
  const r = upsertNotesBlock('a\n<!-- trialbook:begin study=demo -->\nb\n', 'demo', 'x');
  assert.equal(r.ok, false);
  assert.equal(!r.ok && r.reason, 'malformed');
  assert.equal(!r.ok && r.line, 2);
});

test('embed style follows the file: Obsidian embeds vs Markdown images', () => {
  assert.equal(detectEmbedStyle('see ![[loss.png]] here'), 'obsidian');
  assert.equal(detectEmbedStyle('see ![loss](loss.png) and [[a wiki link]]'), 'markdown');
  // An embed Trialbook wrote earlier (e.g. with the setting at obsidian) does not decide the style.
  assert.equal(detectEmbedStyle('# log\n\n<!-- trialbook:begin study=s -->\n![[trialbook/s-history.png]]\n<!-- trialbook:end -->\n'), 'markdown');
  assert.equal(detectEmbedStyle('![[plot.png]]\n<!-- trialbook:begin study=s -->\n![s](trialbook/s.png)\n<!-- trialbook:end -->\n'), 'obsidian');
  assert.equal(imageEmbed('obsidian', 'trialbook/demo.png', 'chart'), '![[trialbook/demo.png]]');
  assert.equal(imageEmbed('markdown', 'trialbook/demo.png', 'chart'), '![chart](trialbook/demo.png)');
  assert.equal(imageEmbed('markdown', 'my charts/demo.png', 'chart'), '![chart](<my charts/demo.png>)');
});
