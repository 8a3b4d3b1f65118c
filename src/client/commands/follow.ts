// Follows a run until it ends, printing each step as it starts and ends.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Client } from '@temporalio/client';
import { progressQuery, type RunProgress, type RunSummary, type StepProgress } from '../../workflows/definitions';

export type Printer = (line: string) => void;

const POLL_MS = 1000;

export async function followRun(client: Client, workflowId: string, print: Printer): Promise<RunSummary> {
  const handle = client.workflow.getHandle(workflowId);
  let ended = false;
  const result = handle.result().finally(() => {
    ended = true;
  });
  const seen = new Map<string, string>();
  const watch = (async () => {
    while (!ended) {
      const progress = await handle.query(progressQuery).catch(() => undefined);
      if (progress) printChanges(progress, seen, print);
      await sleep(POLL_MS);
    }
  })();
  try {
    return (await result) as RunSummary;
  } finally {
    await watch;
    const last = await handle.query(progressQuery).catch(() => undefined);
    if (last) printChanges(last, seen, print);
    if (last?.keptAccess?.length) {
      print('The cluster was kept for debugging (keepClusterOnFailure); log in with:');
      for (const line of last.keptAccess) print(`  ${line}`);
    }
  }
}

function printChanges(progress: RunProgress, seen: Map<string, string>, print: Printer): void {
  const t = progress.training;
  if (t && t.maxSteps > 0) {
    const key = `${t.stage}:${t.step}`;
    if (seen.get('training') !== key) {
      seen.set('training', key);
      const loss = t.loss === null ? '' : `, loss ${t.loss.toFixed(4)}`;
      print(`    ${t.stage}: step ${t.step}/${t.maxSteps}${loss}`);
    }
  }
  for (const step of progress.steps) {
    if (seen.get(step.name) === step.status) continue;
    seen.set(step.name, step.status);
    const line = describeStep(step);
    if (line) print(line);
  }
}

function describeStep(step: StepProgress): string | undefined {
  const time = new Date().toISOString().slice(11, 19);
  switch (step.status) {
    case 'running':
      return `[${time}] ${step.name} started`;
    case 'done':
      return `[${time}] ${step.name} done in ${(step.seconds ?? 0).toFixed(1)} s${step.note ? ` (${step.note})` : ''}`;
    case 'failed':
      return `[${time}] ${step.name} FAILED after ${(step.seconds ?? 0).toFixed(1)} s: ${step.note ?? ''}`;
    default:
      return undefined;
  }
}
