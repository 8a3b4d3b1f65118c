// The scale row: N concurrent fineTune runs on one worker process whose nodes are instant and whose
// commands are no-ops, so what is measured is tuneforge's workflow + activities + Temporal, not training.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import { WORKFLOW_TYPE } from '../../src/common/names';
import type { RunSummary } from '../../src/workflows/definitions';
import { log, ROOT, secs, sleep, uniqueId, withNodes, RUN_SPEC } from './common';
import { startProbeServer, writeClientKey } from './probe-server';
import { memoryOf, startWorker } from './temporal';

export interface ScaleResult {
  runs: number;
  completed: number;
  failed: number;
  firstFailure?: string;
  seconds: number;
  runsPerSecond: number;
  /** VmHWM at the end: the worker process's lifetime peak (its start bundles the workflow code). */
  peakRssMb: number;
  /** VmHWM once the worker polled, before any run: the start-up part of that peak. */
  startupPeakRssMb: number;
  /** Highest VmRSS sampled every 100 ms while the runs went. */
  runPhaseMaxRssMb: number;
  endRssMb: number;
  pollMs: number;
  probeConnections: number;
}

export async function scale(client: Client, runs = 100): Promise<ScaleResult> {
  const taskQueue = uniqueId('bench-scale');
  const scratch = mkdtempSync(join(tmpdir(), 'tuneforge-bench-scale-'));
  const probe = await startProbeServer();
  const pollMs = Number(process.env.BENCH_SCALE_POLL_MS ?? '100');
  const clientKey = writeClientKey(join(scratch, 'id_ed25519'));
  log(`scale: one worker process, ${runs} concurrent runs on instant nodes (task queue ${taskQueue})`);
  const worker = await startWorker(join(ROOT, 'build-bench', 'bench', 'scale-worker-main.js'), 'scale-worker', {
    TUNEFORGE_TASK_QUEUE: taskQueue,
    TUNEFORGE_POLL_MS: String(pollMs),
    BENCH_PROBE_HOST: probe.host,
    BENCH_PROBE_PORT: String(probe.port),
    BENCH_PROBE_HOST_KEY: probe.hostKey,
    BENCH_IDENTITY_FILE: join(scratch, 'id_ed25519'),
    BENCH_CLUSTER_PUBLIC_KEY: clientKey.publicKey,
    BENCH_ARTIFACTS: join(scratch, 'artifacts'),
    // Diagnostics only: V8 flags for the worker process (e.g. --max-old-space-size=200).
    ...(process.env.BENCH_SCALE_NODE_OPTIONS ? { NODE_OPTIONS: process.env.BENCH_SCALE_NODE_OPTIONS } : {}),
  });
  try {
    const startup = await memoryOf(worker.pid);
    let runPhaseMax = startup.rssMb;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        runPhaseMax = Math.max(runPhaseMax, (await memoryOf(worker.pid).catch(() => startup)).rssMb);
        await sleep(100);
      }
    })();
    const spec = withNodes(RUN_SPEC, 3, 'bench-scale');
    const started = Date.now();
    const outcomes = await Promise.allSettled(
      Array.from({ length: runs }, async (_, i) => {
        const handle = await client.workflow.start(WORKFLOW_TYPE, {
          taskQueue,
          workflowId: `${taskQueue}-${String(i).padStart(3, '0')}`,
          args: [{ spec }],
        });
        const summary = (await handle.result()) as RunSummary;
        if (summary.teardown.nodesLeft !== 0 || summary.training.globalStep <= 0) throw new Error(`run ${i} ended oddly`);
        return summary;
      }),
    );
    const seconds = (Date.now() - started) / 1000;
    sampling = false;
    await sampler;
    const end = await memoryOf(worker.pid);
    const failures = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
    const completed = outcomes.length - failures.length;
    const result: ScaleResult = {
      runs,
      completed,
      failed: failures.length,
      ...(failures[0] ? { firstFailure: String(failures[0].reason).slice(0, 500) } : {}),
      seconds: secs(seconds * 1000),
      runsPerSecond: completed / seconds,
      peakRssMb: end.hwmMb,
      startupPeakRssMb: startup.hwmMb,
      runPhaseMaxRssMb: runPhaseMax,
      endRssMb: end.rssMb,
      pollMs,
      probeConnections: probe.connections(),
    };
    log(
      `  ${completed}/${runs} completed in ${seconds.toFixed(1)} s (${result.runsPerSecond.toFixed(2)} runs/s), worker peak RSS ${end.hwmMb.toFixed(0)} MB`,
    );
    return result;
  } finally {
    await worker.stop();
    await Promise.race([probe.close(), sleep(2000)]);
    rmSync(scratch, { recursive: true, force: true });
  }
}
