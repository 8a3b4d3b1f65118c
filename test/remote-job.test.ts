// Detached jobs on a real node, polled while they exit: a job that ended is never mistaken for one that
// vanished, however its exit falls between the poll's looks (a CI run once failed on exactly that).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { pollJob, startOrAttach } from '../src/remote/remote-job';
import { createRemoteShell, sshTarget } from '../src/remote/remote-shell';
import type { SshTarget } from '../src/remote/ssh-session';
import { testProvider } from './helpers/local-lab';
import { uniqueId } from './helpers/temporal';

const cluster = { clusterId: uniqueId('jobs'), runName: 'jobs-test' };
const remote = createRemoteShell();
const JOBS = 24;

describe('remote jobs', () => {
  let target: SshTarget;

  before(async () => {
    const [master] = await testProvider.launchNodes({ cluster, role: 'master', names: ['master'] });
    assert.ok(master);
    target = sshTarget(master, await testProvider.sshIdentity());
  });
  after(async () => {
    await testProvider.terminateNodes(cluster);
    await testProvider.cleanup(cluster);
  });

  it('jobs exiting while they are polled end as exited with their code, never vanished', async () => {
    const states: string[] = [];
    for (const round of [0, 1, 2])
      await Promise.all(
        Array.from({ length: JOBS }, async (_, i) => {
          const jobId = `exit-${round}-${i}`;
          // Exits spread over the first half second, while polls run back to back.
          await startOrAttach(remote, target, jobId, `sleep 0.${String(i * 4).padStart(2, '0')}; exit ${i % 3}`);
          for (;;) {
            const poll = await pollJob(remote, target, jobId, 0);
            if (poll.state.kind === 'running') continue;
            states.push(poll.state.kind === 'exited' ? `exited ${poll.state.exitCode}` : `${jobId} vanished`);
            if (poll.state.kind === 'exited') assert.equal(poll.state.exitCode, i % 3);
            return;
          }
        }),
      );
    assert.deepEqual(
      states.filter((s) => s.includes('vanished')),
      [],
    );
    assert.equal(states.length, 3 * JOBS);
  });

  it('a job whose process is gone without an exit status is vanished', async () => {
    await startOrAttach(remote, target, 'killed', 'sleep 30');
    await remote.check(target, 'kill -9 -- -$(cat tuneforge/jobs/killed/pid)', { label: 'kill the job group' });
    let state = 'running';
    for (let i = 0; i < 50 && state === 'running'; i++) state = (await pollJob(remote, target, 'killed', 0)).state.kind;
    assert.equal(state, 'vanished');
  });
});
