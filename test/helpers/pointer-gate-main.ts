// A process that runs the promotion gate once per value given, one after the other, against one name's
// folder in a store (file:// or s3:// with AWS_ENDPOINT_URL_S3): the pointer tests race two of these.
// Prints one JSON line per decision.
import { promoteInStore } from '../../src/activities/promote-model';
import { createStoreOpener } from '../../src/artifacts/open-store';

async function main(): Promise<void> {
  const [uri, writer, ...values] = process.argv.slice(2);
  if (!uri || !writer) throw new Error('usage: pointer-gate-main <name folder uri> <writer> <value>...');
  const store = createStoreOpener()(uri, 'us-east-1');
  const gate = { metric: 'f1' as const, min: 0, beatCurrent: true };
  for (const value of values.map(Number)) {
    const workflowId = `${writer}-${value}`;
    const decision = await promoteInStore(store, { workflowId, gate, value, modelUri: `${uri}${workflowId}/model/` }, () =>
      new Date().toISOString(),
    );
    process.stdout.write(`${JSON.stringify({ workflowId, ...decision })}\n`);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${String(err)}\n`);
  process.exitCode = 1;
});
