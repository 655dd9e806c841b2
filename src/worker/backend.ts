/** The engine backend, initialised once per worker on the first job that trains or scores. */
import type { BackendInfo } from '../engine/backend';

/** What jobs and the parent learn about the runtime; `runtime` is its one-line description, `skipped` why better runtimes were not used. */
export type WorkerBackend = Pick<BackendInfo, 'name' | 'threads' | 'matmul' | 'bf16' | 'blas' | 'skipped'> & { runtime: string };

export async function initBackend(preference?: string): Promise<WorkerBackend> {
  const engine = await import('../engine');
  const { describeBackend } = await import('../engine/backend');
  const b = await engine.initBackend(preference);
  return { name: b.name, threads: b.threads, ...(b.matmul ? { matmul: b.matmul } : {}), ...(b.bf16 ? { bf16: b.bf16 } : {}), ...(b.blas ? { blas: b.blas } : {}), skipped: b.skipped, runtime: describeBackend(b) };
}
