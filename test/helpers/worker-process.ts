// The real worker entrypoint as a child process, so tests can kill it like an operator's crash would.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { DEFAULT_NAMESPACE } from '../../src/common/names';
import { ensureSearchAttributes } from '../../src/worker/search-attributes';
import { TEMPORAL_ADDRESS, testClient } from './temporal';
import { TEST_LAB_ROOT } from './local-lab';

export interface WorkerProcess {
  child: ChildProcess;
  output: () => string;
  kill: (signal?: NodeJS.Signals) => Promise<void>;
}

const PRODUCTION_WORKER = join(__dirname, '..', '..', 'src', 'worker', 'main.js');

export async function startWorkerProcess(
  taskQueue: string,
  entry = PRODUCTION_WORKER,
  extraEnv: NodeJS.ProcessEnv = {},
): Promise<WorkerProcess> {
  // The production worker only checks the search attributes: the test acts as the operator (setup-namespace).
  const { connection, close } = await testClient();
  await ensureSearchAttributes(connection, DEFAULT_NAMESPACE).finally(close);
  const child = spawn(process.execPath, [entry], {
    env: {
      ...process.env,
      TEMPORAL_ADDRESS,
      TUNEFORGE_TASK_QUEUE: taskQueue,
      TUNEFORGE_LOCAL_ROOT: TEST_LAB_ROOT,
      TUNEFORGE_POLL_MS: '500',
      // The production reaper schedule outlives the test in the dev server's database and would sweep the
      // shared test lab every 15 minutes mid-suite; a test of the reaper turns it back on.
      TUNEFORGE_REAPER: 'off',
      ...extraEnv,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const deadline = Date.now() + 60_000;
  while (!output.includes('worker polling task queue')) {
    if (child.exitCode !== null) throw new Error(`worker exited early:\n${output}`);
    if (Date.now() > deadline) throw new Error(`worker did not start:\n${output}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    child,
    output: () => output,
    kill: async (signal = 'SIGKILL') => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill(signal);
      await once(child, 'exit');
    },
  };
}
