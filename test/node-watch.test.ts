// The node watch on real local nodes: a killed node is lost at once, a frozen one after consecutive missed
// probes; a node that presents the wrong host key or refuses our key is not replaced: the watch fails with
// that failure's own type. Through a fake RemoteShell, probes that stall or are refused a few times do not
// make a healthy node lost; one more consecutive miss over the window does.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { checkNodes, LOCAL_WATCH, NodeWatch, type WatchPolicy } from '../src/activities/node-watch';
import { FailureType } from '../src/common/errors';
import type { NodeRecord, Provider } from '../src/providers/provider';
import { createRemoteShell, type RemoteShell } from '../src/remote/remote-shell';
import { validateRunSpec } from '../src/run-spec/validate';
import { testDeps, testLabProvider, testProvider } from './helpers/local-lab';
import { uniqueId } from './helpers/temporal';
import { freezeNode } from './chaos/lab-probe';

const parsed = validateRunSpec({ name: 'watch-test', provider: 'local', recipe: 'tiny-qa', training: { maxSteps: 1 } });
assert.ok(parsed.ok);
const ctx = { clusterId: uniqueId('watch'), spec: parsed.spec };
const cluster = { clusterId: ctx.clusterId, runName: ctx.spec.name };

function otherKeyPair(): { privateKey: Buffer; publicKey: string } {
  const folder = mkdtempSync(join(tmpdir(), 'watch-key-'));
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(folder, 'key')]);
  return {
    privateKey: readFileSync(join(folder, 'key')),
    publicKey: readFileSync(join(folder, 'key.pub'), 'utf8').trim().split(' ').slice(0, 2).join(' '),
  };
}

const failsWith = (type: string) => (err: unknown) => err instanceof ApplicationFailure && err.type === type;

describe('node watch', () => {
  let nodes: NodeRecord[];

  before(async () => {
    nodes = await testProvider.launchNodes({ cluster, role: 'worker', names: ['worker-1', 'worker-2'] });
  });
  after(async () => {
    await testProvider.terminateNodes(cluster);
    await testProvider.cleanup(cluster);
  });

  it('healthy nodes are neither lost nor noticed', async () => {
    assert.deepEqual(await checkNodes(testDeps(), ctx, nodes), { lost: [], noticed: [] });
  });

  it('a node with another host key than the pinned one fails the watch as HostKeyMismatch, not as a lost node', async () => {
    const forged = nodes.map((n, i) => (i === 0 ? { ...n, hostKey: otherKeyPair().publicKey } : n));
    await assert.rejects(checkNodes(testDeps(), ctx, forged), failsWith(FailureType.HostKeyMismatch));
  });

  it('a node that refuses our key fails the watch as AuthFailed', async () => {
    const wrongKey = otherKeyPair().privateKey;
    const provider: Provider = {
      ...testLabProvider,
      sshIdentity: async (settings) => ({ ...(await testLabProvider.sshIdentity(settings)), privateKey: wrongKey }),
    };
    await assert.rejects(checkNodes(testDeps({ providerFor: () => provider }), ctx, nodes), failsWith(FailureType.AuthFailed));
  });

  it('a terminated node is lost', async () => {
    await testProvider.terminateNodes(cluster, ['worker-2']);
    assert.deepEqual(await checkNodes(testDeps(), ctx, nodes), { lost: ['worker-2'], noticed: [] });
  });

  it('a frozen node is not lost on its first missed probe, and is lost within the local figures (~13 s)', async (t) => {
    const [frozen] = nodes;
    assert.ok(frozen);
    // The node terminated above comes back: the quorum that tells a frozen node from a cut-off worker.
    await testProvider.launchNodes({ cluster, role: 'worker', names: ['worker-2'] });
    const watch = new NodeWatch(testDeps(), ctx, [frozen]);
    assert.deepEqual(await watch.check(), { lost: [], noticed: [] });
    const stopped = await freezeNode(ctx.clusterId, frozen.name);
    assert.ok(stopped > 0);
    const frozenAt = Date.now();
    const rounds: string[][] = [];
    while (Date.now() - frozenAt < 60_000) {
      const { lost } = await watch.check();
      rounds.push(lost);
      if (lost.length > 0) break;
      await new Promise((resolve) => setTimeout(resolve, LOCAL_WATCH.everyMs));
    }
    const seconds = (Date.now() - frozenAt) / 1000;
    assert.deepEqual(rounds[0], [], 'one missed probe is not a loss');
    assert.deepEqual(rounds.at(-1), [frozen.name], `rounds: ${JSON.stringify(rounds)}`);
    t.diagnostic(`frozen node lost after ${seconds} s, ${rounds.length} rounds`);
    // The policy takes ~6.5 s; a loaded 2-core machine stretches every probe. A frozen node is otherwise
    // never noticed, so any bound well under the watch loop's 60 s tells the difference.
    assert.ok(seconds <= 40, `frozen node noticed after ${seconds} s`);
  });
});

