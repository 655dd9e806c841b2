/** The engine backend, initialised once per worker on the first job that trains or scores. */
export async function initBackend(_preference?: string): Promise<{ name: string; threads: number }> {
  throw new Error('the training engine is not available in this build');
}
