/**
 * One PostgreSQL query on a connection of its own, shared by the tests (postgres-cluster.ts, the
 * e2e test) and bench/postgres.bench.ts.
 */
import { Client } from 'pg';

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
