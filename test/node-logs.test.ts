// Node logs into the store: what upload-logs writes (the commands run for real by bash in a node's home, a
// folder store), that secrets never reach it, and where the workflow calls it (fake activities): before
// teardown on success, failure and cancellation, and never in the way of the run's own outcome.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { uploadNodeLogs } from '../src/activities/upload-logs';
import { createFolderStore } from '../src/artifacts/folder-store';
import { redactSecrets } from '../src/artifacts/log-redaction';
import { FailureType } from '../src/common/errors';
import { WORKFLOW_TYPE } from '../src/common/names';
import { REMOTE } from '../src/recipes/remote-paths';
import type { RemoteShell } from '../src/remote/remote-shell';
import type { SshTarget } from '../src/remote/ssh-session';
import type { RunSummary } from '../src/workflows/definitions';
import { failingWith, fakeActivities, untilCancelled } from './helpers/fake-activities';
import { uniqueId, withWorker } from './helpers/temporal';

const HF_TOKEN = `hf_${'a1B2c3D4e5'.repeat(3)}`;
const AWS_KEY_ID = 'AKIAIOSFODNN7EXAMPLE';
const AWS_SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const WORKER_SECRET = 'the-workers-own-secret-value';

/** A "node" whose home is a folder here: commands run by bash in it, as SSH would run them there. */
function bashNode(home: string): RemoteShell {
  const exec = async (_target: SshTarget, command: string) => {
    const r = spawnSync('bash', ['-c', command], { cwd: home, encoding: 'utf8' });
    return { exitCode: r.status, stdout: r.stdout, stderr: r.stderr, truncated: false };
  };
  return {
    run: exec,
    check: async (target, command, options) => {
      const result = await exec(target, command);
      if (result.exitCode !== 0) throw new Error(`${options.label} failed: ${result.stderr}`);
      return result;
    },
    upload: async () => undefined,
    waitReady: async () => undefined,
  };
}

const target = (name: string): SshTarget => ({
  name,
  host: '127.0.0.1',
  port: 22,
  username: 'u',
  hostKey: 'k',
  privateKey: Buffer.from('p'),
});

function nodeHome(jobs: Record<string, string>): string {
  const home = mkdtempSync(join(tmpdir(), 'node-logs-home-'));
  for (const [job, log] of Object.entries(jobs)) {
    mkdirSync(join(home, REMOTE.jobs, job), { recursive: true });
    writeFileSync(join(home, REMOTE.jobs, job, 'log'), log);
  }
  return home;
}

describe('node logs in the store', () => {
  it('redacts hub tokens, AWS keys, named secrets and the worker secrets, and keeps the rest of each line', () => {
    const text = [
      `token ${HF_TOKEN} used`,
      `key id=${AWS_KEY_ID}`,
      `aws_secret_access_key = ${AWS_SECRET}`,
      `{"HF_TOKEN": "short"}`,
      `Authorization: Bearer abcdefgh12345678`,
      `said ${WORKER_SECRET}!`,
      '[1,0]<stdout>:TUNEFORGE {"event":"step","step":3,"loss":1.5}',
    ].join('\n');
    const out = redactSecrets(text, [WORKER_SECRET]);
    for (const secret of [HF_TOKEN, AWS_KEY_ID, AWS_SECRET, 'short', 'abcdefgh12345678', WORKER_SECRET])
      assert.ok(!out.includes(secret), `${secret} is gone: ${out}`);
    assert.deepEqual(out.split('\n'), [
      'token [redacted] used',
      'key id=[redacted]',
      'aws_secret_access_key = [redacted]',
      '{"HF_TOKEN": "[redacted]"}',
      'Authorization: Bearer [redacted]',
      'said [redacted]!',
      '[1,0]<stdout>:TUNEFORGE {"event":"step","step":3,"loss":1.5}',
    ]);
  });

  it("uploads the node's own jobs' logs to logs/<node>/<job>.log, redacted; uploading again overwrites the same keys", async () => {
    const home = nodeHome({
      'install-0123456789ab': 'pip install ok\n',
      'train-0': `[1,0]<stdout>:step 1\n[1,1]<stdout>:hub token ${HF_TOKEN}\n`,
      'train-0.old-1733540000000000000': 'first try\n',
      'Not A Job': 'ignored\n',
    });
    // The install log came with the image the node was launched from: written an hour before its launch.
    const launchedAt = new Date(Date.now() - 10_000).toISOString();
    const anHourAgo = new Date(Date.now() - 3_600_000);
    utimesSync(join(home, REMOTE.jobs, 'install-0123456789ab', 'log'), anHourAgo, anHourAgo);
    const root = mkdtempSync(join(tmpdir(), 'node-logs-store-'));
    const store = createFolderStore(root);
    const node = { remote: bashNode(home), target: target('worker-1') };
    const keys = await uploadNodeLogs(store, node, [WORKER_SECRET], { launchedAt });
    assert.deepEqual(keys, ['logs/worker-1/train-0.log', 'logs/worker-1/train-0.old-1733540000000000000.log']);
    assert.deepEqual(readdirSync(join(root, 'logs', 'worker-1')).sort(), ['train-0.log', 'train-0.old-1733540000000000000.log']);
    const train = readFileSync(join(root, 'logs/worker-1/train-0.log'), 'utf8');
    assert.equal(train, '[1,0]<stdout>:step 1\n[1,1]<stdout>:hub token [redacted]\n');
    // The job goes on writing: the next upload replaces the copy, and only the named job is read.
    writeFileSync(join(home, REMOTE.jobs, 'train-0', 'log'), `${train}[1,0]<stdout>:step 2 ${WORKER_SECRET}\n`);
    assert.deepEqual(await uploadNodeLogs(store, node, [WORKER_SECRET], ['train-0']), ['logs/worker-1/train-0.log']);
    assert.match(
      readFileSync(join(root, 'logs/worker-1/train-0.log'), 'utf8'),
      /step 1\n.*\n\[1,0\]<stdout>:step 2 \[redacted\]\n$/,
    );
    // A node without jobs has nothing to upload, and that is no error.
    const bare = { remote: bashNode(nodeHome({})), target: target('worker-2') };
    assert.deepEqual(await uploadNodeLogs(store, bare, [], { launchedAt }), []);
  });
});

