import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

/** Content fingerprint: sha256 hex of bytes or of a file's content. */
export function sha256(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}
export function fileSha256(path: string): string {
  return sha256(readFileSync(path));
}
