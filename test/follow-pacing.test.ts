// The real follower paces its progress reports (each one a signal: ~4 history events): a job on a real
// local node that logs a training step every 50 ms for ~6 s is reported a handful of times, not once per
// step or per poll. The pacer alone is tested in report-pacer.test.ts; this proves the follower uses it.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MockActivityEnvironment } from '@temporalio/testing';
import { followJob, type FollowResult } from '../src/activities/follow-job';
import type { NodeRecord } from '../src/providers/provider';
import { sshTarget } from '../src/remote/remote-shell';
import type { SshTarget } from '../src/remote/ssh-session';
import { validateRunSpec } from '../src/run-spec/validate';
import type { ProgressUpdate } from '../src/activities/deps';
import { testDeps, testProvider } from './helpers/local-lab';
import { uniqueId } from './helpers/temporal';

const STEPS = 120;
const parsed = validateRunSpec({ name: 'pacing', provider: 'local', recipe: 'tiny-qa', training: { maxSteps: 1 } });
assert.ok(parsed.ok);
const cluster = { clusterId: uniqueId('pacing'), runName: parsed.spec.name };

describe('the follower of a real job', () => {
  let target: SshTarget;
  before(async () => {
    const [master] = (await testProvider.launchNodes({ cluster, role: 'master', names: ['master'] })) as [NodeRecord];
    target = sshTarget(master, await testProvider.sshIdentity());
  });
  after(async () => {
    await testProvider.terminateNodes(cluster);
    await testProvider.cleanup(cluster);
  });

  it('reports progress at its pace, not on every step it reads', { timeout: 120_000 }, async () => {
    const reports: ProgressUpdate[] = [];
    const deps = testDeps({ pollIntervalMs: 100, reportProgress: async (_id, update) => void reports.push(update) });
    const line = `TUNEFORGE {\\"event\\":\\"step\\",\\"step\\":$i,\\"max_steps\\":${STEPS},\\"loss\\":1.5,\\"epoch\\":0.1,\\"learning_rate\\":0.001}`;
    const command = `for i in $(seq 1 ${STEPS}); do echo "${line}"; sleep 0.05; done`;
    const started = Date.now();
    const result: FollowResult = await new MockActivityEnvironment().run(() =>
      followJob(deps, target, {
        jobId: 'paced-1',
        command,
        stage: 'distributed-train',
        pace: { warmupMs: 60_000, warmupEveryMs: 2_000, steadyEveryMs: 60_000 },
      }),
    );
    const seconds = (Date.now() - started) / 1000;
    assert.equal(result.exitCode, 0);
    assert.equal(result.progress.step, STEPS, 'the follower read every step');
    // First poll, one every 2 s of the job's ~6+ s, and the exit: a follower reporting each step or poll
    // would send dozens.
    const most = Math.ceil(seconds / 2) + 2;
    assert.ok(reports.length >= 2 && reports.length <= most, `${reports.length} reports in ${seconds.toFixed(1)} s (at most ${most})`);
    assert.equal(reports.at(-1)?.step, STEPS, 'the last report is the job at its end');
  });
});

