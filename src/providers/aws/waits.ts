// How long tuneforge waits for EC2 state changes, and the one adapter around the SDK's waiters.
// The wait for running is sized by instance family: src/cluster/boot-times.ts.
import type { AwsContext } from './context';
export const INSTANCE_TERMINATED_MAX_WAIT_S = 15 * 60;
/** Imaging a 100 GiB root volume can take tens of minutes. */
export const IMAGE_AVAILABLE_MAX_WAIT_S = 90 * 60;

/**
 * Runs an SDK waiter and says whether it reached its success state. The waiters fold every other
 * outcome (a failure state, the timeout, API errors) into one untyped Error, so callers do not use
 * it: on false they re-read the resources, and that read reports the real state or the API error.
 * An aborted signal is the exception: the caller was cancelled, so the abort is thrown, not folded.
 */
export async function waiterSucceeded(
  wait: (abortSignal: AbortSignal | undefined) => Promise<unknown>,
  signal?: AbortSignal,
): Promise<boolean> {
  signal?.throwIfAborted();
  try {
    await wait(signal);
    return true;
  } catch (error) {
    signal?.throwIfAborted();
    if (error instanceof Error) return false;
    throw error;
  }
}

/** The waiter options every wait shares: the client, the bound and the caller's abort signal. */
export function waiterOptions(ctx: AwsContext, maxWaitTime: number, abortSignal: AbortSignal | undefined) {
  return { client: ctx.ec2, maxWaitTime, ...(abortSignal === undefined ? {} : { abortSignal }) };
}
