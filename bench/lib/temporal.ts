// The Temporal side of the bench: a worker as its own process (the production entrypoint, or the scale
// bench's), a client, and one run timed from start to result.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, mkdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { tsToMs } from '@temporalio/common/lib/time';
import { WORKFLOW_TYPE } from '../../src/common/names';
import type { RunSpecInput } from '../../src/run-spec/schema';
import type { RunSummary } from '../../src/workflows/definitions';
import { LOG_DIR, NAMESPACE, TEMPORAL_ADDRESS } from './common';

export interface WorkerChild {
  child: ChildProcess;
  pid: number;
  logFile: string;
  stop: () => Promise<void>;
}

/** Starts a worker process and waits until it polls its task queue. */
export async function startWorker(entry: string, name: string, env: NodeJS.ProcessEnv): Promise<WorkerChild> {
  mkdirSync(LOG_DIR, { recursive: true });
  const logFile = join(LOG_DIR, `${name}.log`);
  const out = createWriteStream(logFile);
  const child = spawn(process.execPath, [entry], {
    // The malloc settings the Dockerfile and `npm run worker` give the worker (docs/deployment.md, "Worker memory").
    env: {
      ...process.env,
      MALLOC_ARENA_MAX: process.env.MALLOC_ARENA_MAX ?? '1',
      MALLOC_MMAP_THRESHOLD_: process.env.MALLOC_MMAP_THRESHOLD_ ?? '65536',
      TEMPORAL_ADDRESS,
      TEMPORAL_NAMESPACE: NAMESPACE,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const collect = (d: Buffer) => {
    out.write(d);
    if (output.length < 100_000) output += d.toString();
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const deadline = Date.now() + 120_000;
  while (!output.includes('polling task queue')) {
    if (child.exitCode !== null) throw new Error(`worker ${name} exited early:\n${output}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`worker ${name} did not start:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const pid = child.pid as number;
  return {
    child,
    pid,
    logFile,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = once(child, 'exit');
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
        await exited;
        clearTimeout(timer);
      }
      out.end();
    },
  };
}

export async function temporalClient(): Promise<{ client: Client; close: () => Promise<void> }> {
  const connection = await Connection.connect({ address: TEMPORAL_ADDRESS });
  return { client: new Client({ connection, namespace: NAMESPACE }), close: () => connection.close() };
}

const RUN_TIMEOUT_MS = 10 * 60_000;

export interface TemporalRunResult {
  seconds: number;
  startedAt: number;
  summary: RunSummary;
}

/**
 * One fineTune run on the task queue, timed from the start call to its result. `during` runs alongside
 * (to watch or disturb the run); its signal aborts when the run ends, so it never waits on a dead run.
 */
export async function temporalRun(
  client: Client,
  taskQueue: string,
  workflowId: string,
  spec: RunSpecInput,
  during?: (startedAt: number, runEnded: AbortSignal) => Promise<void>,
  timeoutMs = RUN_TIMEOUT_MS,
): Promise<TemporalRunResult> {
  const startedAt = Date.now();
  const handle = await client.workflow.start(WORKFLOW_TYPE, { taskQueue, workflowId, args: [{ spec }] });
  const ended = new AbortController();
  // A stuck run is cancelled (its teardown still runs) rather than holding the bench forever.
  const guard = setTimeout(() => void handle.cancel().catch(() => undefined), timeoutMs);
  const result = (handle.result() as Promise<RunSummary>).finally(() => {
    clearTimeout(guard);
    ended.abort();
  });
  result.catch(() => undefined);
  if (during) {
    try {
      await during(startedAt, ended.signal);
    } catch (err) {
      // When the run itself failed, its failure is the news.
      await result;
      throw err;
    }
  }
  const summary = await result;
  return { seconds: (Date.now() - startedAt) / 1000, startedAt, summary };
}

/** A process's memory figures from /proc (kB → MB). */
export async function memoryOf(pid: number): Promise<{ hwmMb: number; rssMb: number }> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { hwmMb: kb('VmHWM') / 1024, rssMb: kb('VmRSS') / 1024 };
}

export interface ActivityEvent {
  name: string;
  kind: 'scheduled' | 'started' | 'completed' | 'failed';
  at: number;
}

/** The run's activity events with their server times (the dev server shares this machine's clock). */
export async function activityTimeline(client: Client, workflowId: string): Promise<ActivityEvent[]> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const names = new Map<string, string>();
  const events: ActivityEvent[] = [];
  for (const e of history.events ?? []) {
    const at = tsToMs(e.eventTime);
    const scheduled = e.activityTaskScheduledEventAttributes;
    if (scheduled) {
      const name = scheduled.activityType?.name ?? '?';
      names.set(String(e.eventId), name);
      events.push({ name, kind: 'scheduled', at });
      continue;
    }
    const other: Array<[ActivityEvent['kind'], { scheduledEventId?: unknown } | null | undefined]> = [
      ['started', e.activityTaskStartedEventAttributes],
      ['completed', e.activityTaskCompletedEventAttributes],
      ['failed', e.activityTaskFailedEventAttributes],
    ];
    for (const [kind, attrs] of other) {
      if (attrs) events.push({ name: names.get(String(attrs.scheduledEventId)) ?? '?', kind, at });
    }
  }
  return events;
}
