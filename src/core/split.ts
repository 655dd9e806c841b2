/**
 * Data → split: reads a labelled table, drops bad rows (or fails on them), removes duplicate texts
 * so that no text lands in two splits, splits stratified by label with a seeded RNG and writes
 * DIR/{train,val,test}.tsv + DIR/manifest.json. The manifest is written last: a folder without
 * one holds an incomplete split. A split whose fingerprint matches is reused; a different one is
 * never overwritten without `force`.
 */
import { existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { UserError, atLine, isUserError, quotedList } from './errors';
import { sweepStaleTemps, writeFileAtomic } from './fsutil';
import { sha256 } from './hash';
import { labelIndex, normaliseLabel, numericallyEqualLabels, sortLabels } from './labels';
import { parseRatios } from './ratios';
import { Rng } from './rng';
import type { LabeledText, SplitData, SplitManifest } from './split-types';
import { studyStateDir, type LoadedStudy } from './study';
import { delimiterName, findColumn, formatTsv, normaliseDelimiter, parseTable, readDataFile, readTable, type Table } from './table';

export const SPLITS = ['train', 'val', 'test'] as const;
export type SplitName = (typeof SPLITS)[number];

export interface SplitOptions {
  /** Data file (CSV/TSV). */
  input: string;
  textColumn: string;
  labelColumn: string;
  /** Output folder. */
  out: string;
  /** "8:1:1", "0.8:0.1:0.1" or three numbers; default 8:1:1. */
  ratios?: string | readonly number[];
  /** Default 42. */
  seed?: number;
  /** Remove exact duplicate texts before splitting (default true). */
  dedupe?: boolean;
  /** Skip bad rows instead of failing (default false). */
  skipBad?: boolean;
  /** How the refusal of bad rows says to skip them: the CLI's `--skip-bad` (default), or a study file's key. */
  skipBadHint?: string;
  /** Allowed labels, in id order; rows with other labels are bad rows. Default: whatever occurs. */
  labels?: readonly string[];
  /** Force a delimiter instead of the extension / header sniffing. */
  delimiter?: string;
  /** Replace an existing split made from different inputs. */
  force?: boolean;
}

export interface SplitResult {
  manifest: SplitManifest;
  reused: boolean;
  /** Lines for a person: counts, skipped rows, duplicates, conflicts. */
  report: string[];
}


const DEFAULT_SEED = 42;
const SHOW_LINES = 10;

/** Splits `n` rows by `ratios` with largest-remainder rounding: the parts add up to n exactly. */
export function apportion(n: number, ratios: readonly number[]): number[] {
  const quotas = ratios.map((r) => Math.round(n * r * 1e9) / 1e9);
  const counts = quotas.map(Math.floor);
  let left = n - counts.reduce((a, b) => a + b, 0);
  const order = quotas.map((q, i) => ({ i, frac: q - Math.floor(q) })).sort((a, b) => b.frac - a.frac || a.i - b.i);
  for (let k = 0; left > 0; k = (k + 1) % order.length, left--) counts[order[k].i]++;
  return counts;
}

/**
 * Rows per class per split. Each class is cut by its own quota, and the rounding units are placed
 * so that the split totals also match the overall largest-remainder counts: many small classes
 * would otherwise all round into train and leave val or test empty.
 */
export function stratifiedCounts(classSizes: readonly number[], ratios: readonly number[]): number[][] {
  const total = classSizes.reduce((a, b) => a + b, 0);
  const target = apportion(total, ratios);
  const quotas = classSizes.map((n) => ratios.map((r) => Math.round(n * r * 1e9) / 1e9));
  const counts = quotas.map((q) => q.map(Math.floor));
  const deficit = target.map((t, s) => t - counts.reduce((a, c) => a + c[s], 0));
  const left = classSizes.map((n, c) => n - counts[c].reduce((a, b) => a + b, 0));
  const cells: Array<{ c: number; s: number; frac: number }> = [];
  quotas.forEach((q, c) => q.forEach((x, s) => cells.push({ c, s, frac: x - Math.floor(x) })));
  cells.sort((a, b) => b.frac - a.frac || a.c - b.c || a.s - b.s);
  // First pass: at most one unit per cell, largest remainders first (per-class error < 1).
  // Later passes only run when split totals force a class off its nearest rounding.
  let pending = left.reduce((a, b) => a + b, 0);
  while (pending > 0) {
    for (const { c, s } of cells) {
      if (left[c] > 0 && deficit[s] > 0) {
        counts[c][s]++;
        left[c]--;
        deficit[s]--;
        pending--;
      }
    }
  }
  return counts;
}

interface Resolved {
  input: string;
  out: string;
  textColumn: string;
  labelColumn: string;
  ratios: [number, number, number];
  seed: number;
  dedupe: boolean;
  skipBad: boolean;
  skipBadHint: string;
  labels: string[] | null;
  delimiter?: string;
}

function resolveOptions(o: SplitOptions): Resolved {
  const seed = o.seed ?? DEFAULT_SEED;
  if (!Number.isSafeInteger(seed)) throw new UserError(`seed: ${o.seed} is not an integer`, 'E_USAGE');
  if (!o.textColumn) throw new UserError('text column: a column name is required', 'E_USAGE');
  if (!o.labelColumn) throw new UserError('label column: a column name is required', 'E_USAGE');
  if (o.textColumn === o.labelColumn) {
    throw new UserError(`text column and label column are both ${JSON.stringify(o.textColumn)}; they must differ`, 'E_USAGE');
  }
  let labels: string[] | null = null;
  if (o.labels && o.labels.length > 0) {
    labels = o.labels.map(normaliseLabel);
    if (labels.some((l) => l === '')) throw new UserError('labels: an empty label name is not allowed', 'E_USAGE');
    if (new Set(labels).size !== labels.length) throw new UserError(`labels: ${labels.join(',')} lists a label twice`, 'E_USAGE');
    if (labels.length < 2) throw new UserError(`labels: ${labels.join(',')}: a classifier needs at least two labels`, 'E_USAGE');
  }
  return {
    input: o.input,
    out: o.out,
    textColumn: o.textColumn,
    labelColumn: o.labelColumn,
    ratios: parseRatios(o.ratios),
    seed,
    dedupe: o.dedupe ?? true,
    skipBad: o.skipBad ?? false,
    skipBadHint: o.skipBadHint ?? '--skip-bad',
    labels,
    delimiter: o.delimiter === undefined ? undefined : normaliseDelimiter(o.delimiter),
  };
}

function fingerprintOf(r: Resolved, inputSha: string): string {
  return sha256(
    JSON.stringify({
      v: 1,
      input: inputSha,
      text: r.textColumn,
      label: r.labelColumn,
      ratios: r.ratios,
      seed: r.seed,
      dedupe: r.dedupe,
      skipBad: r.skipBad,
      labels: r.labels,
      delimiter: r.delimiter ?? null,
    }),
  );
}

/** Splits a data file, or reuses the split already in `out` when nothing changed. */
export function splitDataset(opts: SplitOptions): SplitResult {
  const r = resolveOptions(opts);
  if (existsSync(r.out) && !statSync(r.out).isDirectory()) {
    throw new UserError(`${r.out}: exists and is not a folder; the split output must be a folder`, 'E_IO');
  }
  // What a killed split left behind goes, whether this run reuses the split or rewrites it.
  if (existsSync(r.out)) sweepStaleTemps(r.out);
  // Fingerprint first (hashing is fast): an unchanged split is reused without parsing.
  const bytes = readDataFile(r.input);
  const inputSha = sha256(bytes);
  const fingerprint = fingerprintOf(r, inputSha);
  const existing = checkExisting(r, fingerprint, inputSha, opts.force ?? false);
  if (existing.reused) return existing.reused;
  const table = parseTable(r.input, bytes, { delimiter: r.delimiter });

  const report: string[] = [];
  const data = collectRows(table, r, report);
  const parts = stratify(data.rows, data.labels.length, r.ratios, r.seed);
  const totals = parts.map((p) => p.length);
  SPLITS.forEach((name, s) => {
    if (totals[s] === 0) {
      throw new UserError(
        `${r.input}: ratios ${fmtRatios(r.ratios)} leave the ${name} split empty for ${data.rows.length} usable rows ` +
          `(train ${totals[0]}, val ${totals[1]}, test ${totals[2]}); use more rows or a larger ${name} ratio`,
        'E_DATA',
      );
    }
  });

  const files = {} as Record<SplitName, { rows: number; sha256: string }>;
  const docs = SPLITS.map((name, s) => {
    const doc = formatTsv(['text', 'label'], parts[s].map((i) => [data.rows[i].text, data.labels[data.rows[i].label]]));
    files[name] = { rows: parts[s].length, sha256: sha256(doc) };
    return doc;
  });
  const counts = { train: {}, val: {}, test: {} } as SplitManifest['counts'];
  SPLITS.forEach((name, s) => {
    for (const l of data.labels) counts[name][l] = 0;
    for (const i of parts[s]) counts[name][data.labels[data.rows[i].label]]++;
  });
  const manifest: SplitManifest = {
    version: 1,
    fingerprint,
    input: { file: resolve(r.input), sha256: table.sha256, textColumn: r.textColumn, labelColumn: r.labelColumn },
    ratios: r.ratios,
    seed: r.seed,
    labels: data.labels,
    counts,
    duplicatesRemoved: data.duplicatesRemoved,
    skippedRows: data.skippedLines,
    createdAt: new Date().toISOString(),
    options: { dedupe: r.dedupe, skipBad: r.skipBad, labels: r.labels },
    delimiter: delimiterName(table.delimiter),
    rows: {
      read: table.records.length,
      bad: data.skippedLines.length,
      duplicates: data.duplicatesRemoved,
      conflicting: data.conflictingRowsRemoved,
      used: data.rows.length,
    },
    conflictingTexts: data.conflictingTexts,
    files,
  };

  writeSplitFiles(r.out, docs, JSON.stringify(manifest, null, 2) + '\n', existing.replacing ?? false);

  if (existing.note) report.unshift(existing.note);
  report.push(...countsTable(manifest), `wrote ${r.out} (train.tsv, val.tsv, test.tsv, manifest.json)`);
  return { manifest, reused: false, report };
}

/**
 * Writes the three splits, then the manifest. The old manifest goes first, so an interrupted
 * rewrite leaves a folder marked incomplete; if a write fails, what this run wrote is removed.
 */
function writeSplitFiles(out: string, docs: string[], manifestJson: string, replacing: boolean): void {
  const createdDir = !existsSync(out);
  const written: string[] = [];
  try {
    if (replacing) rmSync(join(out, 'manifest.json'), { force: true });
    const files = [...SPLITS.map((name) => join(out, `${name}.tsv`)), join(out, 'manifest.json')];
    files.forEach((p, i) => {
      try {
        writeFileAtomic(p, i < docs.length ? docs[i] : manifestJson);
      } catch (e) {
        if (isUserError(e)) throw e;
        throw new UserError(`${p}: cannot write (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); no split was written`, 'E_IO');
      }
      written.push(p);
    });
  } catch (e) {
    // Best effort: the write's own error is the one to report, not a failed clean-up.
    try {
      for (const p of written) rmSync(p, { force: true });
      if (createdDir) rmSync(out, { recursive: true, force: true });
    } catch {}
    throw e;
  }
}

/** `splitDataset` with the data section of a study file; option errors name the study file. */
export function splitFromStudy(loaded: LoadedStudy, opts: { force?: boolean } = {}): SplitResult {
  const d = loaded.study.data;
  try {
    return splitDataset({
      input: loaded.resolve(d.file),
      textColumn: d.textColumn,
      labelColumn: d.labelColumn,
      ratios: d.ratios,
      seed: d.seed,
      dedupe: d.dedupe,
      skipBad: d.skipBadRows,
      skipBadHint: `"skipBadRows": true in ${loaded.file}'s "data"`,
      out: studySplitDir(loaded),
      force: opts.force,
    });
  } catch (e) {
    if (isUserError(e) && e.code === 'E_USAGE') {
      const msg = e.message.replace(/^(ratios|seed):/, 'data.$1:').replace(/^text column and label column/, 'data.textColumn and data.labelColumn');
      throw new UserError(`${loaded.file}: ${msg}`, 'E_STUDY');
    }
    throw e;
  }
}

/** Where a study's split lives: data.splitDir, or `.trialbook/<name>/split` beside the study file. */
export function studySplitDir(loaded: LoadedStudy): string {
  const d = loaded.study.data;
  return d.splitDir ? loaded.resolve(d.splitDir) : join(studyStateDir(loaded), 'split');
}

// ---------------------------------------------------------------------------------------------
// Existing split: reuse, refuse or replace.

interface Existing {
  reused?: SplitResult;
  /** An old manifest is about to be replaced (force). */
  replacing?: boolean;
  note?: string;
}

function checkExisting(r: Resolved, fingerprint: string, inputSha: string, force: boolean): Existing {
  const manifestPath = join(r.out, 'manifest.json');
  if (!existsSync(manifestPath)) {
    const partial = SPLITS.some((s) => existsSync(join(r.out, `${s}.tsv`)));
    return partial ? { note: `replacing an incomplete split in ${r.out} (it had no manifest.json)` } : {};
  }
  let old: SplitManifest | undefined;
  try {
    old = JSON.parse(readFileSync(manifestPath, 'utf8')) as SplitManifest;
  } catch {
    old = undefined;
  }
  if (old && old.fingerprint === fingerprint) {
    const changed = changedFiles(r.out, old);
    if (changed.length === 0) {
      return { reused: { manifest: old, reused: true, report: [`reused cached split in ${r.out} (inputs unchanged)`, ...countsTable(old)] } };
    }
    if (!force) {
      throw new UserError(
        `${r.out}: ${changed.join(', ')} changed after the split was made (${changed.length > 1 ? 'they no longer match' : 'it no longer matches'} manifest.json); ` +
          'nothing was changed; use --force to recreate the split',
        'E_SPLIT_CHANGED',
      );
    }
    return { replacing: true, note: `recreating the split in ${r.out} (--force): ${changed.join(', ')} had been changed` };
  }
  const what = old ? describeChanges(old, r, inputSha) : 'its manifest.json is unreadable';
  if (!force) {
    throw new UserError(
      `${r.out}: already holds a split made from different inputs (${what}); nothing was changed. ` +
        'Use --force to replace it, or choose another output folder',
      'E_SPLIT_EXISTS',
    );
  }
  return { replacing: true, note: `replacing the split in ${r.out} (--force): ${what}` };
}

function changedFiles(dir: string, m: SplitManifest): string[] {
  const out: string[] = [];
  for (const s of SPLITS) {
    const p = join(dir, `${s}.tsv`);
    if (!existsSync(p)) out.push(`${s}.tsv (missing)`);
    else if (m.files && sha256(readFileSync(p)) !== m.files[s]?.sha256) out.push(`${s}.tsv`);
  }
  return out;
}

function describeChanges(old: SplitManifest, r: Resolved, inputSha: string): string {
  const c: string[] = [];
  if (old.input?.sha256 !== inputSha) {
    c.push(old.input?.file && resolve(old.input.file) !== resolve(r.input) ? `input file ${old.input.file} → ${resolve(r.input)}` : `input content changed (${r.input})`);
  }
  if (old.input?.textColumn !== r.textColumn) c.push(`text column ${JSON.stringify(old.input?.textColumn)} → ${JSON.stringify(r.textColumn)}`);
  if (old.input?.labelColumn !== r.labelColumn) c.push(`label column ${JSON.stringify(old.input?.labelColumn)} → ${JSON.stringify(r.labelColumn)}`);
  if (!old.ratios || fmtRatios(old.ratios) !== fmtRatios(r.ratios)) c.push(`ratios ${old.ratios ? fmtRatios(old.ratios) : '?'} → ${fmtRatios(r.ratios)}`);
  if (old.seed !== r.seed) c.push(`seed ${old.seed} → ${r.seed}`);
  const o = old.options;
  if (o && o.dedupe !== r.dedupe) c.push(r.dedupe ? 'duplicates now removed' : 'duplicates now kept (--keep-duplicates)');
  if (o && o.skipBad !== r.skipBad) c.push(r.skipBad ? 'bad rows now skipped (--skip-bad)' : 'bad rows no longer skipped');
  if (o && JSON.stringify(o.labels) !== JSON.stringify(r.labels)) c.push(`label set ${o.labels?.join(',') ?? '(any)'} → ${r.labels?.join(',') ?? '(any)'}`);
  return c.length ? c.join('; ') : 'split options changed';
}

// ---------------------------------------------------------------------------------------------
// Rows: validation, labels, duplicates.

interface Row {
  text: string;
  label: number;
  line: number;
}

interface Collected {
  rows: Row[];
  labels: string[];
  skippedLines: number[];
  duplicatesRemoved: number;
  conflictingTexts: number;
  conflictingRowsRemoved: number;
}

function collectRows(table: Table, r: Resolved, report: string[]): Collected {
  const textCol = findColumn(table, r.textColumn, 'text column');
  const labelCol = findColumn(table, r.labelColumn, 'label column');
  const width = table.header.length;
  const allowed = r.labels ? new Set(r.labels) : null;
  const bad: Array<{ line: number; reason: string }> = [];
  const good: Array<{ text: string; label: string; line: number }> = [];
  for (const rec of table.records) {
    const f = rec.fields;
    let reason: string | undefined;
    if (f.length !== width) reason = `expected ${width} fields (as in the header), found ${f.length}`;
    else if (f[textCol].trim() === '') reason = `empty text in column ${JSON.stringify(table.header[textCol])}`;
    else if (normaliseLabel(f[labelCol]) === '') reason = `missing label in column ${JSON.stringify(table.header[labelCol])}`;
    else if (allowed && !allowed.has(normaliseLabel(f[labelCol]))) {
      reason = `unknown label ${JSON.stringify(normaliseLabel(f[labelCol]))} in column ${JSON.stringify(table.header[labelCol])} (allowed: ${r.labels!.join(', ')})`;
    }
    if (reason) bad.push({ line: rec.line, reason });
    else good.push({ text: f[textCol], label: normaliseLabel(f[labelCol]), line: rec.line });
  }
  if (bad.length > 0 && !r.skipBad) {
    const more = bad.length > 1 ? ` (${bad.length} bad rows in all, at lines ${listLines(bad.map((b) => b.line))})` : '';
    throw atLine(table.file, bad[0].line, `${bad[0].reason}${more}; fix the file or skip bad rows (${r.skipBadHint})`);
  }
  report.push(`read ${table.file}: ${table.records.length} rows, ${delimiterName(table.delimiter)}-separated`);
  if (bad.length > 0) {
    report.push(`skipped ${bad.length} bad row${bad.length > 1 ? 's at lines' : ' at line'} ${listLines(bad.map((b) => b.line))}`);
    for (const b of bad.slice(0, 3)) report.push(`  line ${b.line}: ${b.reason}`);
  }

  // Group by exact text: duplicates with one label collapse to the first row; texts seen with
  // different labels are contradictory and, when deduplicating, dropped entirely.
  const groups = new Map<string, number[]>();
  good.forEach((g, i) => {
    const list = groups.get(g.text);
    if (list) list.push(i);
    else groups.set(g.text, [i]);
  });
  const keep = new Uint8Array(good.length);
  let duplicates = 0;
  let duplicateTexts = 0;
  let conflictTexts = 0;
  let conflictRows = 0;
  const dupExamples: number[] = [];
  const conflictLines: number[] = [];
  for (const list of groups.values()) {
    const conflicting = list.some((i) => good[i].label !== good[list[0]].label);
    if (list.length > 1 && !conflicting) {
      duplicateTexts++;
      if (dupExamples.length < SHOW_LINES) dupExamples.push(good[list[0]].line, good[list[1]].line);
    }
    if (conflicting) {
      conflictTexts++;
      conflictRows += list.length;
      if (conflictLines.length < SHOW_LINES) conflictLines.push(...list.slice(0, 2).map((i) => good[i].line));
      if (!r.dedupe) for (const i of list) keep[i] = 1;
    } else if (r.dedupe) {
      keep[list[0]] = 1;
      duplicates += list.length - 1;
    } else {
      for (const i of list) keep[i] = 1;
    }
  }
  const repeatedRows = good.length - groups.size - (conflictRows - conflictTexts);
  if (repeatedRows > 0) {
    const where = `e.g. lines ${pairs(dupExamples)}`;
    report.push(
      r.dedupe
        ? `duplicates: ${duplicates} repeated row${duplicates === 1 ? '' : 's'} of the same text and label removed, the first occurrence kept (${duplicateTexts} texts repeated, ${where})`
        : `duplicates: ${repeatedRows} repeated rows kept (--keep-duplicates): the same text may appear in more than one split (${where})`,
    );
  }
  if (conflictTexts > 0) {
    report.push(
      `conflicting labels: ${conflictTexts} text${conflictTexts === 1 ? '' : 's'} appear with different labels (lines ${pairs(conflictLines)})` +
        (r.dedupe ? `; all ${conflictRows} such rows dropped` : '; kept (--keep-duplicates)'),
    );
  }

  const kept = good.filter((_, i) => keep[i] === 1);
  const labels = r.labels ?? sortLabels(kept.map((g) => g.label));
  const present = new Set(kept.map((g) => g.label));
  if (present.size < 2) {
    const column = JSON.stringify(table.header[labelCol]);
    if (kept.length === 0) {
      const why = conflictRows > 0
        ? `all ${conflictRows} rows with a text and a label were dropped because their texts appear with different labels (e.g. lines ${pairs(conflictLines)}); fix the labels, or keep such rows with --keep-duplicates`
        : `every row was skipped as bad`;
      throw new UserError(`${table.file}: no usable rows in label column ${column}: ${why}`, 'E_DATA');
    }
    const only = [...present].map((l) => JSON.stringify(l)).join('');
    throw new UserError(`${table.file}: label column ${column} has only one label, ${only}, in ${kept.length} usable rows; a classifier needs at least two`, 'E_DATA');
  }
  for (const group of numericallyEqualLabels(labels)) {
    report.push(`warning: labels ${group.map((l) => JSON.stringify(l)).join(' and ')} are the same number written differently, so they are ${group.length} separate classes; write them alike if they are one class`);
  }
  const index = labelIndex(labels);
  const rows = kept.map((g) => ({ text: g.text, label: index.get(g.label)!, line: g.line }));
  report.push(`labels: ${labels.map((l, i) => `${i}=${l}`).join(', ')}; ${rows.length} rows used`);
  return {
    rows,
    labels,
    skippedLines: bad.map((b) => b.line),
    duplicatesRemoved: r.dedupe ? duplicates : 0,
    conflictingTexts: conflictTexts,
    conflictingRowsRemoved: r.dedupe ? conflictRows : 0,
  };
}

/** Row indices per split: each class shuffled with the seeded RNG, cut by the ratios; input order kept within a split. */
function stratify(rows: Row[], numLabels: number, ratios: readonly number[], seed: number): number[][] {
  const byClass: number[][] = Array.from({ length: numLabels }, () => []);
  rows.forEach((row, i) => byClass[row.label].push(i));
  const rng = new Rng(seed);
  const counts = stratifiedCounts(byClass.map((m) => m.length), ratios);
  const parts: number[][] = [[], [], []];
  byClass.forEach((members, c) => {
    rng.shuffle(members);
    const [nTrain, nVal] = counts[c];
    members.forEach((i, k) => parts[k < nTrain ? 0 : k < nTrain + nVal ? 1 : 2].push(i));
  });
  for (const p of parts) p.sort((a, b) => a - b);
  return parts;
}

// ---------------------------------------------------------------------------------------------
// Reading a split back.

/** Reads DIR/{train,val,test}.tsv with label ids from DIR/manifest.json. */
export function readSplit(dir: string): SplitData {
  const manifestPath = join(dir, 'manifest.json');
  if (!existsSync(manifestPath)) {
    throw new UserError(`${dir}: no manifest.json, so no complete split is there; run trialbook split first`, 'E_NOT_FOUND');
  }
  let manifest: SplitManifest;
  try {
    manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as SplitManifest;
  } catch (e) {
    throw new UserError(`${manifestPath}: not valid JSON (${(e as Error).message}); re-create the split with --force`, 'E_DATA');
  }
  if (manifest.version !== 1 || !Array.isArray(manifest.labels)) {
    throw new UserError(`${manifestPath}: not a split manifest this version of Trialbook reads (version ${manifest.version})`, 'E_DATA');
  }
  const index = labelIndex(manifest.labels);
  const read = (name: SplitName): LabeledText[] => {
    const file = join(dir, `${name}.tsv`);
    const table = readTable(file, { delimiter: '\t' });
    if (table.header.length !== 2 || table.header[0] !== 'text' || table.header[1] !== 'label') {
      throw atLine(file, 1, `expected the header "text<TAB>label", found ${quotedList(table.header)}`);
    }
    const out: LabeledText[] = new Array(table.records.length);
    table.records.forEach((rec, i) => {
      if (rec.fields.length !== 2) throw atLine(file, rec.line, `expected 2 fields, found ${rec.fields.length}`);
      const id = index.get(rec.fields[1]);
      if (id === undefined) throw atLine(file, rec.line, `label ${JSON.stringify(rec.fields[1])} is not among the manifest's labels (${manifest.labels.join(', ')})`);
      out[i] = { text: rec.fields[0], label: id };
    });
    const expected = Object.values(manifest.counts[name] ?? {}).reduce((a, b) => a + b, 0);
    if (out.length !== expected) {
      throw new UserError(`${file}: ${out.length} rows but manifest.json says ${expected}; the split was changed by hand, re-create it with --force`, 'E_DATA');
    }
    return out;
  };
  return { manifest, train: read('train'), val: read('val'), test: read('test') };
}

// ---------------------------------------------------------------------------------------------
// Report helpers.

function fmtRatios(r: readonly number[]): string {
  return r.map((x) => +x.toFixed(6)).join(':');
}

function listLines(lines: number[]): string {
  return lines.length <= SHOW_LINES ? lines.join(', ') : `${lines.slice(0, SHOW_LINES).join(', ')}, … (${lines.length - SHOW_LINES} more)`;
}

function pairs(lines: number[]): string {
  const out: string[] = [];
  for (let i = 0; i + 1 < lines.length && out.length < 3; i += 2) out.push(`${lines[i]} & ${lines[i + 1]}`);
  return out.join(', ');
}

/** Counts per class per split as aligned text rows. */
export function countsTable(m: SplitManifest): string[] {
  const rows = [['label', 'train', 'val', 'test', 'total']];
  const tot = [0, 0, 0];
  for (const l of m.labels) {
    const c = SPLITS.map((s) => m.counts[s]?.[l] ?? 0);
    c.forEach((v, i) => (tot[i] += v));
    rows.push([l, ...c.map(String), String(c[0] + c[1] + c[2])]);
  }
  rows.push(['total', ...tot.map(String), String(tot[0] + tot[1] + tot[2])]);
  const w = rows[0].map((_, j) => Math.max(...rows.map((r) => r[j].length)));
  return [
    `split: seed ${m.seed}, ratios ${fmtRatios(m.ratios)}`,
    ...rows.map((r) => '  ' + r.map((c, j) => (j === 0 ? c.padEnd(w[j]) : c.padStart(w[j]))).join('  ')),
  ];
}
