// Takes the README's Web UI picture from a real run: the production worker (local provider, real nodes and
// training on the test lab) and a run started with `tuneforge start`, photographed mid-training on its User
// Metadata tab (summary, details, current details). Needs the dev server with its UI and Debian chromium:
//   TEMPORAL_ADDRESS=... TEMPORAL_UI_URL=http://localhost:<ui port> TUNEFORGE_TEST_LAB=... \
//     node build-test/test/helpers/readme-screenshot-main.js docs/images/web-ui-run.png
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DEFAULT_NAMESPACE, workflowUiUrl } from '../../src/common/names';
import { progressQuery } from '../../src/workflows/definitions';
import { openBrowser, UI_BASE } from './browser';
import { TEMPORAL_ADDRESS, testClient, uniqueId } from './temporal';
import { startWorkerProcess } from './worker-process';

const MAIN = resolve(__dirname, '../../src/client/main.js');
const SPEC = [
  'name: tiny-demo',
  'provider: local',
  'recipe: tiny-qa',
  'nodes: 3',
  'training:',
  '  maxSteps: 600',
  '  perDeviceBatchSize: 8',
  '  saveSteps: 200',
  '  seed: 42',
  'sanity:',
  '  maxSteps: 10',
  '',
].join('\n');

async function main(out: string): Promise<void> {
  const taskQueue = uniqueId('readme-queue');
  const workflowId = uniqueId('tiny-demo');
  const dir = await mkdtemp(join(tmpdir(), 'tuneforge-readme-'));
  const worker = await startWorkerProcess(taskQueue);
  const { client, close } = await testClient();
  try {
    await writeFile(join(dir, 'spec.yaml'), SPEC);
    const env = { ...process.env, TEMPORAL_ADDRESS, TEMPORAL_UI_URL: UI_BASE, TUNEFORGE_TASK_QUEUE: taskQueue };
    await new Promise<void>((done, fail) =>
      execFile(process.execPath, [MAIN, 'start', join(dir, 'spec.yaml'), '--id', workflowId], { env }, (err, stdout) => {
        process.stdout.write(stdout);
        if (err) fail(err);
        else done();
      }),
    );
    const handle = client.workflow.getHandle(workflowId);
    // Mid-training, once the workflow has seen two reports (a rate, so an ETA).
    for (let i = 0; ; i++) {
      const training = (await handle.query(progressQuery)).training;
      if (training?.stage === 'distributed-train' && training.step >= 150) break;
      if (i > 2400) throw new Error('the run never reached step 150 of distributed-train');
      await sleep(250);
    }
    const session = await openBrowser({ width: 1280, height: 800 });
    try {
      const { page } = session;
      page.setDefaultTimeout(20_000);
      await page.goto(workflowUiUrl(UI_BASE, DEFAULT_NAMESPACE, workflowId));
      await page.getByTestId('user-metadata-tab').click();
      await page.frameLocator('iframe#user-metadata-current-details').getByText('distributed-train').first().waitFor();
      await page.frameLocator('iframe#user-metadata-details').getByText('Recoveries allowed').waitFor();
      await page.screenshot({ path: out });
      console.log(`saved ${out} (${workflowId})`);
    } finally {
      await session.close();
    }
    await handle.result();
  } finally {
    await close();
    await worker.kill('SIGTERM');
    await rm(dir, { recursive: true, force: true });
  }
}

main(process.argv[2] ?? 'docs/images/web-ui-run.png').catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
