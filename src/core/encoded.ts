/**
 * A tokenized split in the compact form the engine trains on: row-major ids, one row per
 * example, each row `maxLen` long ([CLS] … [SEP] then [PAD]=0).
 */
export interface EncodedSplit {
  maxLen: number;
  count: number;
  /** count × maxLen token ids. */
  ids: Int32Array;
  /** Non-pad tokens per row (includes [CLS] and [SEP]). */
  lengths: Uint16Array;
  /** Label id per row (index into the label map). */
  labels: Int32Array;
}

/** The three splits plus what they were made from. */
export interface EncodedDataset {
  train: EncodedSplit;
  val: EncodedSplit;
  test: EncodedSplit;
  /** Label names by id. */
  labels: string[];
  vocabSize: number;
  /** Cache key parts: split fingerprint, vocab hash, max_len. */
  key: { split: string; vocab: string; maxLen: number };
}
