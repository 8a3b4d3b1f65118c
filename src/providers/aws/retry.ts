// Bounded retries with exponential backoff and full jitter, for errors the classifier calls retryable.
// Everything else is thrown at once: capacity goes to failover, the rest to the caller (and Temporal).
import { classifyEc2Error, type Ec2ErrorKind } from './errors';

export interface RetryDeps {
  /** Sleeps, or rejects once the signal aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  /** A number in [0, 1): the jitter source. */
  random(): number;
}

export interface RetryPolicy {
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** Which error kinds are retried. */
  retryOn: readonly Ec2ErrorKind[];
}

/** API throttling and 5xx: about a minute in all before the error reaches the activity's own retry. */
export const API_RETRY: RetryPolicy = { maxAttempts: 6, baseDelayMs: 500, maxDelayMs: 20_000, retryOn: ['retryable'] };

export function backoffDelayMs(attempt: number, policy: RetryPolicy, random: () => number): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt);
  return Math.floor(random() * ceiling);
}

export async function withRetry<T>(
  operation: () => Promise<T>,
  policy: RetryPolicy,
  deps: RetryDeps,
  signal?: AbortSignal,
): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    signal?.throwIfAborted();
    try {
      return await operation();
    } catch (error) {
      signal?.throwIfAborted(); // an aborted request fails like a dropped connection: never retry it
      const retryable = policy.retryOn.includes(classifyEc2Error(error));
      if (!retryable || attempt >= policy.maxAttempts) throw error;
      await deps.sleep(backoffDelayMs(attempt, policy, deps.random), signal);
    }
  }
}
