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
  /** Physical line numbers of the bad rows that were skipped (--skip-bad). */
  skippedRows: number[];
  createdAt: string;
  /** Options that shaped the split (also part of the fingerprint). */
  options?: { dedupe: boolean; skipBad: boolean; labels: string[] | null };
  /** Delimiter the input was read with: tab, comma or semicolon. */
  delimiter?: string;
  /** Row accounting: read = used + bad + duplicates + conflicting. */
  rows?: { read: number; bad: number; duplicates: number; conflicting: number; used: number };
  /** Distinct texts seen with more than one label (dropped when deduplicating). */
  conflictingTexts?: number;
  /** Rows and sha256 of each written split file, to notice hand edits before reuse. */
  files?: Record<'train' | 'val' | 'test', { rows: number; sha256: string }>;
}

export interface SplitData {
  manifest: SplitManifest;
  train: LabeledText[];
  val: LabeledText[];
  test: LabeledText[];
}
