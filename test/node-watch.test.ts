// The node watch on real local nodes: a killed node is lost, but a node that presents the wrong host key
// or refuses our key is not replaced: the watch fails with that failure's own type.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { checkNodes } from '../src/activities/node-watch';
import { FailureType } from '../src/common/errors';
import type { NodeRecord, Provider } from '../src/providers/provider';
import { validateRunSpec } from '../src/spec/validate';
import { testDeps, testLabProvider, testProvider } from './helpers/local-lab';
import { uniqueId } from './helpers/temporal';

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
});
