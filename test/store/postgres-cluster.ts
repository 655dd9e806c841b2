/**
 * A private throwaway PostgreSQL cluster for one test file (scripts/pg-test-cluster.sh in its own
 * folder, on a free loopback port), so that restarting it never disturbs another test file.
 * Tests skip with a clear message when no PostgreSQL binaries are installed.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { repoRoot } from '../helpers';

export const NO_POSTGRES =
  'no PostgreSQL binaries under /usr/lib/postgresql/*/bin: install them (apt-get install -y postgresql, or run bash scripts/pg-test-cluster.sh start once) to run the shared-storage tests';

export function postgresInstalled(): boolean {
  try {
    return readdirSync('/usr/lib/postgresql').some((v) => existsSync(join('/usr/lib/postgresql', v, 'bin', 'initdb')));
  } catch {
    return false;
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export interface TestCluster {
  /** URL of the cluster's `trialbook` database. */
  url: string;
  /** A fresh empty database on the cluster (its URL). */
  freshDatabase(): Promise<string>;
  restart(): void;
  stop(): void;
  query<T extends Record<string, unknown>>(url: string, sql: string, params?: unknown[]): Promise<T[]>;
}

const script = join(repoRoot, 'scripts', 'pg-test-cluster.sh');

export async function startCluster(): Promise<TestCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'tb-pg-'));
  rmSync(dir, { recursive: true, force: true }); // the script creates it, owned by the server's user
  const env = { ...process.env, TRIALBOOK_PG_TEST_DIR: dir, TRIALBOOK_PG_TEST_PORT: String(await freePort()) };
  const url = execFileSync('bash', [script, 'start'], { env, encoding: 'utf8' }).trim().split('\n').pop()!;
  let n = 0;
  const query = async <T extends Record<string, unknown>>(u: string, sql: string, params: unknown[] = []): Promise<T[]> => {
    const c = new Client({ connectionString: u });
    await c.connect();
    try {
      return (await c.query<T>(sql, params)).rows;
    } finally {
      await c.end();
    }
  };
  return {
    url,
    async freshDatabase() {
      const name = `tb_test_${process.pid}_${++n}`;
      await query(url, `CREATE DATABASE ${name}`);
      const u = new URL(url);
      u.pathname = `/${name}`;
      return u.toString();
    },
    restart: () => void execFileSync('bash', [script, 'restart'], { env, stdio: 'ignore' }),
    stop: () => void execFileSync('bash', [script, 'stop'], { env, stdio: 'ignore' }),
    query,
  };
}
