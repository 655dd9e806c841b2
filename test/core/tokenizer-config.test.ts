/**
 * tokenizer_config.json read with Hugging Face's semantics, checked against BertTokenizer's
 * BasicTokenizer rules in test/engine/hf_reference.py (skipped without PyTorch's Python).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createTokenizer, loadVocab, readTokenizerConfig } from '../../src/core/tokenizer';
import { tempDir, userError } from '../helpers';

const PY = '/usr/bin/python3';
const pythonMissing = spawnSync(PY, ['-c', 'import torch'], { stdio: 'ignore' }).status !== 0 ? `${PY} with torch is not installed: no reference to compare with` : undefined;

function folder(t: { after: (fn: () => void) => void }, tc?: Record<string, unknown>): string {
  const dir = tempDir(t);
  if (tc) writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify(tc));
  return dir;
}

test('tokenizer_config.json flags follow Hugging Face: strip_accents follows do_lower_case unless set; defaults; the unset max length', (t) => {
  assert.deepEqual(readTokenizerConfig(folder(t, { do_lower_case: true })).flags, { lowercase: true, stripAccents: true, tokenizeChineseChars: true });
  assert.deepEqual(readTokenizerConfig(folder(t, { do_lower_case: true, strip_accents: false })).flags, { lowercase: true, stripAccents: false, tokenizeChineseChars: true });
  assert.deepEqual(readTokenizerConfig(folder(t, { do_lower_case: false, strip_accents: null })).flags, { lowercase: false, stripAccents: false, tokenizeChineseChars: true });
  assert.deepEqual(readTokenizerConfig(folder(t, { do_lower_case: false, strip_accents: true, tokenize_chinese_chars: false })).flags, { lowercase: false, stripAccents: true, tokenizeChineseChars: false });
  // BertTokenizer's own default is uncased.
  assert.equal(readTokenizerConfig(folder(t, {})).flags.lowercase, true);
  assert.equal(readTokenizerConfig(folder(t, { model_max_length: 256 })).modelMaxLength, 256);
  assert.equal(readTokenizerConfig(folder(t, { model_max_length: 1e30 })).modelMaxLength, undefined);
  const none = readTokenizerConfig(folder(t));
  assert.deepEqual(none.flags, { lowercase: false, stripAccents: false, tokenizeChineseChars: true });
  assert.match(none.source, /no tokenizer_config\.json; assumed a cased tokenizer/);
  const bad = folder(t, { do_lower_case: 'yes' });
  assert.match(userError(() => readTokenizerConfig(bad)), /tokenizer_config\.json: "do_lower_case" must be true, false or null \(got "yes"\)/);
});

const TEXTS = ['Café CRÈME brûlée!', 'Naïve résumé — ÉCOLE', '北京大学很好 漢字テスト', 'Ünïcödé 東京タワー ok', 'plain text'];

for (const tc of [{ do_lower_case: true }, { do_lower_case: true, strip_accents: false }, { do_lower_case: false, tokenize_chinese_chars: false }]) {
  test(`ids match Hugging Face's BertTokenizer for ${JSON.stringify(tc)}`, { skip: pythonMissing }, (t) => {
    const dir = folder(t, tc);
    const words = ['cafe', 'café', 'creme', 'crème', 'CRÈME', 'brulee', 'brûlée', 'naive', 'naïve', 'resume', 'résumé', 'ecole', 'école', 'ÉCOLE', 'unicode', 'ünïcödé', 'ok', 'plain', 'text', '北', '京', '大', '学', '很', '好', '漢', '字', '東', '北京大学很好', '漢字テスト', '東京タワー', 'テスト', 'タワー', '!', '—'];
    const vocabFile = join(dir, 'vocab.txt');
    writeFileSync(vocabFile, ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', ...words, ...words.map((w) => `##${w}`)].join('\n') + '\n');
    const r = spawnSync(PY, [join(__dirname, '..', 'engine', 'hf_reference.py')], { input: JSON.stringify({ op: 'tokenize', vocab: vocabFile, tokenizer_config: tc, texts: TEXTS, max_len: 32 }), encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const want = (JSON.parse(r.stdout) as { ids: number[][] }).ids;
    const tok = createTokenizer(loadVocab(vocabFile), readTokenizerConfig(dir).flags);
    TEXTS.forEach((text, i) => {
      const { ids, n } = tok.encode(text, 32);
      assert.deepEqual(ids.slice(0, n), want[i], `${JSON.stringify(text)}`);
    });
  });
}
