/**
 * `pretrain` job: unlabelled texts → WordPiece ids → masked-LM pre-training (engine/pretrain.ts)
 * → a Hugging Face BERT folder with its MLM head and the tokenizer's flags, which a study then
 * fine-tunes as its `model`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { extname, join, resolve } from 'node:path';
import { UserError } from '../../core/errors';
import { writeFileAtomic } from '../../core/fsutil';
import { createTokenizer, loadVocab, readTextColumn, readTokenizerConfig, TOKENIZER_CONFIG, tokenizerConfigJson } from '../../core/tokenizer';
import { isPreset, PRESETS } from '../../engine/config';
import { pretrainModel, type PretrainResult } from '../../engine/pretrain';
import type { PretrainJobOptions } from '../../protocol/messages';
import type { JobContext } from '../context';

export type PretrainJobResult = PretrainResult & { texts: number; truncated: number; vocabSize: number };

/** A .txt file's non-empty lines, else a CSV/TSV file's text column. */
function readTexts(o: PretrainJobOptions): string[] {
  const file = resolve(o.input);
  if (extname(file).toLowerCase() !== '.txt') return readTextColumn(file, { textCol: o.textColumn, quoting: o.quoting }).texts;
  if (!existsSync(file)) throw new UserError(`${file}: not found`, 'E_NOT_FOUND');
  return readFileSync(file, 'utf8').split(/\r?\n/).filter((l) => l.trim() !== '');
}

export async function pretrainJob(o: PretrainJobOptions, ctx: JobContext): Promise<PretrainJobResult> {
  const fromFolder = !isPreset(o.model);
  if (fromFolder && !existsSync(resolve(o.model))) throw new UserError(`model "${o.model}": neither a preset (${Object.keys(PRESETS).join(', ')}) nor an existing folder`, 'E_NOT_FOUND');
  const vocabPath = o.vocab ? resolve(o.vocab) : fromFolder ? join(resolve(o.model), 'vocab.txt') : undefined;
  if (!vocabPath) throw new UserError(`--vocab is required to pretrain the preset "${o.model}" from scratch`, 'E_USAGE');
  if (!existsSync(vocabPath)) throw new UserError(`${vocabPath}: not found${o.vocab ? '' : '; give --vocab'}`, 'E_NOT_FOUND');
  const vocab = loadVocab(vocabPath);
  const maskId = vocab.ids.get('[MASK]');
  if (maskId === undefined) throw new UserError(`${vocabPath}: has no [MASK] token, which masked-LM pre-training needs`, 'E_VOCAB');
  ctx.progress(0, undefined, 'reading and tokenizing');
  const texts = readTexts(o);
  // Continuing a folder tokenizes as the folder says, unless told otherwise.
  let flags = { lowercase: Boolean(o.lowercase), stripAccents: Boolean(o.stripAccents) };
  if (fromFolder && o.lowercase === undefined && o.stripAccents === undefined) {
    const t = readTokenizerConfig(resolve(o.model));
    ctx.log('info', t.source);
    flags = { lowercase: t.flags.lowercase, stripAccents: t.flags.stripAccents };
  }
  const enc = createTokenizer(vocab, flags).encodeBatch(texts, o.params.max_seq_len);
  ctx.log('info', `${texts.length} texts, ${enc.truncated} cut at ${o.params.max_seq_len} tokens`);
  ctx.checkCancelled();
  await ctx.backend(o.backend);
  const special = [vocab.pad, vocab.unk, vocab.cls, vocab.sep, maskId];
  const out = resolve(o.out);
  const r = await pretrainModel(
    {
      model: fromFolder ? resolve(o.model) : o.model,
      vocabSize: vocab.size,
      texts: { maxLen: enc.maxLen, count: enc.count, ids: enc.ids, lengths: enc.lengths, labels: new Int32Array(enc.count) },
      special,
      maskId,
      params: o.params,
      saveTo: out,
      vocabPath,
      precision: o.precision,
      logEverySteps: 20,
    },
    {
      onMetric: (m) => {
        ctx.metric(m);
        if (m.val_loss != null) ctx.progress(m.epoch, o.params.epochs, `epoch ${m.epoch}/${o.params.epochs}`);
      },
      onLog: (level, text) => ctx.log(level, text),
      shouldStop: () => ctx.cancelled(),
    },
  );
  // The tokenizer's flags travel with the model, so a study tokenizes as pre-training did.
  writeFileAtomic(join(out, TOKENIZER_CONFIG), tokenizerConfigJson({ ...flags, maxLen: o.params.max_seq_len }));
  return { ...r, texts: texts.length, truncated: enc.truncated, vocabSize: vocab.size };
}