const spec = { name: 'logs-test', provider: 'local', recipe: 'tiny-qa', nodes: 3, training: { maxSteps: 10 } };

function rootType(err: unknown): string | undefined {
  let current = err;
  while (current instanceof Error && current.cause) current = current.cause;
  return current instanceof ApplicationFailure ? (current.type ?? undefined) : undefined;
}

describe('upload-logs in the run workflow (fake activities)', () => {
  it('uploads the logs before teardown when training fails, with the run folder; the run keeps its own error', async () => {
    const uploads: Array<string | undefined> = [];
    const { activities, log } = fakeActivities({
      distributedTrain: failingWith(FailureType.TrainingFailed),
      uploadLogs: async (ctx) => {
        uploads.push(ctx.artifacts);
        throw ApplicationFailure.create({ type: 'StoreBroken', message: 'the store refused', nonRetryable: true });
      },
    });
    await withWorker(activities, async ({ client, taskQueue }) => {
      await assert.rejects(
        client.workflow.execute(WORKFLOW_TYPE, { taskQueue, workflowId: uniqueId('logs-failed'), args: [{ spec }] }),
        (err: unknown) => rootType(err) === FailureType.TrainingFailed,
      );
    });
    assert.deepEqual(log.calls.slice(-4), ['distributedTrain', 'uploadLogs', 'teardown', 'recordRun']);
    assert.deepEqual(uploads, ['file:///fake/artifacts/run/wf/']);
    assert.deepEqual(log.teardownInputs, [{ keepCluster: false, succeeded: false }]);
  });

  it('a failing upload never fails a run that succeeded', async () => {
    const { activities, log } = fakeActivities({ uploadLogs: failingWith('StoreBroken') });
    const summary = (await withWorker(activities, async ({ client, taskQueue }) =>
      client.workflow.execute(WORKFLOW_TYPE, { taskQueue, workflowId: uniqueId('logs-ok'), args: [{ spec }] }),
    )) as RunSummary;
    assert.equal(summary.artifacts.model, 'file:///fake/artifacts/run/wf/model/');
    assert.deepEqual(log.calls.slice(-3), ['uploadLogs', 'teardown', 'recordRun']);
  });

  it('a cancelled run uploads its logs before teardown too; a run that launched no node uploads none', async () => {
    const { activities, log } = fakeActivities({ distributedTrain: () => untilCancelled() });
    await withWorker(activities, async ({ client, taskQueue }) => {
      const handle = await client.workflow.start(WORKFLOW_TYPE, {
        taskQueue,
        workflowId: uniqueId('logs-cancel'),
        args: [{ spec }],
      });
      while (!log.calls.includes('distributedTrain')) await sleep(100);
      await handle.cancel();
      await assert.rejects(handle.result());
    });
    assert.deepEqual(log.calls.slice(-3), ['uploadLogs', 'teardown', 'recordRun']);
    const early = fakeActivities({ provisionMaster: failingWith(FailureType.CapacityUnavailable) });
    await withWorker(early.activities, async ({ client, taskQueue }) => {
      await assert.rejects(
        client.workflow.execute(WORKFLOW_TYPE, { taskQueue, workflowId: uniqueId('logs-none'), args: [{ spec }] }),
      );
    });
    assert.ok(!early.log.calls.includes('uploadLogs'), `no node, no upload: ${early.log.calls.join(', ')}`);
  });
});
