// EC2 status checks as provider evidence: listNodes marks a live instance whose instance or system
// check is impaired, and the node watch calls that node lost at its first check, without a probe.
// moto reports every instance's checks as ok and cannot be told otherwise, so the DescribeInstanceStatus
// answers are rewritten by the test middleware (see faults.rewrites in ./helpers/moto) before the
// provider reads them; every other call, and the instances themselves, are moto's.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { InstanceStatus, SummaryStatus } from '@aws-sdk/client-ec2';
import { NodeWatch } from '../src/activities/node-watch';
import type { RunContext } from '../src/activities/types';
import { impairmentOf } from '../src/providers/aws/instance-status';
import type { NodeRecord } from '../src/providers/provider';
import type { RemoteShell } from '../src/remote/remote-shell';
import { validateRunSpec } from '../src/run-spec/validate';
import { testDeps } from './helpers/local-lab';
import { callsOf, createHarness, motoUnavailableReason, startMoto, type MotoHarness, type MotoServer } from './helpers/moto';

type StatusEdit = (status: InstanceStatus) => void;

/** Makes DescribeInstanceStatus answer for the given instances as the edits say. */
function statusesSay(h: MotoHarness, edits: Map<string, StatusEdit>): void {
  h.faults.rewrites.push((command, output) => {
    if (command !== 'DescribeInstanceStatus' || !('InstanceStatuses' in output)) return;
    for (const status of output.InstanceStatuses ?? []) edits.get(status.InstanceId ?? '')?.(status);
  });
}

const impaired =
  (check: 'InstanceStatus' | 'SystemStatus'): StatusEdit =>
  (status) => {
    status[check] = { Status: 'impaired', Details: [{ Name: 'reachability', Status: 'failed' }] };
  };

const initializing: StatusEdit = (status) => {
  status.InstanceStatus = { Status: 'initializing', Details: [{ Name: 'reachability', Status: 'initializing' }] };
  status.SystemStatus = { Status: 'initializing', Details: [{ Name: 'reachability', Status: 'initializing' }] };
};

const retiring: StatusEdit = (status) => {
  status.Events = [
    {
      Code: 'instance-retirement',
      Description: 'The instance is running on degraded hardware',
      NotBefore: new Date(Date.now() + 86_400_000),
    },
  ];
};

/** A RemoteShell whose probes all answer at once; it records which nodes were probed. */
function answeringShell(): RemoteShell & { probed: string[] } {
  const probed: string[] = [];
  const fail = async (): Promise<never> => {
    throw new Error('the watch only probes');
  };
  return {
    probed,
    run: async (target) => {
      probed.push(target.name);
      return { exitCode: 0, stdout: '', stderr: '', truncated: false };
    },
    check: fail,
    upload: fail,
    waitReady: fail,
  };
}

