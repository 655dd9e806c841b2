import type { Command } from 'commander';
import { UserError } from '../../core/errors';
import { assertOutputFile, writeFileAtomic } from '../../core/fsutil';
import { checkMaxLen, createTokenizer, encodedToJsonl, loadVocab, parseQuoting, readTextColumn } from '../../core/tokenizer';

interface TokenizeOptions {
  vocab?: string;
  input?: string;
  textCol?: string;
  maxLen?: string;
  out?: string;
  quoting?: string;
  lowercase?: boolean;
  stripAccents?: boolean;
}

/** Whole-number option value, or a UserError naming the option. */
export function intOption(value: string | undefined, name: string): number {
  if (value === undefined) throw new UserError(`${name} is required`, 'E_USAGE');
  if (!/^-?\d+$/.test(value.trim())) throw new UserError(`${name}: ${JSON.stringify(value)} is not a whole number`, 'E_USAGE');
  return Number(value);
}

export function required(value: string | undefined, name: string): string {
  if (value === undefined || value === '') throw new UserError(`${name} is required`, 'E_USAGE');
  return value;
}

/** `trialbook tokenize`: BERT WordPiece ids of every row, as JSONL. */
export function register(program: Command): void {
  program
    .command('tokenize')
    .description('tokenize a CSV/TSV text column with a BERT vocab.txt into JSONL ({"i","ids","n"} per row)')
    .option('--vocab <file>', 'BERT vocab.txt (one token per line)')
    .option('--input <file>', 'CSV/TSV file')
    .option('--text-col <name>', 'text column (default: document, else text, else the second column)')
    .option('--max-len <n>', 'sequence length with [CLS] and [SEP] (3-512)')
    .option('--out <file>', 'output JSONL file')
    .option('--quoting <mode>', 'csv: quoted fields (default); none: quotes are plain text (NSMC-style TSV)', 'csv')
    .option('--lowercase', 'lowercase before WordPiece (uncased vocabs)')
    .option('--strip-accents', 'NFD + drop combining marks (uncased vocabs; splits Hangul into jamo)')
    .action((o: TokenizeOptions) => {
      const vocabPath = required(o.vocab, '--vocab');
      const input = required(o.input, '--input');
      const out = required(o.out, '--out');
      assertOutputFile(out, '--out');
      const maxLen = checkMaxLen(intOption(o.maxLen, '--max-len'), '--max-len');
      const quoting = parseQuoting(o.quoting);
      const vocab = loadVocab(vocabPath);
      const { texts } = readTextColumn(input, { textCol: o.textCol, quoting });
      const tok = createTokenizer(vocab, { lowercase: o.lowercase, stripAccents: o.stripAccents });
      const enc = tok.encodeBatch(texts, maxLen);
      writeFileAtomic(out, encodedToJsonl(enc, vocab.pad));
      process.stderr.write(`tokenized ${enc.count} rows (max_len ${maxLen}; ${enc.truncated} truncated) → ${out}\n`);
    });
}
