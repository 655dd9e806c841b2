/** Exponential back-off around database work, for the connection losses a long study meets. */
import { isTransient } from './errors';

export interface RetryOptions {
  /** Give up after this long without success (ms). */
  budgetMs: number;
  /** Told about each failed try (what failed, the next delay). */
  onRetry?(error: unknown, delayMs: number, attempt: number): void;
  firstDelayMs?: number;
  maxDelayMs?: number;
  /** Which failures to retry (default: the transient ones). */
  retryIf?(error: unknown): boolean;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Runs `fn` until it succeeds, retrying only transient errors (or `retryIf`'s), with jittered doubling delays. */
export async function withRetry<T>(fn: () => Promise<T>, o: RetryOptions): Promise<T> {
  const start = Date.now();
  let delay = o.firstDelayMs ?? 100;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (e) {
      if (!(o.retryIf ?? isTransient)(e) || Date.now() - start + delay > o.budgetMs) throw e;
      const wait = Math.round(delay * (0.75 + Math.random() * 0.5));
      o.onRetry?.(e, wait, attempt);
      await sleep(wait);
      delay = Math.min(delay * 2, o.maxDelayMs ?? 5000);
    }
  }
}
