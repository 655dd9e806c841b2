/** What `trialbook split` writes and what later steps read back. */
export interface LabeledText {
  text: string;
  /** Label id: index into SplitManifest.labels. */
  label: number;
}

export interface SplitManifest {
  version: 1;
  /** sha256 of the input file's bytes + the split options: same fingerprint → same split. */
  fingerprint: string;
  input: { file: string; sha256: string; textColumn: string; labelColumn: string };
  ratios: [number, number, number];
  seed: number;
  /** Label names by id; ids are assigned in sorted order of the label strings (0/1 stay 0/1). */
  labels: string[];
  counts: { train: Record<string, number>; val: Record<string, number>; test: Record<string, number> };
  duplicatesRemoved: number;
  skippedRows: number[];
  createdAt: string;
}

export interface SplitData {
  manifest: SplitManifest;
  train: LabeledText[];
  val: LabeledText[];
  test: LabeledText[];
}
