import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { prepareRun, startRun } from '../src/client/commands/start';
import { clientSettings } from '../src/client/connection';
import { packageRoot } from '../src/common/package-root';
import { testClient, uniqueId } from './helpers/temporal';

test('a started run carries a static summary and details for the Web UI', async () => {
  const { client, close } = await testClient();
  // An unpolled queue: the run only needs to exist.
  const settings = { ...clientSettings(), taskQueue: uniqueId('unpolled') };
  try {
    const run = await startRun(
      client,
      settings,
      await prepareRun(join(packageRoot(), 'examples/local-tiny.yaml'), uniqueId('metadata')),
    );
    const handle = client.workflow.getHandle(run.workflowId);
    const description = await handle.describe();
    assert.equal(await description.staticSummary(), 'tiny-demo: tiny-qa on local, 3 nodes, 40 steps');
    assert.match(
      (await description.staticDetails()) ?? '',
      /\| Training \| 40 steps, batch 8\/rank, checkpoint every 10 steps \|/,
    );
    await handle.terminate('test done');
  } finally {
    await close();
  }
});
