/** The engine backend, initialised once per worker on the first job that trains or scores. */
export async function initBackend(preference?: string): Promise<{ name: string; threads: number; matmul?: string }> {
  const engine = await import('../engine');
  const b = await engine.initBackend(preference);
  return { name: b.name, threads: b.threads, ...(b.matmul ? { matmul: b.matmul } : {}) };
}
