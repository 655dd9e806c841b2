/**
 * Checkpoints in the database, so that a promotion (Hyperband, ASHA) can continue a trial that
 * ran on another machine. A checkpoint is the trial's epoch-checkpoint folder as the attempt that
 * finished left it (the engine's checkpoint.json/.safetensors, the test objective's
 * quadratic.json), stored file by file in bytea chunks of CHUNK_BYTES, each file with its size
 * and SHA-256 so that a fetched copy is checked before it is used. Upload and fetch stream one
 * chunk at a time, so memory stays at a chunk whatever the model size.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { PoolClient } from 'pg';
import type { CheckpointFile, StoredCheckpoint } from '../types';

export const CHUNK_BYTES = 4 * 1024 * 1024;

/**
 * Files of a checkpoint folder worth sharing: plain files, not hidden ones, and not the engine's
 * pooled-feature caches (`features-*.safetensors`), which the next machine recomputes.
 */
export function shareableFiles(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names.filter((n) => !n.startsWith('.') && !/^features-.*\.safetensors$/.test(n) && statSync(join(dir, n)).isFile()).sort();
}

/** Writes the folder's files as checkpoint (trial, attempt), replacing an earlier upload of that attempt. */
export async function uploadCheckpoint(c: PoolClient, studyId: number, trial: number, attempt: number, dir: string, meta: { epoch?: number; worker: string }): Promise<StoredCheckpoint> {
  await c.query('DELETE FROM trialbook_checkpoints WHERE study_id = $1 AND trial = $2 AND attempt = $3', [studyId, trial, attempt]);
  await c.query("INSERT INTO trialbook_checkpoints (study_id, trial, attempt, epoch, files, bytes, worker) VALUES ($1, $2, $3, $4, '[]', 0, $5)", [studyId, trial, attempt, meta.epoch ?? null, meta.worker]);
  const files: CheckpointFile[] = [];
  const buf = Buffer.alloc(CHUNK_BYTES);
  for (const name of shareableFiles(dir)) {
    const fh = await open(join(dir, name), 'r');
    const hash = createHash('sha256');
    let size = 0;
    try {
      for (let seq = 0; ; seq++) {
        // Fill a whole chunk (a short read is not the end of the file).
        let got = 0;
        while (got < CHUNK_BYTES) {
          const { bytesRead } = await fh.read(buf, got, CHUNK_BYTES - got, size + got);
          if (bytesRead === 0) break;
          got += bytesRead;
        }
        if (got === 0 && seq > 0) break;
        const chunk = buf.subarray(0, got);
        hash.update(chunk);
        await c.query('INSERT INTO trialbook_checkpoint_chunks (study_id, trial, attempt, file, seq, data) VALUES ($1, $2, $3, $4, $5, $6)', [studyId, trial, attempt, name, seq, chunk]);
        size += got;
        if (got < CHUNK_BYTES) break;
      }
    } finally {
      await fh.close();
    }
    files.push({ name, size, sha256: hash.digest('hex') });
  }
  const bytes = files.reduce((a, f) => a + f.size, 0);
  await c.query('UPDATE trialbook_checkpoints SET files = $4, bytes = $5 WHERE study_id = $1 AND trial = $2 AND attempt = $3', [studyId, trial, attempt, JSON.stringify(files), bytes]);
  return { trial, attempt, epoch: meta.epoch ?? null, bytes, files, worker: meta.worker };
}

interface Queryable {
  query: PoolClient['query'];
}

/** The stored checkpoint of one attempt of a trial, or undefined. */
export async function checkpointInfo(q: Queryable, studyId: number, trial: number, attempt: number): Promise<StoredCheckpoint | undefined> {
  const r = await q.query<{ epoch: number | null; bytes: string; files: CheckpointFile[]; worker: string | null }>(
    'SELECT epoch, bytes, files, worker FROM trialbook_checkpoints WHERE study_id = $1 AND trial = $2 AND attempt = $3',
    [studyId, trial, attempt],
  );
  const row = r.rows[0];
  return row ? { trial, attempt, epoch: row.epoch, bytes: Number(row.bytes), files: row.files, worker: row.worker } : undefined;
}

/**
 * Writes the checkpoint's files into `dest` (replaced whole): first into a sibling folder, each
 * file checked against its size and SHA-256, then renamed into place, so `dest` never holds a
 * partial copy. Run it inside one REPEATABLE READ transaction for a consistent snapshot.
 */
export async function downloadCheckpoint(c: PoolClient, studyId: number, info: StoredCheckpoint, dest: string): Promise<void> {
  const tmp = join(dirname(dest), `.${basename(dest)}.fetch-${process.pid}`);
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  try {
    for (const f of info.files) {
      const fh = await open(join(tmp, f.name), 'w');
      const hash = createHash('sha256');
      let size = 0;
      try {
        const chunks = Math.max(1, Math.ceil(f.size / CHUNK_BYTES));
        for (let seq = 0; seq < chunks; seq++) {
          const r = await c.query<{ data: Buffer }>('SELECT data FROM trialbook_checkpoint_chunks WHERE study_id = $1 AND trial = $2 AND attempt = $3 AND file = $4 AND seq = $5', [studyId, info.trial, info.attempt, f.name, seq]);
          const data = r.rows[0]?.data;
          if (!data) throw new Error(`chunk ${seq} of ${f.name} is missing`);
          hash.update(data);
          await fh.write(data, 0, data.length, size);
          size += data.length;
        }
        await fh.sync();
      } finally {
        await fh.close();
      }
      const sha = hash.digest('hex');
      if (size !== f.size || sha !== f.sha256) throw new Error(`${f.name} arrived damaged (${size} bytes, sha256 ${sha.slice(0, 12)}…; expected ${f.size} bytes, ${f.sha256.slice(0, 12)}…)`);
    }
    rmSync(dest, { recursive: true, force: true });
    renameSync(tmp, dest);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
}
