/**
 * Small PostgreSQL helpers shared by the tests (postgres-cluster.ts, the e2e test) and
 * bench/postgres.bench.ts: a free loopback port for a throwaway cluster, and one query on a
 * connection of its own.
 */
import { createServer } from 'node:net';
import { Client } from 'pg';

/** A TCP port free on 127.0.0.1 right now (for a throwaway cluster to listen on). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** Runs one statement on a connection opened and closed for it; its rows. */
export async function pgQuery<T extends Record<string, unknown>>(url: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query<T>(sql, params)).rows;
  } finally {
    await c.end();
  }
}
