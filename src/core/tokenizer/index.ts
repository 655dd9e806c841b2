/** The tokenizer: BERT BasicTokenizer + WordPiece with identical ids, lengths, vocab building, encoded cache. */
export { loadVocab, parseVocab, SPECIAL_TOKENS, type Vocab } from './vocab';
export { basicTokenize, classify, CharClass, type BasicOptions } from './basic';
export { WordPieceTokenizer, MAX_INPUT_CHARS_PER_WORD, type WordPieceOptions } from './wordpiece';
export { Tokenizer, createTokenizer, checkMaxLen, toHuggingFaceTokenizerJson, MIN_MAX_LEN, MAX_MAX_LEN, type EncodedTexts } from './encode';
export { lengths, lengthStats, tokenLengths, lengthHistogram, formatLengthStats, TRUNCATION_POINTS, type LengthStats, type Histogram } from './lengths';
export { buildCharVocab, VOCAB_SPECIALS } from './build-vocab';
export { loadEncodedDataset, type LoadEncodedOptions } from './cache';
export { readTextColumn, parseQuoting, defaultTextColumn, type Quoting, type TextColumn } from './texts';
export { encodedToJsonl } from './jsonl';
export { readTokenizerConfig, tokenizerConfigJson, TOKENIZER_CONFIG, type ModelTokenizer } from './tokenizer-config';
