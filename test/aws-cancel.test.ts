// Cancellation reaches the provider's waits: a launch aborted while EC2 still reports its instance
// pending ends within a second (not at the 20-minute waiter bound), launches nothing more, and the
// teardown that follows leaves no instance in moto. moto states are instant, so "pending" is stated
// by rewriting DescribeInstances answers: the SDK waiter then polls every 15 s, as it would on EC2.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Instance } from '@aws-sdk/client-ec2';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createActivities } from '../src/activities';
import type { RunContext, TeardownResult } from '../src/activities/types';
import { bindRun } from '../src/providers/run-provider';
import { validateRunSpec } from '../src/run-spec/validate';
import { testDeps } from './helpers/local-lab';
import {
  ALIVE,
  callsOf,
  clusterInstances,
  createHarness,
  MOTO_UBUNTU_IMAGE_ID,
  motoUnavailableReason,
  startMoto,
  type MotoHarness,
  type MotoServer,
} from './helpers/moto';

/** A wait the abort did not reach would run into the waiter's 20-minute bound: fail instead of hanging. */
const LIMIT = { timeout: 60_000 };

/** Every instance EC2 describes stays pending until the returned function is called. */
function keepInstancesPending(h: MotoHarness): () => void {
  const rewrite = (command: string, output: unknown) => {
    if (command !== 'DescribeInstances') return;
    const reservations = (output as { Reservations?: { Instances?: Instance[] }[] }).Reservations ?? [];
    for (const instance of reservations.flatMap((r) => r.Instances ?? [])) {
      if (instance.State?.Name === 'running') instance.State = { Name: 'pending', Code: 0 };
    }
  };
  h.faults.rewrites.push(rewrite);
  return () => h.faults.rewrites.splice(h.faults.rewrites.indexOf(rewrite), 1);
}

/** Calls `then` once, right after EC2 accepts the first RunInstances. */
function afterFirstLaunch(h: MotoHarness, then: () => void): void {
  let done = false;
  h.faults.rewrites.push((command) => {
    if (command === 'RunInstances' && !done) {
      done = true;
      then();
    }
  });
}

describe('cancellation reaches the aws provider (moto)', { skip: motoUnavailableReason() }, () => {
  let moto: MotoServer;
  before(async () => {
    moto = await startMoto();
  });
  after(async () => {
    await moto.stop();
  });

  test('an abort during the wait for running ends launchNodes at once; the teardown after it leaves nothing', LIMIT, async () => {
    const h = createHarness(moto);
    await h.provider.bootstrap(h.cluster);
    const stopPending = keepInstancesPending(h);
    const controller = new AbortController();
    let abortedAt = 0;
    afterFirstLaunch(h, () =>
      setTimeout(() => {
        abortedAt = Date.now();
        controller.abort();
      }, 300),
    );
    const run = bindRun(h.regionProvider, { provider: 'aws', aws: h.settings }, controller.signal);
    await assert.rejects(run.launchNodes({ cluster: h.cluster, role: 'master', names: ['master'] }), (error: Error) => {
      assert.equal(error.name, 'AbortError');
      return true;
    });
    const endedAfterAbortMs = Date.now() - abortedAt;
    assert.ok(abortedAt > 0, 'the abort came during the wait');
    // The waiter polls every 15 s: ending well inside one poll shows the abort reached it (not its next poll).
    assert.ok(endedAfterAbortMs < 5000, `launchNodes ended ${endedAfterAbortMs} ms after the abort`);
    stopPending();

    assert.equal((await clusterInstances(h.ec2, h.cluster.clusterId, ALIVE)).length, 1, 'the launch had made its instance');
    await h.provider.terminateNodes(h.cluster);
    assert.equal((await clusterInstances(h.ec2, h.cluster.clusterId, ALIVE)).length, 0);
  });

  test('an abort between two node launches launches no further node', LIMIT, async () => {
    const h = createHarness(moto);
    await h.provider.bootstrap(h.cluster);
    const controller = new AbortController();
    afterFirstLaunch(h, () => controller.abort());
    const run = bindRun(h.regionProvider, { provider: 'aws', aws: h.settings }, controller.signal);
    await assert.rejects(run.launchNodes({ cluster: h.cluster, role: 'worker', names: ['worker-1', 'worker-2'] }));
    assert.equal(callsOf(h.faults, 'RunInstances').length, 1);
    await h.provider.terminateNodes(h.cluster);
    assert.equal((await clusterInstances(h.ec2, h.cluster.clusterId, ALIVE)).length, 0);
  });

  test('cancelling the launch-workers activity mid-wait ends it promptly, and teardown leaves no instance', LIMIT, async () => {
    const h = createHarness(moto);
    await h.provider.bootstrap(h.cluster);
    const parsed = validateRunSpec({
      name: 'cancel-test',
      provider: 'aws',
      recipe: 'tiny-qa',
      nodes: 3,
      artifacts: 's3://cancel-test-bucket/runs',
      training: { maxSteps: 2 },
      aws: h.settings,
    });
    assert.ok(parsed.ok);
    const ctx: RunContext = { clusterId: h.cluster.clusterId, spec: parsed.spec };
    const activities = createActivities(testDeps({ providerFor: () => h.regionProvider }));
    const stopPending = keepInstancesPending(h);
    const env = new MockActivityEnvironment();
    let cancelledAt = 0;
    afterFirstLaunch(h, () =>
      setTimeout(() => {
        cancelledAt = Date.now();
        env.cancel();
      }, 300),
    );
    const image = { imageId: MOTO_UBUNTU_IMAGE_ID, fingerprint: 'fp-cancel', createdAt: new Date(0).toISOString() };
    await assert.rejects(env.run(activities.launchWorkers, { ...ctx, image, names: ['worker-1', 'worker-2'] }));
    const endedAfterCancelMs = Date.now() - cancelledAt;
    assert.ok(cancelledAt > 0 && endedAfterCancelMs < 5000, `launch-workers ended ${endedAfterCancelMs} ms after the cancel`);
    assert.equal(callsOf(h.faults, 'RunInstances').length, 2, 'both workers were launched before the wait');
    stopPending();

    const result: TeardownResult = await new MockActivityEnvironment().run(activities.teardown, {
      ...ctx,
      keepCluster: false,
      succeeded: false,
    });
    assert.equal(result.nodesTerminated, 2);
    assert.equal(result.nodesLeft, 0);
    assert.equal((await clusterInstances(h.ec2, h.cluster.clusterId, ALIVE)).length, 0);
  });
});
