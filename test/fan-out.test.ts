// Fan-out runs at once, not node after node: the SSH waits of freshly launched nodes and wire-ssh's work on
// each node overlap. Measured as the most calls in flight on distinct nodes at one time (a RemoteShell that
// counts them around the real one), so a concurrency of 1 fails here whatever the machine's load.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createActivities } from '../src/activities';
import { SshWait } from '../src/activities/ssh-wait';
import type { NodeRecord } from '../src/providers/provider';
import { createRemoteShell, type RemoteShell } from '../src/remote/remote-shell';
import { validateRunSpec } from '../src/run-spec/validate';
import { testDeps, testProvider } from './helpers/local-lab';
import { uniqueId } from './helpers/temporal';

/** The real shell, counting the most calls in flight on distinct nodes at once, per kind of call. */
function countingShell(): RemoteShell & { peak: (kind: string) => number } {
  const real = createRemoteShell();
  const inFlight = new Map<string, Map<string, number>>();
  const peaks = new Map<string, number>();
  const around = async <T>(kind: string, node: string, call: () => Promise<T>): Promise<T> => {
    const nodes = inFlight.get(kind) ?? new Map<string, number>();
    inFlight.set(kind, nodes);
    nodes.set(node, (nodes.get(node) ?? 0) + 1);
    peaks.set(kind, Math.max(peaks.get(kind) ?? 0, nodes.size));
    try {
      return await call();
    } finally {
      const left = (nodes.get(node) ?? 1) - 1;
      if (left === 0) nodes.delete(node);
      else nodes.set(node, left);
    }
  };
  return {
    ...real,
    run: (target, command, options) => around('command', target.name, () => real.run(target, command, options)),
    check: (target, command, options) => around('command', target.name, () => real.check(target, command, options)),
    upload: (target, path, content, options) => around('command', target.name, () => real.upload(target, path, content, options)),
    waitReady: (target, timeoutMs, signal) => around('wait', target.name, () => real.waitReady(target, timeoutMs, signal)),
    peak: (kind) => peaks.get(kind) ?? 0,
  };
}

const parsed = validateRunSpec({ name: 'fan-out', provider: 'local', recipe: 'tiny-qa', nodes: 4, training: { maxSteps: 1 } });
assert.ok(parsed.ok);
const ctx = { clusterId: uniqueId('fan-out'), spec: parsed.spec };
const cluster = { clusterId: ctx.clusterId, runName: ctx.spec.name };

describe('fan-out over the nodes of a cluster', () => {
  let nodes: NodeRecord[];

  before(async () => {
    const master = await testProvider.launchNodes({ cluster, role: 'master', names: ['master'] });
    const workers = await testProvider.launchNodes({ cluster, role: 'worker', names: ['worker-1', 'worker-2', 'worker-3'] });
    nodes = [...master, ...workers];
  });
  after(async () => {
    await testProvider.terminateNodes(cluster);
    await testProvider.cleanup(cluster);
  });

  it('waits for every new node to answer SSH at once', async () => {
    const shell = countingShell();
    const wait = new SshWait(testDeps({ remote: shell }), ctx, 'launch-workers');
    await new MockActivityEnvironment().run(() => wait.untilReady(nodes));
    assert.equal(shell.peak('wait'), nodes.length, 'every node waited on at the same time');
  });

  it('wires SSH on the nodes at once', async () => {
    const shell = countingShell();
    const activities = createActivities(testDeps({ remote: shell }));
    const wired = (await new MockActivityEnvironment().run(activities.wireSsh, { ...ctx, sshUser: 'ubuntu', nodes })) as {
      hosts: string[];
    };
    assert.deepEqual(wired.hosts, nodes.map((n) => n.name));
    assert.ok(shell.peak('command') >= 2, `at most ${shell.peak('command')} node(s) worked on at a time`);
  });
});
