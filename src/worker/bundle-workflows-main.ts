// Bundles the workflow code into the file named by argv[2]. Run as a short-lived child of the worker
// (workflow-bundle.ts) so that webpack's memory is never part of the long-lived worker process.
import { writeFile } from 'node:fs/promises';
import { bundleWorkflowCode, DefaultLogger, Runtime } from '@temporalio/worker';

async function run(): Promise<void> {
  const out = process.argv[2];
  if (!out) throw new Error('usage: bundle-workflows-main <output file>');
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const { code } = await bundleWorkflowCode({ workflowsPath: require.resolve('../workflows') });
  await writeFile(out, code, { mode: 0o600 });
}

run().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
