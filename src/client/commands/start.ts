// `tuneforge start <spec.yaml>`: validate the spec, start a run, print its id and UI link.
import { randomBytes } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { WORKFLOW_TYPE } from '../../common/names';
import { loadRunSpec } from '../../spec/load';
import type { RunSpec } from '../../spec/schema';
import type { FineTuneInput } from '../../workflows/definitions';
import { runUrl, type ClientSettings } from '../connection';
import { runStaticMetadata } from '../run-metadata';

export interface StartedRun {
  workflowId: string;
  url: string;
  spec: RunSpec;
}

export function newRunId(spec: RunSpec, now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `${spec.name}-${stamp}-${randomBytes(2).toString('hex')}`;
}

export async function startRun(client: Client, settings: ClientSettings, specPath: string, id?: string): Promise<StartedRun> {
  const spec = await loadRunSpec(specPath);
  const workflowId = id ?? newRunId(spec);
  const input: FineTuneInput = { spec };
  await client.workflow.start(WORKFLOW_TYPE, {
    taskQueue: settings.taskQueue,
    workflowId,
    args: [input],
    ...runStaticMetadata(spec),
  });
  return { workflowId, url: runUrl(settings, workflowId), spec };
}
