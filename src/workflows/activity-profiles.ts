// Activity options in one place: each step's timeouts and retry policy. Durations are strings in one format.
import type { Duration } from '@temporalio/common';
import type { ActivityOptions } from '@temporalio/workflow';
import { NON_RETRYABLE_FAILURES } from '../common/errors';

/** Long activities heartbeat every 5 s: a dead worker is noticed after this long, then the step retries. */
export const HEARTBEAT_TIMEOUT: Duration = '30 seconds';

function profile(startToClose: Duration, maximumAttempts: number, maximumInterval: Duration = '30 seconds'): ActivityOptions {
  return {
    startToCloseTimeout: startToClose,
    heartbeatTimeout: HEARTBEAT_TIMEOUT,
    retry: {
      initialInterval: '2 seconds',
      backoffCoefficient: 2,
      maximumInterval,
      maximumAttempts,
      nonRetryableErrorTypes: [...NON_RETRYABLE_FAILURES],
    },
  };
}

export const ACTIVITY_PROFILES = {
  provisioning: profile('20 minutes', 5),
  install: profile('60 minutes', 3),
  bake: profile('60 minutes', 3),
  wiring: profile('5 minutes', 5),
  sanity: profile('30 minutes', 3),
  // Uploads of multi-GB models (10 GB at 50 MB/s: under 4 minutes); node loss is answered by the workflow.
  delivery: profile('1 hour', 5),
  training: (timeoutMinutes: number): ActivityOptions => profile(`${timeoutMinutes} minutes`, 3),
  // Teardown must win eventually: many attempts, slow backoff.
  teardown: profile('15 minutes', 20, '1 minute'),
} as const;
