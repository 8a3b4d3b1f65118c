// The second scale row: N concurrent real runs on real local nodes, kept as cheap as a real run gets:
// one node per run (the master alone), 5 training steps, a 1-step sanity run, from the baked image.
// One fresh production worker process runs them, so its VmHWM is what N real runs cost it.
import type { Client } from '@temporalio/client';
import { join } from 'node:path';
import { ROOT, RUN_SPEC, log, uniqueId } from './common';
import type { BenchLab } from './lab';
import { memoryOf, startWorker, temporalRun } from './temporal';
import type { RunSpecInput } from '../../src/run-spec/schema';

/** One node, 5 steps, a 1-step sanity run: tiny-qa's whole pipeline at its smallest. */
export const TINY_REAL_SPEC: RunSpecInput = {
  ...RUN_SPEC,
  name: 'bench-scale-real',
  nodes: 1,
  training: { maxSteps: 5, perDeviceBatchSize: 8, saveSteps: 5, saveTotalLimit: 1, seed: 42 },
  sanity: { maxSteps: 1 },
};

export interface RealScaleResult {
  runs: number;
  completed: number;
  firstFailure?: string;
  /** One run alone on the same worker, start call → result. */
  oneRunSeconds: number;
  /** First start call → last result of the N concurrent runs. */
  concurrentSeconds: number;
  /** concurrentSeconds ÷ oneRunSeconds. */
  wallRatio: number;
  /** The worker process's VmHWM at the end (its start, the single run and the N runs included). */
  peakRssMb: number;
  startupPeakRssMb: number;
}

export async function realScale(lab: BenchLab, client: Client, runs: number, pollMs: number): Promise<RealScaleResult> {
  const taskQueue = uniqueId('bench-scale-real');
  const worker = await startWorker(join(ROOT, 'build-bench', 'src', 'worker', 'main.js'), 'scale-real-worker', {
    TUNEFORGE_TASK_QUEUE: taskQueue,
    TUNEFORGE_LOCAL_ROOT: lab.root,
    TUNEFORGE_POLL_MS: String(pollMs),
    TUNEFORGE_REAPER: 'off',
  });
  try {
    const startup = await memoryOf(worker.pid);
    log(`scale on real nodes: 1 run alone, then ${runs} at once (1 node, 5 steps each; worker pid ${worker.pid})`);
    const one = await temporalRun(client, taskQueue, uniqueId('bench-real1'), TINY_REAL_SPEC);
    log(`  1 run: ${one.seconds.toFixed(1)} s`);
    const started = Date.now();
    const outcomes = await Promise.allSettled(
      Array.from({ length: runs }, async (_, i) => {
        const r = await temporalRun(client, taskQueue, uniqueId(`bench-real${i}`), TINY_REAL_SPEC);
        if (r.summary.training.globalStep !== 5 || r.summary.teardown.nodesLeft !== 0)
          throw new Error(`run ${i} ended oddly: step ${r.summary.training.globalStep}`);
        return r;
      }),
    );
    const concurrentSeconds = (Date.now() - started) / 1000;
    const end = await memoryOf(worker.pid);
    const failures = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
    const result: RealScaleResult = {
      runs,
      completed: runs - failures.length,
      ...(failures[0] ? { firstFailure: String(failures[0].reason).slice(0, 500) } : {}),
      oneRunSeconds: one.seconds,
      concurrentSeconds,
      wallRatio: concurrentSeconds / one.seconds,
      peakRssMb: end.hwmMb,
      startupPeakRssMb: startup.hwmMb,
    };
    log(
      `  ${result.completed}/${runs} completed in ${concurrentSeconds.toFixed(1)} s (${result.wallRatio.toFixed(1)}x one run), worker peak RSS ${end.hwmMb.toFixed(0)} MB`,
    );
    return result;
  } finally {
    await worker.stop();
  }
}
