import type { Command } from 'commander';
import { writeFileAtomic } from '../../core/fsutil';
import { buildCharVocab, parseQuoting, readTextColumn } from '../../core/tokenizer';
import { intOption, required } from './tokenize';

interface VocabOptions {
  input?: string;
  textCol?: string;
  size?: string;
  out?: string;
  quoting?: string;
  lowercase?: boolean;
}

/** `trialbook vocab`: a character-level WordPiece vocab.txt from a corpus. */
export function register(program: Command): void {
  program
    .command('vocab')
    .description('build a character-level WordPiece vocab.txt (special tokens, then characters and ##characters by frequency)')
    .option('--input <file>', 'CSV/TSV corpus')
    .option('--text-col <name>', 'text column (default: document, else text, else the second column)')
    .option('--size <n>', 'maximum number of entries, special tokens included')
    .option('--out <file>', 'output vocab.txt')
    .option('--quoting <mode>', 'csv: quoted fields (default); none: quotes are plain text', 'csv')
    .option('--lowercase', 'lowercase the corpus first (for an uncased vocab)')
    .action((o: VocabOptions) => {
      const size = intOption(o.size, '--size');
      const input = required(o.input, '--input');
      const out = required(o.out, '--out');
      const { texts } = readTextColumn(input, { textCol: o.textCol, quoting: parseQuoting(o.quoting) });
      const tokens = buildCharVocab(texts, size, { lowercase: o.lowercase });
      writeFileAtomic(out, tokens.join('\n') + '\n');
      process.stderr.write(`wrote ${tokens.length} tokens to ${out}\n`);
    });
}
