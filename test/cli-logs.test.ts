// `tuneforge logs` as a user runs it (the built CLI, its own process) against a run whose folder store holds
// node logs as upload-logs writes them: --follow prints what arrives until the run ends (the last upload
// included), --node and --rank pick, and an unknown run, a run without logs, an unknown node or rank each
// exit with "not found" and one clear line.
import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { Context } from '@temporalio/activity';
import { EXIT } from '../src/client/exit-codes';
import { WORKFLOW_TYPE } from '../src/common/names';
import { SEARCH_ATTRIBUTES } from '../src/common/search-attributes';
import { jsonError, runCli } from './helpers/cli-json';
import { FAKE_TRAIN_RESULT, fakeActivities } from './helpers/fake-activities';
import { uniqueId, withWorker } from './helpers/temporal';

const spec = { name: 'cli-logs', provider: 'local', recipe: 'tiny-qa', nodes: 3, training: { maxSteps: 10 } };

const TRAIN_LOG = [
  '[1,0]<stdout>:TUNEFORGE {"event":"start","world_size":3}',
  '[1,1]<stdout>:rank one says hello',
  '[1,2]<stderr>:rank two warns',
  '[1,0]<stdout>:step 1 loss 5.0',
  '',
].join('\n');

describe('tuneforge logs (built CLI, dev server, folder store)', { timeout: 5 * 60_000 }, () => {
  it('follows a run to its end, then prints, picks and refuses as asked', async () => {
    const run = join(mkdtempSync(join(tmpdir(), 'cli-logs-')), 'run');
    const logs = join(run, 'logs');
    let release = false;
    const { activities } = fakeActivities({
      prepareArtifacts: async () => ({ uri: `file://${run}/` }),
      distributedTrain: async () => {
        while (!release) {
          Context.current().heartbeat();
          await sleep(100);
        }
        return FAKE_TRAIN_RESULT;
      },
      // The last upload, before teardown: --follow must still print it.
      uploadLogs: async () => {
        appendFileSync(join(logs, 'master', 'train-0.log'), '[1,0]<stdout>:the final upload\n');
        return { uploaded: [], skipped: [] };
      },
    });
    await withWorker(activities, async ({ client, taskQueue }) => {
      const tuneforge = (...args: string[]) => runCli(taskQueue, args);
      const id = uniqueId('cli-logs');
      const handle = await client.workflow.start(WORKFLOW_TYPE, { taskQueue, workflowId: id, args: [{ spec }] });
      await waitFor(async () => (await handle.describe()).typedSearchAttributes.get(SEARCH_ATTRIBUTES.artifacts) !== undefined);

      const none = await tuneforge('logs', id);
      assert.equal(none.status, EXIT.notFound, none.stderr);
      assert.match(none.stderr, new RegExp(`^tuneforge: run ${id} has no logs yet`));
      assert.equal(jsonError(await tuneforge('logs', id, '--json')).code, 'LogsNotFound');

      mkdirSync(join(logs, 'master'), { recursive: true });
      mkdirSync(join(logs, 'worker-1'), { recursive: true });
      writeFileSync(join(logs, 'master', 'train-0.log'), TRAIN_LOG);
      writeFileSync(join(logs, 'worker-1', 'install-0123456789ab.log'), 'pip: installed\n');
      const following = tuneforge('logs', id, '--follow', '--node', 'master', '--interval', '200');
      await sleep(1500);
      appendFileSync(join(logs, 'master', 'train-0.log'), '[1,0]<stdout>:step 2 loss 4.0\n');
      await sleep(1000);
      release = true;
      const followed = await following;
      assert.equal(followed.status, EXIT.ok, followed.stderr);
      assert.equal((await handle.describe()).status.name, 'COMPLETED', 'followed until the run ended');
      const lines = TRAIN_LOG.split('\n').slice(0, -1);
      assert.equal(
        followed.stdout,
        ['==> master/train-0 <==', ...lines, '[1,0]<stdout>:step 2 loss 4.0', '[1,0]<stdout>:the final upload', ''].join('\n'),
      );

      const all = await tuneforge('logs', id);
      assert.equal(all.status, EXIT.ok, all.stderr);
      assert.match(
        all.stdout,
        /^==> master\/train-0 <==\n\[1,0\][^]*the final upload\n\n==> worker-1\/install-0123456789ab <==\npip: installed\n$/,
      );
      const worker = await tuneforge('logs', id, '--node', 'worker-1');
      assert.equal(worker.stdout, 'pip: installed\n');
      const rank = await tuneforge('logs', id, '--rank', '1');
      assert.equal(rank.stdout, 'rank one says hello\n');
      const two = await tuneforge('logs', id, '--rank', '2', '--json');
      const parsed = JSON.parse(two.stdout) as { logs: Array<{ node: string; job: string; lines: string[] }> };
      assert.deepEqual(
        parsed.logs.map((l) => [l.node, l.job, l.lines]),
        [['master', 'train-0', ['rank two warns']]],
      );

      const unknownNode = await tuneforge('logs', id, '--node', 'worker-9');
      assert.equal(unknownNode.status, EXIT.notFound);
      assert.equal(
        unknownNode.stderr.trim(),
        `tuneforge: run ${id} has no logs of node worker-9; nodes with logs: master, worker-1`,
      );
      const followUnknown = await tuneforge('logs', id, '--follow', '--node', 'worker-9');
      assert.deepEqual(
        [followUnknown.status, followUnknown.stdout],
        [EXIT.notFound, ''],
        'an ended run has no more nodes to wait for',
      );
      assert.equal((await tuneforge('logs', id, '--rank', '7')).status, EXIT.notFound);
      assert.equal((await tuneforge('logs', id, '--rank', 'one')).status, EXIT.invalidInput);
      const unknownRun = jsonError(await tuneforge('logs', uniqueId('no-such-run'), '--json'));
      assert.deepEqual([unknownRun.code, unknownRun.exitCode], ['WorkflowNotFound', EXIT.notFound]);
    });
  });
});

async function waitFor(check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 150; i++) {
    if (await check()) return;
    await sleep(200);
  }
  assert.fail('the run never got its artifact folder');
}
