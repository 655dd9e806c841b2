import type { Command } from 'commander';
import { createTokenizer, formatLengthStats, lengths, loadVocab, parseQuoting, readTextColumn } from '../../core/tokenizer';
import { required } from './tokenize';

interface LengthsOptions {
  vocab?: string;
  input?: string;
  textCol?: string;
  quoting?: string;
  lowercase?: boolean;
  stripAccents?: boolean;
  json?: boolean;
}

/** `trialbook lengths`: token-length statistics for choosing max_seq_length. */
export function register(program: Command): void {
  program
    .command('lengths')
    .description('token-length statistics (with [CLS]/[SEP]) and the share truncated at 64/128/256/512')
    .option('--vocab <file>', 'BERT vocab.txt')
    .option('--input <file>', 'CSV/TSV file')
    .option('--text-col <name>', 'text column (default: document, else text, else the second column)')
    .option('--quoting <mode>', 'csv: quoted fields (default); none: quotes are plain text', 'csv')
    .option('--lowercase', 'lowercase before WordPiece')
    .option('--strip-accents', 'NFD + drop combining marks')
    .option('--json', 'print {"count","mean","p50","p90","p95","p99","max","truncated":{...}}')
    .action((o: LengthsOptions) => {
      const vocab = loadVocab(required(o.vocab, '--vocab'));
      const { texts } = readTextColumn(required(o.input, '--input'), { textCol: o.textCol, quoting: parseQuoting(o.quoting) });
      const st = lengths(createTokenizer(vocab, { lowercase: o.lowercase, stripAccents: o.stripAccents }), texts);
      if (o.json) process.stdout.write(JSON.stringify(st) + '\n');
      else process.stdout.write(formatLengthStats(st).join('\n') + '\n');
    });
}
