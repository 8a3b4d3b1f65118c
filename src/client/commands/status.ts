// `tuneforge status <id>`: the run's state, its steps and training progress.
import type { Client } from '@temporalio/client';
import { progressQuery, type RunProgress } from '../../workflows/definitions';

export interface RunStatus {
  workflowId: string;
  status: string;
  progress?: RunProgress;
}

export async function readStatus(client: Client, workflowId: string): Promise<RunStatus> {
  const handle = client.workflow.getHandle(workflowId);
  const description = await handle.describe();
  let progress: RunProgress | undefined;
  try {
    progress = await handle.query(progressQuery);
  } catch {
    // A run without a live worker (or one that failed validation) cannot answer queries.
  }
  return { workflowId, status: description.status.name, progress };
}