describe('EC2 status checks', { skip: motoUnavailableReason() }, () => {
  let moto: MotoServer;
  before(async () => {
    moto = await startMoto();
  });
  after(async () => {
    await moto.stop();
  });

  async function launchCluster(h: MotoHarness): Promise<Map<string, NodeRecord>> {
    await h.provider.bootstrap(h.cluster);
    const master = await h.provider.launchNodes({ cluster: h.cluster, role: 'master', names: ['master'] });
    const workers = await h.provider.launchNodes({
      cluster: h.cluster,
      role: 'worker',
      names: ['worker-1', 'worker-2', 'worker-3'],
    });
    return new Map([...master, ...workers].map((node) => [node.name, node]));
  }

  const idOf = (nodes: Map<string, NodeRecord>, name: string): string => nodes.get(name)?.providerId ?? '';

  test('listNodes marks impaired instances, not initializing or retiring ones, asking for the live ones only', async () => {
    const h = createHarness(moto);
    const nodes = await launchCluster(h);
    statusesSay(
      h,
      new Map([
        [idOf(nodes, 'master'), retiring],
        [idOf(nodes, 'worker-1'), impaired('InstanceStatus')],
        [idOf(nodes, 'worker-2'), initializing],
        [idOf(nodes, 'worker-3'), impaired('SystemStatus')],
      ]),
    );
    const listed = await h.provider.listNodes(h.cluster);
    assert.deepEqual(listed.map((node) => [node.name, node.state, node.impairment ?? 'none']).sort(), [
      ['master', 'running', 'none'],
      ['worker-1', 'running', 'instance status impaired (reachability failed)'],
      ['worker-2', 'running', 'none'],
      ['worker-3', 'running', 'system status impaired (reachability failed)'],
    ]);
    const [asked] = callsOf(h.faults, 'DescribeInstanceStatus');
    assert.equal(asked?.IncludeAllInstances, true);
    assert.deepEqual(
      [...((asked?.InstanceIds as string[] | undefined) ?? [])].sort(),
      [...nodes.values()].map((n) => n.providerId).sort(),
    );

    // Once nothing of the cluster is live, there is nothing to ask about (no ids would mean the whole account).
    await h.provider.terminateNodes(h.cluster);
    const before = callsOf(h.faults, 'DescribeInstanceStatus').length;
    assert.ok(
      (await h.provider.listNodes(h.cluster)).every((node) => node.state === 'terminated' && node.impairment === undefined),
    );
    assert.equal(callsOf(h.faults, 'DescribeInstanceStatus').length, before);
    await h.provider.cleanup(h.cluster);
  });

  test('the node watch calls an impaired node lost at its first check without probing it; an initializing one is probed and kept', async () => {
    const h = createHarness(moto);
    const nodes = await launchCluster(h);
    statusesSay(
      h,
      new Map([
        [idOf(nodes, 'worker-1'), impaired('SystemStatus')],
        [idOf(nodes, 'worker-2'), initializing],
      ]),
    );
    const parsed = validateRunSpec({
      name: 'status-test',
      provider: 'aws',
      recipe: 'tiny-qa',
      nodes: 4,
      artifacts: 's3://status-test-bucket/runs',
      training: { maxSteps: 2 },
      aws: h.settings,
    });
    assert.ok(parsed.ok);
    const ctx: RunContext = { clusterId: h.cluster.clusterId, spec: parsed.spec };
    const shell = answeringShell();
    const watch = new NodeWatch(testDeps({ providerFor: () => h.regionProvider, remote: shell }), ctx, [...nodes.values()]);
    assert.deepEqual(await watch.check(), { lost: ['worker-1'], noticed: [] });
    assert.deepEqual(shell.probed.sort(), ['master', 'worker-2', 'worker-3']);
    await h.provider.cleanup(h.cluster);
  });

  test('an instance DescribeInstanceStatus does not know yet (EC2 is eventually consistent) is not impaired', async () => {
    const h = createHarness(moto);
    await launchCluster(h);
    h.faults.rules.push({ command: 'DescribeInstanceStatus', code: 'InvalidInstanceID.NotFound', httpStatus: 400, times: 1 });
    const listed = await h.provider.listNodes(h.cluster);
    assert.equal(listed.length, 4);
    assert.ok(listed.every((node) => node.state === 'running' && node.impairment === undefined));
    assert.equal(callsOf(h.faults, 'DescribeInstanceStatus').length, 1, 'not-found is not retried');
    await h.provider.cleanup(h.cluster);
  });
});

test('only an impaired check counts: ok, initializing, insufficient-data and scheduled events do not', () => {
  const status = (instance: SummaryStatus, system: SummaryStatus): InstanceStatus => ({
    InstanceId: 'i-1',
    InstanceStatus: { Status: instance },
    SystemStatus: { Status: system },
    Events: [{ Code: 'system-reboot', NotBefore: new Date() }],
  });
  assert.equal(impairmentOf(status('ok', 'ok')), undefined);
  assert.equal(impairmentOf(status('initializing', 'initializing')), undefined);
  assert.equal(impairmentOf(status('insufficient-data', 'ok')), undefined);
  assert.equal(impairmentOf(status('impaired', 'impaired')), 'system status impaired; instance status impaired');
});
