import { createHash } from 'node:crypto';

/** Content fingerprint: sha256 hex of bytes. */
export function sha256(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}
