// The kept SSH connections on real local nodes, counted by the kernel (this process's sockets): one per
// node while a job's log is streamed and the node watch probes; more commands than channels queue on it;
// a connection killed on the node is reported and replaced; a node killed under a kept connection is
// checked at once; a follower that hands over leaves no stream behind; a stream resumed by a new worker
// from the offset its predecessor kept repeats no line and misses none; a cancelled follow ends with its
// job and its stream on the node; wire-ssh wires and checks 6 workers at once.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MockActivityEnvironment } from '@temporalio/testing';
import { followJob, followJobFor, type FollowOutcome, type FollowResult } from '../src/activities/follow-job';
import { NodeWatch, nodeWatcher } from '../src/activities/node-watch';
import type { WireResult } from '../src/activities/types';
import { createWireActivities } from '../src/activities/wire-ssh';
import type { NodeRecord } from '../src/providers/provider';
import { JobStream } from '../src/remote/job-stream';
import { killJob, pollJob, startOrAttach } from '../src/remote/remote-job';
import { createRemoteShell, sshTarget, type RemoteShell } from '../src/remote/remote-shell';
import { MAX_CHANNELS } from '../src/remote/ssh-pool';
import type { SshTarget } from '../src/remote/ssh-session';
import { validateRunSpec } from '../src/run-spec/validate';
import { testDeps, testProvider } from './helpers/local-lab';
import { connectionsPerNode, sshConnectionsOf, untilNoSshConnection } from './helpers/tcp-connections';
import { uniqueId } from './helpers/temporal';

const parsed = validateRunSpec({ name: 'conn-test', provider: 'local', recipe: 'tiny-qa', training: { maxSteps: 1 } });
assert.ok(parsed.ok);
const ctx = { clusterId: uniqueId('conn'), spec: parsed.spec };
const cluster = { clusterId: ctx.clusterId, runName: ctx.spec.name };

async function targetOf(node: NodeRecord): Promise<SshTarget> {
  return sshTarget(node, await testProvider.sshIdentity());
}

/** Waits (bounded) until the node has no process whose command line matches. */
async function untilGoneOnNode(remote: RemoteShell, target: SshTarget, pattern: string): Promise<string> {
  let left = '';
  for (let i = 0; i < 50; i++) {
    left = (await remote.run(target, `pgrep -af '${pattern}' | grep -v pgrep || true`, { label: 'look' })).stdout.trim();
    if (left === '') return left;
    await new Promise((r) => setTimeout(r, 200));
  }
  return left;
}