/** A RemoteShell cut off from every node while `cut.on` holds: each call fails as a connect timeout would. */
function cuttableShell(): RemoteShell & { cut: { on: boolean } } {
  const real = createRemoteShell();
  const cut = { on: false };
  return {
    ...real,
    cut,
    run: async (...args: Parameters<RemoteShell['run']>) => {
      if (cut.on) throw new Error(`connect ETIMEDOUT ${args[0].host}:22`);
      return real.run(...args);
    },
  };
}

/** A RemoteShell whose probes of one node stall (past any deadline) or are refused, as scripted, then answer. */
function flakyShell(node: string, script: Array<'stall' | 'refuse' | 'answer'>, stallMs: number): RemoteShell & { probes: number } {
  const real = createRemoteShell();
  const shell = {
    ...real,
    probes: 0,
    run: async (...args: Parameters<RemoteShell['run']>) => {
      const [target] = args;
      if (target.name !== node) return real.run(...args);
      shell.probes++;
      const next = script.shift();
      if (next === 'stall') await new Promise((resolve) => setTimeout(resolve, stallMs));
      if (next === 'refuse') throw new Error(`connect ECONNREFUSED ${target.host}:22`);
      return real.run(...args);
    },
  };
  return shell;
}

describe('node watch with probes that stall or are refused', () => {
  // Scaled down from the aws policy (3 misses over >= 30 s) so the test takes seconds.
  const policy: WatchPolicy = { probeTimeoutMs: 1000, everyMs: 200, missesToLose: 3, minWindowMs: 2000 };
  const stalledCtx = { clusterId: uniqueId('watch-flaky'), spec: parsed.spec };
  const stalledCluster = { clusterId: stalledCtx.clusterId, runName: stalledCtx.spec.name };
  let nodes: NodeRecord[];

  before(async () => {
    nodes = await testProvider.launchNodes({ cluster: stalledCluster, role: 'worker', names: ['worker-1', 'worker-2'] });
  });
  after(async () => {
    await testProvider.terminateNodes(stalledCluster);
    await testProvider.cleanup(stalledCluster);
  });

  async function rounds(watch: NodeWatch, count: number): Promise<string[][]> {
    const lost: string[][] = [];
    for (let i = 0; i < count; i++) {
      lost.push((await watch.check()).lost);
      await new Promise((resolve) => setTimeout(resolve, policy.everyMs));
    }
    return lost;
  }

  it('a healthy node whose probes stall for seconds twice (N = 2) is never lost', async () => {
    const shell = flakyShell('worker-1', ['stall', 'stall'], 3000);
    const started = Date.now();
    const seen = await rounds(new NodeWatch(testDeps({ remote: shell }), stalledCtx, nodes, undefined, policy), 5);
    assert.deepEqual(seen, [[], [], [], [], []]);
    assert.equal(shell.probes, 5);
    assert.ok(Date.now() - started >= 2 * policy.probeTimeoutMs, 'the stalled probes really waited out their deadline');
  });

  it('N + 1 = 3 consecutive stalled probes spanning the window make it lost, on the third', async () => {
    const shell = flakyShell('worker-1', ['stall', 'stall', 'stall'], 3000);
    const seen = await rounds(new NodeWatch(testDeps({ remote: shell }), stalledCtx, nodes, undefined, policy), 3);
    assert.deepEqual(seen, [[], [], ['worker-1']]);
  });

  it('quick refusals count only once they span the window; an answer in between starts the count again', async () => {
    // Two misses, an answer, then (once the first misses are older than the window) two more: counted
    // across the answer they would be 4 misses over > 2 s, a loss; restarted, they are 2.
    const interrupted = flakyShell('worker-1', ['refuse', 'refuse', 'answer', 'refuse', 'refuse'], 0);
    const interruptedWatch = new NodeWatch(testDeps({ remote: interrupted }), stalledCtx, nodes, undefined, policy);
    const beforeAnswer = await rounds(interruptedWatch, 3);
    await new Promise((resolve) => setTimeout(resolve, policy.minWindowMs));
    assert.deepEqual([...beforeAnswer, ...(await rounds(interruptedWatch, 2))], [[], [], [], [], []]);
    assert.equal(interrupted.probes, 5);

    const refusing = flakyShell('worker-1', Array<'refuse'>(100).fill('refuse'), 0);
    const watch = new NodeWatch(testDeps({ remote: refusing }), stalledCtx, nodes, undefined, policy);
    const started = Date.now();
    const seen = await rounds(watch, 3);
    assert.deepEqual(seen, [[], [], []], 'three misses within 0.6 s are not yet a loss');
    while ((await watch.check()).lost.length === 0) await new Promise((resolve) => setTimeout(resolve, policy.everyMs));
    assert.ok(Date.now() - started >= policy.minWindowMs, `lost after ${Date.now() - started} ms`);
  });

  it('when no node answers, the worker is the one cut off: nothing is lost however long it lasts, and it says since when', async () => {
    const shell = cuttableShell();
    const watch = new NodeWatch(testDeps({ remote: shell }), stalledCtx, nodes, undefined, policy);
    assert.deepEqual(await watch.check(), { lost: [], noticed: [] });
    shell.cut.on = true;
    const cutAt = Date.now();
    const seen: Array<{ lost: string[]; since: number | undefined }> = [];
    // Three times the loss window: with a quorum of none, misses alone never make a node lost.
    while (Date.now() - cutAt < 3 * policy.minWindowMs) {
      const health = await watch.check();
      seen.push({ lost: health.lost, since: health.unreachableSince });
      await new Promise((resolve) => setTimeout(resolve, policy.everyMs));
    }
    assert.ok(seen.length >= 5, `${seen.length} rounds`);
    assert.deepEqual(seen.map((r) => r.lost), seen.map(() => []), 'no node lost while none answers');
    const since = seen[0]?.since ?? 0;
    assert.ok(since >= cutAt && since < cutAt + 1000, 'the outage is dated from the first miss');
    assert.ok(seen.every((r) => r.since === since), 'one outage, one start');
    const oneOffStarted = Date.now();
    const oneOff = await checkNodes(testDeps({ remote: shell }), stalledCtx, nodes, undefined, policy);
    assert.deepEqual(oneOff.lost, []);
    assert.ok(oneOff.unreachableSince !== undefined, 'a one-off check says the worker is cut off');
    assert.ok(Date.now() - oneOffStarted < policy.minWindowMs, 'and returns at once instead of waiting for the network');
    shell.cut.on = false;
    assert.deepEqual(await watch.check(), { lost: [], noticed: [] }, 'back: the outage ends, nothing was lost');
  });

  it('a node that misses while another node of the cluster answers is lost, even when it is the only one watched', async () => {
    const dead = flakyShell('worker-2', Array<'refuse'>(100).fill('refuse'), 0);
    const [, worker2] = nodes;
    assert.ok(worker2);
    // replace-nodes and deliver-model watch only the node in question: the cluster's other nodes are the quorum.
    assert.deepEqual(await checkNodes(testDeps({ remote: dead }), stalledCtx, [worker2], undefined, policy), {
      lost: ['worker-2'],
      noticed: [],
    });
  });

  it('a one-off check probes a node in doubt until it answers or is lost', async () => {
    const flaky = flakyShell('worker-2', ['refuse', 'stall'], 3000);
    assert.deepEqual(await checkNodes(testDeps({ remote: flaky }), stalledCtx, nodes, undefined, policy), {
      lost: [],
      noticed: [],
    });
    assert.equal(flaky.probes, 3);

    const dead = flakyShell('worker-2', Array<'refuse'>(100).fill('refuse'), 0);
    const started = Date.now();
    assert.deepEqual(await checkNodes(testDeps({ remote: dead }), stalledCtx, nodes, undefined, policy), {
      lost: ['worker-2'],
      noticed: [],
    });
    assert.ok(Date.now() - started >= policy.minWindowMs);
  });
});
