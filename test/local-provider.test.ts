import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { after, describe, it } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../src/common/errors';
import { createRemoteShell, sshTarget } from '../src/remote/remote-shell';
import { liveNodeProcesses, testProvider, TEST_LAB_ROOT } from './helpers/local-lab';
import { uniqueId } from './helpers/temporal';

const remote = createRemoteShell();
const cluster = { clusterId: uniqueId('provider'), runName: 'provider-test' };

async function run(node: Parameters<typeof sshTarget>[0], command: string): Promise<string> {
  const identity = await testProvider.sshIdentity();
  const result = await remote.check(sshTarget(node, identity), command, { label: 'test command' });
  return result.stdout.trim();
}

describe('local provider', () => {
  after(async () => {
    await testProvider.cleanup(cluster);
  });

  it('launches a master that answers SSH as ubuntu, in its own namespaces', async () => {
    const [master] = await testProvider.launchNodes({ cluster, role: 'master', names: ['master'] });
    assert.ok(master);
    assert.equal(master.state, 'running');
    assert.match(master.address, /^127\.0\.\d+\.10$/);
    assert.match(master.hostKey, /^ssh-ed25519 /);
    const out = await run(master, 'hostname; id -un; echo $HOME; ls /var/lib/tuneforge 2>&1 | wc -l; mount | grep -c " /tmp "');
    const [hostname, user, home] = out.split('\n');
    assert.equal(hostname, 'master');
    assert.equal(user, 'ubuntu');
    assert.equal(home, '/home/ubuntu');
    const labListing = await run(master, `ls ${TEST_LAB_ROOT} | wc -l`);
    assert.equal(labListing, '0', "a node must not see the lab folder (other nodes' homes, keys)");
  });

  it('adopts a running node instead of launching it twice', async () => {
    const first = await testProvider.listNodes(cluster);
    const again = await testProvider.launchNodes({ cluster, role: 'master', names: ['master'] });
    assert.deepEqual(again, first);
    assert.equal(await liveNodeProcesses(cluster.clusterId), 1);
  });

  it('launches workers from a baked image, each with its own writable home', async () => {
    const [master] = await testProvider.listNodes(cluster);
    assert.ok(master);
    await run(master, 'echo baked > before-bake.txt');
    const fingerprint = Buffer.from(cluster.clusterId).toString('hex').slice(0, 32).padEnd(32, '0');
    const image = await testProvider.bakeImage(cluster, master, fingerprint);
    assert.deepEqual(await testProvider.bakeImage(cluster, master, fingerprint), image, 'a second bake reuses the image');
    assert.deepEqual(await testProvider.findImage(fingerprint), image);
    await run(master, 'echo later > after-bake.txt');
    const workers = await testProvider.launchNodes({ cluster, role: 'worker', names: ['worker-1', 'worker-2'], image });
    assert.equal(workers.length, 2);
    const [w1, w2] = workers;
    assert.ok(w1 && w2);
    assert.equal(await run(w1, 'cat before-bake.txt; test -f after-bake.txt && echo leaked || echo absent'), 'baked\nabsent');
    await run(w1, 'echo mine > only-w1.txt');
    assert.equal(await run(w2, 'test -f only-w1.txt && echo shared || echo private'), 'private');
    assert.equal(await run(w2, 'getent hosts master worker-1 worker-2 | wc -l'), '3');
    assert.equal(await liveNodeProcesses(cluster.clusterId), 3);
  });

  it('refuses a node whose host key differs from the pinned one', async () => {
    const [master, w1] = await testProvider.listNodes(cluster);
    assert.ok(master && w1);
    const identity = await testProvider.sshIdentity();
    const wrong = sshTarget({ ...master, hostKey: w1.hostKey }, identity);
    await assert.rejects(
      remote.run(wrong, 'true', { label: 'x' }),
      (err: unknown) => err instanceof ApplicationFailure && err.type === FailureType.HostKeyMismatch,
    );
  });

  it('terminates named nodes, then the rest, leaving no process', async () => {
    await testProvider.terminateNodes(cluster, ['worker-2']);
    assert.deepEqual((await testProvider.listNodes(cluster)).map((n) => n.name).sort(), ['master', 'worker-1']);
    assert.equal(await liveNodeProcesses(cluster.clusterId), 2);
    await testProvider.terminateNodes(cluster);
    assert.equal(await liveNodeProcesses(cluster.clusterId), 0);
    assert.deepEqual(await testProvider.listNodes(cluster), []);
  });

  it('finds and kills a node whose record was lost (a crash between start and record)', async () => {
    await testProvider.launchNodes({ cluster, role: 'master', names: ['master'] });
    await rm(`${TEST_LAB_ROOT}/clusters/${cluster.clusterId}/nodes/master/node.json`);
    assert.equal(await liveNodeProcesses(cluster.clusterId), 1);
    await testProvider.terminateNodes(cluster);
    assert.equal(await liveNodeProcesses(cluster.clusterId), 0);
  });
});
