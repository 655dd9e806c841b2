/**
 * A private throwaway PostgreSQL cluster for one test file (scripts/pg-test-cluster.sh in its own
 * folder, on a free loopback port), so that restarting it never disturbs another test file.
 * Tests skip with a clear message when no PostgreSQL binaries are installed.
 */
import { after, before } from 'node:test';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, repoRoot } from '../helpers';
import { PostgresStore } from '../../src/store/postgres';
import { pgQuery } from './pg-util';

export const NO_POSTGRES =
  'no PostgreSQL binaries under /usr/lib/postgresql/*/bin: install them (apt-get install -y postgresql, or run bash scripts/pg-test-cluster.sh start once) to run the shared-storage tests';

export function postgresInstalled(): boolean {
  try {
    return readdirSync('/usr/lib/postgresql').some((v) => existsSync(join('/usr/lib/postgresql', v, 'bin', 'initdb')));
  } catch {
    return false;
  }
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
  const query = pgQuery;
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

export interface StoreSuite {
  /** The suite's cluster (started in its `before`). */
  readonly cluster: TestCluster;
  /** Opens a store (warnings dropped), closed when the suite ends, before the cluster stops. */
  open(url: string, name: string, opts?: Parameters<typeof PostgresStore.open>[2]): Promise<PostgresStore>;
}

/** Call inside a describe(): a private cluster for the suite and the stores its tests open. */
export function storeSuite(): StoreSuite {
  let cluster: TestCluster | undefined;
  const stores: PostgresStore[] = [];
  before(async () => {
    cluster = await startCluster();
  });
  after(async () => {
    await Promise.allSettled(stores.map((s) => s.close()));
    cluster?.stop();
  });
  return {
    get cluster() {
      return cluster!;
    },
    async open(url, name, opts = {}) {
      const s = await PostgresStore.open(url, name, { onWarning: () => undefined, ...opts });
      stores.push(s);
      return s;
    },
  };
}
