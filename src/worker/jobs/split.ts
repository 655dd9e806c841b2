/** `split` job: the study's data file → train/val/test in the study's state folder (reused when unchanged). */
import { splitFromStudy, studySplitDir } from '../../core/split';
import { loadStudy } from '../../core/study';
import type { SplitManifest } from '../../core/split-types';
import type { SplitJobOptions } from '../../protocol/messages';
import type { JobContext } from '../context';

export interface SplitJobResult {
  dir: string;
  reused: boolean;
  labels: string[];
  counts: SplitManifest['counts'];
  fingerprint: string;
  /** Lines for a person: counts, skipped rows, duplicates. */
  report: string[];
}

export async function splitJob(o: SplitJobOptions, ctx: JobContext): Promise<SplitJobResult> {
  const loaded = loadStudy(o.study);
  ctx.progress(0, undefined, `splitting ${loaded.study.data.file}`);
  const r = splitFromStudy(loaded, { force: o.force });
  for (const line of r.report) ctx.log('info', line);
  const m = r.manifest;
  return { dir: studySplitDir(loaded), reused: r.reused, labels: m.labels, counts: m.counts, fingerprint: m.fingerprint, report: r.report };
}