describe('kept SSH connections on real nodes', () => {
  let master: NodeRecord;
  let worker: NodeRecord;

  before(async () => {
    [master] = (await testProvider.launchNodes({ cluster, role: 'master', names: ['master'] })) as [NodeRecord];
    [worker] = (await testProvider.launchNodes({ cluster, role: 'worker', names: ['worker-1'] })) as [NodeRecord];
  });
  after(async () => {
    await testProvider.terminateNodes(cluster);
    await testProvider.cleanup(cluster);
  });

  it('a followed job and the node watch share one TCP connection per node; release closes them', async () => {
    const deps = testDeps();
    const watch = new NodeWatch(deps, ctx, [master, worker]);
    const seen: Record<string, number>[] = [];
    const target = await targetOf(master);
    const followed: FollowResult = await new MockActivityEnvironment().run(() =>
      followJob(deps, target, {
        jobId: 'shared-1',
        command: 'for i in $(seq 1 25); do echo "line $i"; sleep 0.1; done',
        stage: 'test',
        watch: async () => {
          assert.deepEqual((await watch.check()).lost, []);
          seen.push(connectionsPerNode());
        },
      }),
    );
    assert.equal(followed.exitCode, 0);
    assert.ok(seen.length >= 2, `the watch ran during the follow (${seen.length} times)`);
    for (const counts of seen) {
      assert.equal(counts[master.address], 1, `one connection to the master: ${JSON.stringify(counts)}`);
      assert.equal(counts[worker.address], 1, `one connection to the worker: ${JSON.stringify(counts)}`);
    }
    deps.remote.release?.();
    assert.deepEqual(await untilNoSshConnection(process.pid, 5000), []);
  });

  it(`more commands at once than channels (${MAX_CHANNELS}) queue on the one connection, and all answer`, async () => {
    const remote = createRemoteShell();
    const target = await targetOf(master);
    const dir = `/tmp/${uniqueId('running')}`;
    await remote.check(target, `mkdir -p ${dir}`, { label: 'mkdir' });
    const running = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        remote
          .check(target, `touch ${dir}/${i}; sleep 0.3; ls ${dir} | wc -l; rm ${dir}/${i}`, { label: `command ${i}` })
          .then((r) => Number(r.stdout.trim())),
      ),
    );
    assert.equal(running.length, 30);
    assert.ok(Math.max(...running) <= MAX_CHANNELS, `at most ${MAX_CHANNELS} ran at once on the node: ${running.join(' ')}`);
    assert.equal(connectionsPerNode()[master.address], 1);
    remote.release?.();
  });

  it('a connection killed on the node is reported as dropped, and the next call connects again', async () => {
    const remote = createRemoteShell();
    const target = await targetOf(master);
    assert.equal((await remote.check(target, 'hostname', { label: 'hostname' })).stdout.trim(), 'master');
    const [first] = sshConnectionsOf().filter((c) => c.remote === master.address);
    assert.ok(first);
    const dropped = new Promise<string>((resolve) => remote.onConnectionDrop?.((t) => resolve(t.name)));
    // $PPID is the sshd process serving this very connection.
    await remote.run(target, 'kill -9 $PPID; sleep 5', { label: 'kill our sshd' }).catch(() => undefined);
    assert.equal(await dropped, 'master');
    assert.equal((await remote.check(target, 'hostname', { label: 'hostname' })).stdout.trim(), 'master');
    const now = sshConnectionsOf().filter((c) => c.remote === master.address);
    assert.equal(now.length, 1);
    assert.notEqual(now[0]?.localPort, first.localPort, 'a new connection');
    remote.release?.();
  });

  it(
    'a node killed under a kept connection is checked at once, not at the next round of the watch',
    { timeout: 60_000 },
    async () => {
      const [doomed] = (await testProvider.launchNodes({ cluster, role: 'worker', names: ['worker-2'] })) as [NodeRecord];
      const deps = testDeps();
      // As launch-workers leaves it: the node answered SSH, and that connection is kept.
      await deps.remote.waitReady(await targetOf(doomed), 30_000);
      const watch = new NodeWatch(deps, ctx, [master, doomed]);
      // Rounds an hour apart: only the first pass's round, and what a dropped connection brings forward.
      const watcher = nodeWatcher(
        () => watch.check(),
        async (health) => {
          if (health.lost.length > 0) throw new Error(`lost ${health.lost.join(', ')}`);
        },
        3_600_000,
      );
      const target = await targetOf(master);
      const env = new MockActivityEnvironment();
      const following = new Promise((resolve) => env.once('heartbeat', resolve));
      const follow = env.run(() =>
        followJob(deps, target, { jobId: 'drop-1', command: 'sleep 120', stage: 'test', watch: watcher }),
      );
      follow.catch(() => undefined);
      await following;
      assert.equal(connectionsPerNode()[doomed.address], 1, 'a kept connection to the node');
      // The whole node goes (its unshare parent and its init, as a terminated instance): its sshd with it.
      await testProvider.terminateNodes(cluster, ['worker-2']);
      await assert.rejects(follow, /lost worker-2/);
      await killJob(deps.remote, target, 'drop-1');
      deps.remote.release?.();
    },
  );

  it('a follower that hands its job over leaves no log stream on the node', async () => {
    const deps = testDeps();
    const target = await targetOf(master);
    const outcome: FollowOutcome = await new MockActivityEnvironment().run(() =>
      followJobFor(deps, target, { jobId: 'handover-1', command: 'echo tick; sleep 600', stage: 'test' }, 500),
    );
    assert.equal(outcome.kind, 'still-running');
    assert.equal(await untilGoneOnNode(deps.remote, target, 'tail -c'), '', 'no log stream left');
    await killJob(deps.remote, target, 'handover-1');
    deps.remote.release?.();
  });

  it('a stream resumed by a restarted worker from the kept offset repeats no line and misses none', async () => {
    const target = await targetOf(master);
    const first = createRemoteShell();
    // Each line is written in two parts, so the first worker likely stops in the middle of one.
    await startOrAttach(
      first,
      target,
      'resume-1',
      `for i in $(seq 1 40); do printf 'line %s' $i; sleep 0.04; printf ' end\\n'; done`,
    );
    const controller = new AbortController();
    const before = new JobStream(first, target, 'resume-1', 0, controller.signal);
    const lines: string[] = [];
    while (lines.length < 10 && !before.done) {
      await before.changed();
      lines.push(...before.take().lines.splice(0));
    }
    const kept = lines.length;
    const { lines: rest, nextOffset: offset } = before.take();
    lines.push(...rest);
    assert.ok(kept >= 10 || before.done);
    // The worker dies: its connection goes with it, and a new worker opens its own from the kept offset.
    controller.abort();
    first.release?.();
    const second = createRemoteShell();
    const after = new JobStream(second, target, 'resume-1', offset, new AbortController().signal);
    while (!after.done) {
      await after.changed();
      lines.push(...after.take().lines);
    }
    const tail = after.take();
    lines.push(...tail.lines);
    const poll = await pollJob(second, target, 'resume-1', tail.nextOffset);
    lines.push(...poll.lines);
    assert.deepEqual(poll.state, { kind: 'exited', exitCode: 0 });
    assert.deepEqual(
      lines,
      Array.from({ length: 40 }, (_, i) => `line ${i + 1} end`),
    );
    second.release?.();
  });

  it('a cancelled follow ends, with its job and its log stream gone from the node', async () => {
    const deps = testDeps();
    const target = await targetOf(master);
    const env = new MockActivityEnvironment();
    let beats = 0;
    env.on('heartbeat', () => {
      if (++beats === 3) env.cancel();
    });
    await assert.rejects(
      env.run(() =>
        followJob(deps, target, { jobId: 'cancel-1', command: 'while true; do echo tick; sleep 0.2; done', stage: 'test' }),
      ),
    );
    assert.ok(beats >= 3);
    assert.equal(await untilGoneOnNode(deps.remote, target, 'tail -c'), '', 'no log stream left');
    assert.equal(await untilGoneOnNode(deps.remote, target, 'echo tick'), '', 'the job was stopped');
    deps.remote.release?.();
  });
});

describe('wire-ssh on 6 workers at once', () => {
  const wideCluster = { clusterId: uniqueId('wire6'), runName: 'wire6' };
  const wideCtx = { clusterId: wideCluster.clusterId, spec: ctx.spec };
  after(async () => {
    await testProvider.terminateNodes(wideCluster);
    await testProvider.cleanup(wideCluster);
  });

  it('the master reaches every node by name, each checked once, in the nodes order', async () => {
    const names = Array.from({ length: 6 }, (_, i) => `worker-${i + 1}`);
    const masters = await testProvider.launchNodes({ cluster: wideCluster, role: 'master', names: ['master'] });
    const workers = await testProvider.launchNodes({ cluster: wideCluster, role: 'worker', names });
    const deps = testDeps();
    const { wireSsh } = createWireActivities(deps);
    const nodes = [...masters, ...workers];
    const wired: WireResult = await new MockActivityEnvironment().run(wireSsh, { ...wideCtx, sshUser: 'ubuntu', nodes });
    assert.deepEqual(wired.hosts, ['master', ...names]);
    const counts = connectionsPerNode();
    for (const n of nodes) assert.equal(counts[n.address], 1, `one connection to ${n.name}`);
    deps.remote.release?.();
  });
});
