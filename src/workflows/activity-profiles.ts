// Activity options in one place: each step's timeouts and retry policy. Durations are strings in one format.
import type { Duration } from '@temporalio/common';
import { ActivityCancellationType, type ActivityOptions } from '@temporalio/workflow';
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

/**
 * Steps that create cloud resources (nodes, images) are waited for when the run is cancelled: the default
 * (TRY_CANCEL) settles the step at once and runs teardown while the activity may still be launching, so
 * an instance made after teardown listed the cluster would leak until the reaper. Waiting costs little:
 * the activity's cancellation signal reaches every provider and SSH wait, so it ends within one heartbeat
 * of the cancel (HEARTBEAT_THROTTLE, 5 s), or at the heartbeat timeout when its worker is gone.
 */
function awaitingCancellation(options: ActivityOptions): ActivityOptions {
  return { ...options, cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED };
}

export const ACTIVITY_PROFILES = {
  /**
   * Each attempt must outlast the waits inside it (test/activity-timeouts.test.ts): a replacement of a metal
   * node terminates it (up to 15 min), waits for `running` (20) and for SSH (30). Three attempts, not five: an
   * unreachable node now fails NodeUnreachable within minutes, and a boot that outlived its whole wait twice
   * will not be saved by a third hour of metal.
   */
  provisioning: awaitingCancellation(profile('90 minutes', 3)),
  install: profile('60 minutes', 3),
  // Imaging waits up to 90 min for the image (IMAGE_AVAILABLE_MAX_WAIT_S).
  bake: awaitingCancellation(profile('2 hours', 3)),
  wiring: profile('5 minutes', 5),
  sanity: profile('30 minutes', 3),
  // Uploads of multi-GB models (10 GB at 50 MB/s: under 4 minutes); node loss is answered by the workflow.
  delivery: profile('1 hour', 5),
  training: (timeoutMinutes: number): ActivityOptions => profile(`${timeoutMinutes} minutes`, 3),
  // A node's logs before teardown: worth a retry, never worth holding the teardown long (each node read is seconds).
  logs: profile('10 minutes', 3),
  // Teardown must win eventually: many attempts, slow backoff; each outlasts the 15-min wait for termination.
  teardown: profile('30 minutes', 20, '1 minute'),
  /**
   * The webhook notice at a run's end: each attempt is one POST bounded by NOTIFY_TIMEOUT_MS (10 s), four
   * attempts within ~50 s, then the workflow logs it and ends as it would have. No heartbeat: one request.
   */
  notify: {
    startToCloseTimeout: '30 seconds',
    retry: {
      initialInterval: '1 second',
      backoffCoefficient: 2,
      maximumInterval: '10 seconds',
      maximumAttempts: 4,
      nonRetryableErrorTypes: [...NON_RETRYABLE_FAILURES],
    },
  } satisfies ActivityOptions,
} as const;
