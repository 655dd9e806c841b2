/**
 * The Korean bundles are complete: every text the extension passes to vscode.l10n.t (found in
 * the source), every dashboard text and every package.nls.json key has a Korean translation
 * with the same {n} placeholders.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { STRINGS } from '../../src/protocol/webview-strings';
import { repoRoot } from '../helpers';

const read = (p: string) => readFileSync(join(repoRoot, p), 'utf8');

/** The string literals passed to l10n.t / vscode.l10n.t / t( in the extension's source. */
function extensionMessages(): string[] {
  const out = new Set<string>();
  const dir = join(repoRoot, 'src', 'extension');
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.ts'))) {
    const src = readFileSync(join(dir, f), 'utf8');
    for (const m of src.matchAll(/(?:l10n\.t|\bt)\(\s*(['"])((?:\\.|(?!\1).)*)\1/g)) out.add(m[2]!.replace(/\\(['"\\])/g, '$1'));
  }
  return [...out];
}

const placeholders = (s: string) => [...s.matchAll(/\{\d+\}/g)].map((m) => m[0]).sort();

test('every extension and dashboard text has a Korean translation with the same placeholders', () => {
  const ko = JSON.parse(read('l10n/bundle.l10n.ko.json')) as Record<string, string>;
  const wanted = [...extensionMessages(), ...Object.values(STRINGS)];
  assert.ok(wanted.length > 150, `found ${wanted.length} texts`);
  const missing = wanted.filter((m) => !(m in ko));
  assert.deepEqual(missing, [], `missing in l10n/bundle.l10n.ko.json:\n${missing.join('\n')}`);
  for (const m of wanted) assert.deepEqual(placeholders(ko[m]!), placeholders(m), `placeholders of "${m}"`);
  const unused = Object.keys(ko).filter((k) => !wanted.includes(k));
  assert.deepEqual(unused, [], 'no stale translations');
});

test('package.nls.ko.json translates every package.nls.json key', () => {
  const en = JSON.parse(read('package.nls.json')) as Record<string, string>;
  const ko = JSON.parse(read('package.nls.ko.json')) as Record<string, string>;
  assert.deepEqual(Object.keys(en).filter((k) => !(k in ko)), []);
});
