// The worker's workflow code comes from a child process (webpack never loads in the worker): the code
// it returns is a bundle that defines tuneforge's workflows, and the worker process never required webpack.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { WORKFLOW_TYPE } from '../src/common/names';
import { bundleInChildProcess } from '../src/worker/workflow-bundle';

test('the workflow bundle is built by a child process and defines the fineTune workflow', async () => {
  const before = Object.keys(require.cache).filter((p) => p.includes('/node_modules/webpack/'));
  const { code } = await bundleInChildProcess();
  assert.ok(code.length > 10_000, `bundle of ${code.length} bytes`);
  assert.match(code, new RegExp(`\\b${WORKFLOW_TYPE}\\b`));
  assert.match(code, /__TEMPORAL__/);
  const after = Object.keys(require.cache).filter((p) => p.includes('/node_modules/webpack/'));
  assert.deepEqual(after, before, 'webpack was loaded into this process');
});
