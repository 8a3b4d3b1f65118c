// A worker process for the chaos suite: the real activities on the test lab (testDeps), each wrapped so
// the suite can crash this process in the middle of a chosen step, and see when each step starts.
//
//   TEMPORAL_ADDRESS, TUNEFORGE_TASK_QUEUE  where to poll
//   TUNEFORGE_TEST_LAB                      the local provider's lab root (read by test/helpers/local-lab)
//   CHAOS_WORKFLOW_BUNDLE                   a pre-built workflow bundle (else the workflows are bundled here)
//   CHAOS_KILL_ACTIVITY, CHAOS_FLAG, CHAOS_KILL_AFTER_MS
//       when that activity starts and the flag file exists: remove the flag, then SIGKILL this process
//       CHAOS_KILL_AFTER_MS later, or as soon as the activity's work ends if that comes first (so the kill
//       always lands while the step is in flight: its result is never reported). What happened is
//       written to `<flag>.killed` first.
//   CHAOS_KILL_TRIGGER                      instead of the delay: kill as soon as this file exists (the suite
//       creates it when the step has reached the moment it wants, e.g. training past a checkpoint)
//   CHAOS_STARTED_DIR                       every activity start appends a JSON line to `<dir>/<activity>`
//
// Prints "chaos worker polling task queue <name>" once it polls.
import { appendFileSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Context } from '@temporalio/activity';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { createActivities } from '../../src/activities';
import { DEFAULT_NAMESPACE } from '../../src/common/names';
import { ensureSearchAttributes } from '../../src/worker/search-attributes';
import { trainingProgressSignal } from '../../src/workflows/definitions';
import { testDeps } from '../helpers/local-lab';
import { READY_LINE, type KillRecord, type StartRecord } from './protocol';

const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};

type AnyActivity = (...args: unknown[]) => Promise<unknown>;

function wrapActivities<T extends object>(activities: T): T {
  const killActivity = process.env.CHAOS_KILL_ACTIVITY;
  const flag = process.env.CHAOS_FLAG;
  const killAfterMs = Number(process.env.CHAOS_KILL_AFTER_MS ?? '0');
  const killTrigger = process.env.CHAOS_KILL_TRIGGER;
  const startedDir = process.env.CHAOS_STARTED_DIR;
  if (startedDir) mkdirSync(startedDir, { recursive: true });
  const wrapped: Record<string, AnyActivity> = {};
  for (const [name, fn] of Object.entries(activities) as Array<[string, AnyActivity]>) {
    wrapped[name] = async (...args: unknown[]) => {
      const attempt = Context.current().info.attempt;
      if (startedDir) {
        const record: StartRecord = { activity: name, attempt, at: Date.now(), pid: process.pid };
        appendFileSync(join(startedDir, name), `${JSON.stringify(record)}\n`);
      }
      if (name !== killActivity || !flag || !existsSync(flag)) return fn(...args);
      rmSync(flag, { force: true });
      const startedAt = Date.now();
      const die = (mode: KillRecord['mode']): never => {
        const record: KillRecord = {
          activity: name,
          attempt,
          mode,
          afterMs: Date.now() - startedAt,
          at: Date.now(),
          pid: process.pid,
        };
        writeFileSync(`${flag}.killed`, `${JSON.stringify(record)}\n`);
        process.kill(process.pid, 'SIGKILL');
        throw new Error('unreachable: SIGKILL did not end the process');
      };
      if (killTrigger) {
        setInterval(() => {
          if (existsSync(killTrigger)) die('trigger');
        }, 50);
      } else {
        setTimeout(() => die('timer'), killAfterMs);
      }
      try {
        await fn(...args);
      } catch {
        // The kill below happens either way: the step's outcome must never reach the server.
      }
      return die('work-done');
    };
  }
  return wrapped as T;
}

async function run(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('INFO') });
  const address = env('TEMPORAL_ADDRESS');
  const taskQueue = env('TUNEFORGE_TASK_QUEUE');
  const connection = await NativeConnection.connect({ address });
  const clientConnection = await Connection.connect({ address });
  await ensureSearchAttributes(clientConnection, DEFAULT_NAMESPACE);
  const client = new Client({ connection: clientConnection, namespace: DEFAULT_NAMESPACE });
  const deps = testDeps({
    reportProgress: async (workflowId, update) => {
      await client.workflow.getHandle(workflowId).signal(trainingProgressSignal, update);
    },
  });
  const bundlePath = process.env.CHAOS_WORKFLOW_BUNDLE;
  const worker = await Worker.create({
    connection,
    namespace: DEFAULT_NAMESPACE,
    taskQueue,
    ...(bundlePath ? { workflowBundle: { codePath: bundlePath } } : { workflowsPath: require.resolve('../../src/workflows') }),
    activities: wrapActivities(createActivities(deps)),
    shutdownGraceTime: '5 seconds',
  });
  console.log(`${READY_LINE} ${taskQueue} on ${address} (pid ${process.pid})`);
  try {
    await worker.run();
  } finally {
    await connection.close();
    await clientConnection.close();
  }
}

if (require.main === module) {
  run().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
