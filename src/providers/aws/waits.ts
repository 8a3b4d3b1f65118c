// How long tuneforge waits for EC2 state changes, and the one adapter around the SDK's waiters.
// The wait for running is sized by instance family: src/cluster/boot-times.ts.
export const INSTANCE_TERMINATED_MAX_WAIT_S = 15 * 60;
/** Imaging a 100 GiB root volume can take tens of minutes. */
export const IMAGE_AVAILABLE_MAX_WAIT_S = 90 * 60;

/**
 * Runs an SDK waiter and says whether it reached its success state. The waiters fold every other
 * outcome (a failure state, the timeout, API errors) into one untyped Error, so callers do not use
 * it: on false they re-read the resources, and that read reports the real state or the API error.
 */
export async function waiterSucceeded(wait: () => Promise<unknown>): Promise<boolean> {
  try {
    await wait();
    return true;
  } catch (error) {
    if (error instanceof Error) return false;
    throw error;
  }
}
