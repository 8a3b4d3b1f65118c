// `tuneforge cancel <id>`: request cancellation; the run tears its cluster down before it ends.
import type { Client } from '@temporalio/client';

export async function cancelRun(client: Client, workflowId: string): Promise<void> {
  await client.workflow.getHandle(workflowId).cancel();
}
