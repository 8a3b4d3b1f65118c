// The CLI run as a user runs it, as child processes against a real Temporal server and a worker with fake
// activities (fast): start --follow, status --json and cancel, each with its documented exit code.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Context } from '@temporalio/activity';
import { EXIT } from '../src/client/exit-codes';
import { packageRoot } from '../src/common/package-root';
import { fakeActivities } from './helpers/fake-activities';
import { TEMPORAL_ADDRESS, uniqueId, withWorker } from './helpers/temporal';

const MAIN = resolve(__dirname, '../src/client/main.js');
const SPEC = join(packageRoot(), 'examples/local-tiny.yaml');

function cliEnv(taskQueue: string): NodeJS.ProcessEnv {
  return { ...process.env, TEMPORAL_ADDRESS, TUNEFORGE_TASK_QUEUE: taskQueue, NO_COLOR: '1' };
}

/** Runs the CLI without blocking this process: the worker under test lives in it and must keep answering. */
function tuneforge(taskQueue: string, ...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [MAIN, ...args], { env: cliEnv(taskQueue) });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (status) => done({ status, stdout, stderr }));
  });
}

describe('the CLI as a child process', { timeout: 5 * 60_000 }, () => {
  it('start --follow prints the steps and the summary and exits 0; status --json says completed', async () => {
    const { activities } = fakeActivities();
    const id = uniqueId('cli-follow');
    await withWorker(activities, async ({ taskQueue }) => {
      const started = await tuneforge(taskQueue, 'start', SPEC, '--id', id, '--follow');
      assert.equal(started.status, EXIT.ok, started.stdout);
      assert.match(started.stdout, new RegExp(`Started run ${id}`));
      assert.match(started.stdout, /distributed-train done/);
      assert.match(started.stdout, /Model: +file:\/\/\/fake\/artifacts\/run\/wf\/model\//);
      assert.match(started.stdout, /Scaling efficiency: +n\/a \(local nodes share this machine's CPUs\)/);
      const status = await tuneforge(taskQueue, 'status', id, '--json');
      assert.equal(status.status, EXIT.ok, status.stderr);
      const parsed = JSON.parse(status.stdout) as { status: string; progress?: { stage: string } };
      assert.equal(parsed.status, 'COMPLETED');
      assert.equal(parsed.progress?.stage, 'completed');
    });
  });

  it('cancel stops a running run: the follower exits 4 after teardown; status of an unknown id exits 5', async () => {
    const { activities, log } = fakeActivities({
      // A training step that runs until it is cancelled, heartbeating like the real one.
      distributedTrain: async () => {
        const ctx = Context.current();
        for (;;) {
          ctx.heartbeat();
          await ctx.sleep(200);
        }
      },
    });
    const id = uniqueId('cli-cancel');
    await withWorker(activities, async ({ taskQueue }) => {
      const follower = spawn(process.execPath, [MAIN, 'start', SPEC, '--id', id, '--follow'], { env: cliEnv(taskQueue) });
      let output = '';
      follower.stdout.on('data', (d: Buffer) => (output += d.toString()));
      follower.stderr.on('data', (d: Buffer) => (output += d.toString()));
      const exited = new Promise<number | null>((done) => follower.on('close', done));
      for (let i = 0; i < 200 && !output.includes('distributed-train started'); i++) await sleep(100);
      assert.match(output, /distributed-train started/);
      const cancel = await tuneforge(taskQueue, 'cancel', id);
      assert.equal(cancel.status, EXIT.ok, cancel.stderr);
      assert.equal(await exited, EXIT.runCancelled, output);
      assert.ok(log.calls.includes('teardown'), 'teardown ran before the run ended');
      assert.equal((await tuneforge(taskQueue, 'status', 'no-such-run-here')).status, EXIT.notFound);
    });
  });
});
