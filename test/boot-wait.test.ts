// Per-node waits sized by instance family, and a slow boot waited for (and reported), not failed: a
// local node set to answer SSH seconds after launch, and a fake metal node behind a fake RemoteShell.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { MockActivityEnvironment } from '@temporalio/testing';
import type { ProgressUpdate } from '../src/activities/deps';
import type { ProvisionResult } from '../src/activities/types';
import { createProvisionActivities } from '../src/activities/provision-master';
import { SshWait } from '../src/activities/ssh-wait';
import { bootWaitFor, isBareMetal, longestBootWait } from '../src/cluster/boot-times';
import { createLocalProvider } from '../src/providers/local/local-provider';
import type { NodeRecord } from '../src/providers/provider';
import { createRemoteShell, sshTarget, type RemoteShell } from '../src/remote/remote-shell';
import { SshSession } from '../src/remote/ssh-session';
import { validateRunSpec } from '../src/run-spec/validate';
import { liveNodeProcesses, testDeps, TEST_LAB_ROOT } from './helpers/local-lab';
import { uniqueId } from './helpers/temporal';
import { renderDetails } from '../src/workflows/run-details';
import { StepTracker } from '../src/workflows/step-tracker';
import { readWorkerConfig, WorkerConfigInvalid } from '../src/worker/config';

const MINUTE = 60_000;

describe('boot waits by instance family', () => {
  it('give bare metal at least 25 minutes to answer SSH, other families a few', () => {
    for (const type of ['r7iz.metal-16xl', 'c5.metal', 'm7i.metal-24xl']) {
      assert.ok(isBareMetal(type), type);
      assert.ok(bootWaitFor({ instanceType: type }).sshReadyMs >= 25 * MINUTE, type);
      assert.match(bootWaitFor({ instanceType: type }).expectation, /metal boots take up to 20 min/);
    }
    for (const type of ['r7iz.16xlarge', 'c7i.metal_like.large', 'm5.large']) {
      assert.ok(!isBareMetal(type), type);
      const wait = bootWaitFor({ instanceType: type }).sshReadyMs;
      assert.ok(wait >= 2 * MINUTE && wait <= 10 * MINUTE, `${type}: ${wait}`);
    }
  });

  it("add a provider's stated boot delay, and take the longest wait of a mixed launch", () => {
    assert.equal(
      bootWaitFor({ instanceType: 'local', bootDelayMs: 40_000 }).sshReadyMs,
      bootWaitFor({ instanceType: 'local' }).sshReadyMs + 40_000,
    );
    const mixed = longestBootWait([{ instanceType: 'r7iz.16xlarge' }, { instanceType: 'r7iz.metal-16xl' }]);
    assert.equal(mixed.sshReadyMs, bootWaitFor({ instanceType: 'r7iz.metal-16xl' }).sshReadyMs);
    assert.equal(mixed.runningMs, bootWaitFor({ instanceType: 'r7iz.metal-16xl' }).runningMs);
  });
});

const parsed = validateRunSpec({ name: 'boot-wait-test', provider: 'local', recipe: 'tiny-qa', training: { maxSteps: 1 } });
assert.ok(parsed.ok);
const spec = parsed.spec;

describe('a fake metal node that answers SSH after a few seconds', () => {
  it('is waited for with the metal wait, and the run is told "waiting for master: ..., metal boots take up to 20 min"', async () => {
    const timeouts: number[] = [];
    const remote: RemoteShell = {
      ...createRemoteShell(),
      waitReady: async (_target, timeoutMs) => {
        timeouts.push(timeoutMs);
        await new Promise((resolve) => setTimeout(resolve, 4500));
      },
    };
    const reports: ProgressUpdate[] = [];
    const deps = testDeps({ remote, reportProgress: async (_id, update) => void reports.push(update) });
    const node = { name: 'master', instanceType: 'r7iz.metal-16xl' } as NodeRecord;
    const env = new MockActivityEnvironment();
    const beats: unknown[] = [];
    env.on('heartbeat', (d: unknown) => beats.push(d));
    const wait = new SshWait(deps, { clusterId: uniqueId('boot-fake'), spec }, 'provision-master');
    const timer = setInterval(() => env.context.heartbeat(wait.details()), 500);
    try {
      await env.run(() => wait.untilReady([node]));
    } finally {
      clearInterval(timer);
    }
    assert.deepEqual(timeouts, [bootWaitFor(node).sshReadyMs]);
    const messages = reports.map((r) => r.message);
    // Seconds as the machine's own pace gives them: at least the wait's length, more when loaded.
    const waited = Number(/^waiting for master: (\d+) s, metal boots take up to 20 min$/.exec(messages[0] ?? '')?.[1]);
    const answered = Number(/^master answered SSH after (\d+) s$/.exec(messages.at(-1) ?? '')?.[1]);
    assert.ok(waited >= 3 && answered >= 4 && waited <= answered, JSON.stringify(messages));
    assert.ok(reports.every((r) => r.stage === 'provision-master' && r.maxSteps === 0));
    assert.ok(
      beats.some((b) => /waiting for master/.test(JSON.stringify(b))),
      JSON.stringify(beats),
    );
    assert.equal(wait.details(), undefined, 'no wait shown once the node answered');
  });

  it('a node that answers at once is not reported', async () => {
    const reports: ProgressUpdate[] = [];
    const remote: RemoteShell = { ...createRemoteShell(), waitReady: async () => undefined };
    const deps = testDeps({ remote, reportProgress: async (_id, update) => void reports.push(update) });
    const wait = new SshWait(deps, { clusterId: uniqueId('boot-fast'), spec }, 'launch-workers');
    await new MockActivityEnvironment().run(() =>
      wait.untilReady([{ name: 'worker-1', instanceType: 'm5.large' } as NodeRecord]),
    );
    assert.deepEqual(reports, []);
  });
});

