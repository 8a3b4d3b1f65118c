// The signal that tells the ranks to finish (spend or time cap) or to save and stop (spot notice): a node where
// it could not be sent is reported and sent again at the next watch, the nodes that have it are not signalled
// twice, and pkill's "no process matched" (the ranks there already ended) counts as delivered.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ActivityDeps } from '../src/activities/deps';
import { rankSignaller, type SignalFailure } from '../src/activities/rank-signals';
import type { RunContext } from '../src/activities/types';
import type { NodeRecord } from '../src/records/node-record';
import type { ExecResult, SshTarget } from '../src/remote/ssh-session';

function node(name: string): NodeRecord {
  return {
    name,
    role: name === 'a' ? 'master' : 'worker',
    providerId: name,
    address: `10.0.0.${name.charCodeAt(0)}`,
    privateAddress: '10.0.0.1',
    sshPort: 22,
    hostKey: 'ssh-ed25519 AAAA',
    state: 'running',
    instanceType: 'local',
    market: 'on-demand',
    launchedAt: '2026-12-06T00:00:00.000Z',
  };
}

/** What each node's next pkill does: an exit status, or an SSH error. */
type Outcome = number | Error;

function fakeDeps(plan: Record<string, Outcome[]>, calls: Array<[string, string]>): ActivityDeps {
  const remote = {
    async run(target: SshTarget, command: string): Promise<ExecResult> {
      calls.push([target.name, command]);
      const outcome = plan[target.name]?.shift() ?? 0;
      if (outcome instanceof Error) throw outcome;
      return { exitCode: outcome, stdout: '', stderr: outcome > 1 ? 'pkill: bad pattern' : '', truncated: false };
    },
  };
  const identity = { username: 'tuneforge', privateKey: Buffer.from('key'), keyPath: '/k' };
  return { providerFor: () => ({ sshIdentity: async () => identity }), remote } as unknown as ActivityDeps;
}

describe('rank signals', () => {
  const ctx = { clusterId: 'c', spec: {} } as unknown as RunContext;
  const nodes = ['a', 'b', 'c'].map(node);

  it('reports a failed send and sends it again to that node only, until every node has it', async () => {
    const calls: Array<[string, string]> = [];
    const failures: SignalFailure[] = [];
    const deps = fakeDeps({ a: [0], b: [new Error('connection reset'), 0], c: [2, 1] }, calls);
    const finish = rankSignaller(deps, ctx, nodes, 'USR2', (failure) => failures.push(failure));

    assert.deepEqual(await finish.sendPending(), ['b', 'c']);
    assert.deepEqual(
      failures.map((f) => [f.node, f.signal]),
      [
        ['b', 'USR2'],
        ['c', 'USR2'],
      ],
    );
    assert.match(failures[0]?.reason ?? '', /connection reset/);
    assert.match(failures[1]?.reason ?? '', /pkill exited 2: pkill: bad pattern/);

    assert.deepEqual(await finish.sendPending(), [], 'sent on retry; exit 1 (no rank left) counts as delivered');
    assert.deepEqual(
      calls.map(([name]) => name),
      ['a', 'b', 'c', 'b', 'c'],
      'a node that has the signal is not signalled again',
    );
    assert.deepEqual(await finish.sendPending(), []);
    assert.equal(calls.length, 5, 'nothing left to send');
    for (const [, command] of calls) {
      assert.match(command, /^pkill -USR2 -f '/);
      assert.doesNotMatch(command, /\|\| true/, 'a failure is not masked');
    }
    assert.equal(failures.length, 2);
  });
});
