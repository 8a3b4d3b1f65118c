// A booted node the worker cannot reach: EC2's reachability check passes (moto reports it ok) while the
// node's SSH port swallows connections, as a security group whose range misses the worker, a NAT or a
// firewall does. The run must fail NodeUnreachable after the configured delay, naming the group's range,
// instead of waiting out the 30-minute SSH budget of a metal boot.
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { DescribeInstanceStatusCommandOutput } from '@aws-sdk/client-ec2';
import { MockActivityEnvironment } from '@temporalio/testing';
import { ApplicationFailure } from '@temporalio/common';
import { SshWait } from '../src/activities/ssh-wait';
import type { RunContext } from '../src/activities/types';
import { FailureType } from '../src/common/errors';
import type { NodeRecord } from '../src/providers/provider';
import { validateRunSpec } from '../src/run-spec/validate';
import { testDeps } from './helpers/local-lab';
import {
  createHarness,
  motoUnavailableReason,
  startMoto,
  TEST_SSH_CIDR,
  type MotoHarness,
  type MotoServer,
} from './helpers/moto';

/** Accepts TCP connections and never says a word: SSH's banner never comes, as behind a dropping firewall. */
async function silentPort(): Promise<{ port: number; server: Server; sockets: Socket[] }> {
  const sockets: Socket[] = [];
  const server = createServer((socket) => sockets.push(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return { port: typeof address === 'object' && address !== null ? address.port : 0, server, sockets };
}

function runContext(h: MotoHarness): RunContext {
  const parsed = validateRunSpec({
    name: 'unreachable-test',
    provider: 'aws',
    recipe: 'tiny-qa',
    nodes: 2,
    artifacts: 's3://unreachable-test/runs',
    training: { maxSteps: 2 },
    aws: h.settings,
  });
  assert.ok(parsed.ok);
  return { clusterId: h.cluster.clusterId, spec: parsed.spec };
}

describe('a booted node the worker cannot reach', { skip: motoUnavailableReason() }, () => {
  let moto: MotoServer;
  let silent: Awaited<ReturnType<typeof silentPort>>;

  before(async () => {
    moto = await startMoto();
    silent = await silentPort();
  });
  after(async () => {
    for (const socket of silent.sockets) socket.destroy();
    silent.server.close();
    await moto.stop();
  });

  async function bootedMaster(h: MotoHarness): Promise<NodeRecord> {
    await h.provider.bootstrap(h.cluster);
    const [master] = await h.provider.launchNodes({ cluster: h.cluster, role: 'master', names: ['master'] });
    assert.ok(master);
    assert.equal(master.instanceType, 'r7iz.metal-16xl', 'a metal node: 30 min of SSH budget');
    return { ...master, address: '127.0.0.1', sshPort: silent.port };
  }

  test(
    'fails NodeUnreachable a few seconds after EC2 says reachable, naming the group range and the causes',
    { timeout: 60_000 },
    async () => {
      const h = createHarness(moto);
      const master = await bootedMaster(h);
      const deps = testDeps({ providerFor: () => h.regionProvider, unreachable: { afterMs: 2000, pollMs: 250 } });
      const started = Date.now();
      await assert.rejects(
        new MockActivityEnvironment().run(() => new SshWait(deps, runContext(h), 'provision-master').untilReady([master])),
        (err: unknown) => {
          assert.ok(err instanceof ApplicationFailure, String(err));
          assert.equal(err.type, FailureType.NodeUnreachable);
          assert.equal(err.nonRetryable, true);
          assert.match(err.message, /master \(127\.0\.0\.1:\d+\) passed EC2's reachability check/);
          assert.ok(err.message.includes(`SSH range ${TEST_SSH_CIDR}`), err.message);
          assert.match(err.message, /NAT or firewall/);
          assert.match(err.message, /no public IP/);
          assert.equal((err.details?.[0] as { sshCidr?: string }).sshCidr, TEST_SSH_CIDR, 'read from the security group');
          return true;
        },
      );
      const tookMs = Date.now() - started;
      assert.ok(tookMs >= 2000 && tookMs < 15_000, `failed after ${tookMs} ms (delay 2 s, poll 250 ms)`);
      assert.ok(silent.sockets.length > 0, 'the worker did try the node');
    },
  );

  test(
    'while EC2 has not passed reachability yet, the boot wait goes on (a slow metal boot is not unreachable)',
    { timeout: 60_000 },
    async () => {
      const h = createHarness(moto);
      const master = await bootedMaster(h);
      h.faults.rewrites.push((command, output) => {
        if (command !== 'DescribeInstanceStatus') return;
        for (const status of (output as DescribeInstanceStatusCommandOutput).InstanceStatuses ?? []) {
          status.InstanceStatus = { Status: 'initializing', Details: [{ Name: 'reachability', Status: 'initializing' }] };
        }
      });
      const deps = testDeps({ providerFor: () => h.regionProvider, unreachable: { afterMs: 1000, pollMs: 200 } });
      const env = new MockActivityEnvironment();
      const cancel = setTimeout(() => env.cancel(), 5000);
      const outcome = await env
        .run(() => new SshWait(deps, runContext(h), 'provision-master').untilReady([master]))
        .then(
          () => 'answered',
          (err: unknown) => (err instanceof ApplicationFailure ? err.type : 'cancelled'),
        );
      clearTimeout(cancel);
      assert.equal(outcome, 'cancelled', 'still waiting after 5 s (5x the delay): only the cancel ended it');
    },
  );
});