describe('a local node set to boot slowly', () => {
  const BOOT_DELAY_MS = 6000;
  const slowProvider = createLocalProvider({ labRoot: TEST_LAB_ROOT, tmpSizeMiB: 512, bootDelayMs: BOOT_DELAY_MS });
  const clusters: string[] = [];
  after(async () => {
    for (const clusterId of clusters) await slowProvider.cleanup({ clusterId, runName: spec.name });
  });

  it('is launched "running" before it answers SSH, then answers after the stated delay', async () => {
    const cluster = { clusterId: uniqueId('boot-slow'), runName: spec.name };
    clusters.push(cluster.clusterId);
    const launched = Date.now();
    const [node] = await slowProvider.launchNodes({
      cluster,
      role: 'worker',
      names: ['worker-1'],
      settings: { provider: 'local' },
    });
    assert.ok(node);
    assert.equal(node.bootDelayMs, BOOT_DELAY_MS);
    const target = sshTarget(node, await slowProvider.sshIdentity({ provider: 'local' }));
    await assert.rejects(SshSession.connect(target, 2000), 'the node answered before its boot delay');
    await createRemoteShell().waitReady(target, bootWaitFor(node).sshReadyMs);
    assert.ok(Date.now() - launched >= BOOT_DELAY_MS - 500, `answered after ${Date.now() - launched} ms`);
  });

  it('provision-master waits for it, reports the wait and goes on', async () => {
    const clusterId = uniqueId('boot-master');
    clusters.push(clusterId);
    const reports: ProgressUpdate[] = [];
    const deps = testDeps({ providerFor: () => slowProvider, reportProgress: async (_id, update) => void reports.push(update) });
    const started = Date.now();
    const result = (await new MockActivityEnvironment().run(createProvisionActivities(deps).provisionMaster, {
      clusterId,
      spec,
    })) as ProvisionResult;
    assert.ok(Date.now() - started >= BOOT_DELAY_MS - 500);
    assert.equal(result.master.bootDelayMs, BOOT_DELAY_MS);
    assert.ok(result.cpu.logicalCpus >= 1, 'lscpu ran on the node once it answered');
    assert.equal(await liveNodeProcesses(clusterId), 1);
    assert.match(reports[0]?.message ?? '', /^waiting for master: \d+ s, set to boot in 6 s$/);
    assert.match(reports.at(-1)?.message ?? '', /^master answered SSH after \d+ s$/);
  });
});

describe('boot-wait reports in the run details', () => {
  const update = (u: Partial<ProgressUpdate>): ProgressUpdate => ({
    stage: 'distributed-train',
    step: 0,
    maxSteps: 0,
    loss: null,
    lastCheckpoint: null,
    ...u,
  });

  it('show the wait as a note, keeping the training counters a replacement would otherwise wipe', () => {
    const tracker = new StepTracker(spec);
    tracker.setTraining(
      update({ message: 'waiting for master: 7 min, metal boots take up to 20 min', stage: 'provision-master' }),
    );
    assert.match(
      renderDetails(tracker.snapshot(), undefined),
      /\| Note \| waiting for master: 7 min, metal boots take up to 20 min \|/,
    );
    tracker.setTraining(update({ step: 40, maxSteps: 100, loss: 1.5, lastCheckpoint: 'checkpoint-40' }));
    assert.doesNotMatch(renderDetails(tracker.snapshot(), undefined), /\| Note \|/);
    tracker.setTraining(update({ stage: 'replace-nodes', message: 'waiting for worker-2: 3 min, boots take 1-2 min' }));
    const training = tracker.snapshot().training;
    assert.deepEqual(
      { step: training?.step, maxSteps: training?.maxSteps, checkpoint: training?.lastCheckpoint, message: training?.message },
      { step: 40, maxSteps: 100, checkpoint: 'checkpoint-40', message: 'waiting for worker-2: 3 min, boots take 1-2 min' },
    );
  });
});

describe('the worker setting for slow local boots', () => {
  it('TUNEFORGE_LOCAL_BOOT_DELAY_MS is milliseconds >= 0, 0 when unset', () => {
    assert.equal(readWorkerConfig({}).localBootDelayMs, 0);
    assert.equal(readWorkerConfig({ TUNEFORGE_LOCAL_BOOT_DELAY_MS: '90000' }).localBootDelayMs, 90_000);
    assert.throws(() => readWorkerConfig({ TUNEFORGE_LOCAL_BOOT_DELAY_MS: '-5' }), WorkerConfigInvalid);
    assert.throws(() => readWorkerConfig({ TUNEFORGE_LOCAL_BOOT_DELAY_MS: 'soon' }), WorkerConfigInvalid);
  });
});
