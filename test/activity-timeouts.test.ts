// Every activity's start-to-close timeout covers the longest wait inside it, for every instance family of
// src/cluster/boot-times.ts: a timeout shorter than the boot wait it contains kills a healthy slow boot and
// retries it from scratch (another ~20 min of metal), while the wait itself would have succeeded.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { msToNumber } from '@temporalio/common/lib/time';
import type { ActivityOptions } from '@temporalio/workflow';
import { BOOT_WAITS, type BootWait } from '../src/cluster/boot-times';
import { IMAGE_AVAILABLE_MAX_WAIT_S, INSTANCE_TERMINATED_MAX_WAIT_S } from '../src/providers/aws/waits';
import { ACTIVITY_PROFILES } from '../src/workflows/activity-profiles';

const MINUTE_MS = 60_000;
const TERMINATED_MS = INSTANCE_TERMINATED_MAX_WAIT_S * 1000;
/** The commands around the waits (bootstrap, lscpu, health checks, checkpoint restore, group deletion). */
const WORK_AROUND_WAITS_MS = 10 * MINUTE_MS;

interface Contained {
  activity: string;
  profile: ActivityOptions;
  /** The waits one attempt may sit through, in order, for a node of this family. */
  waitsMs: (boot: BootWait) => number;
}

const ACTIVITIES: Contained[] = [
  // launch until running, then SSH until it answers
  { activity: 'provision-master', profile: ACTIVITY_PROFILES.provisioning, waitsMs: (b) => b.runningMs + b.sshReadyMs },
  { activity: 'launch-workers', profile: ACTIVITY_PROFILES.provisioning, waitsMs: (b) => b.runningMs + b.sshReadyMs },
  // the lost nodes' termination first, then the relaunch
  {
    activity: 'replace-nodes / replace-master',
    profile: ACTIVITY_PROFILES.provisioning,
    waitsMs: (b) => TERMINATED_MS + b.runningMs + b.sshReadyMs,
  },
  { activity: 'bake-image', profile: ACTIVITY_PROFILES.bake, waitsMs: () => IMAGE_AVAILABLE_MAX_WAIT_S * 1000 },
  { activity: 'teardown', profile: ACTIVITY_PROFILES.teardown, waitsMs: () => TERMINATED_MS },
];

for (const [family, boot] of Object.entries(BOOT_WAITS)) {
  test(`every activity's start-to-close timeout covers the waits inside it (${family} nodes)`, () => {
    for (const { activity, profile, waitsMs } of ACTIVITIES) {
      assert.ok(profile.startToCloseTimeout !== undefined, `${activity} has a start-to-close timeout`);
      const timeoutMs = msToNumber(profile.startToCloseTimeout);
      const neededMs = waitsMs(boot) + WORK_AROUND_WAITS_MS;
      assert.ok(
        timeoutMs >= neededMs,
        `${activity} on ${family}: start-to-close ${timeoutMs / MINUTE_MS} min < ${neededMs / MINUTE_MS} min of waits and work inside it`,
      );
    }
  });
}
