// distributed-train, and when a worker node is lost: replace only that node from the baked image,
// rewire SSH, and resume from the newest complete checkpoint (a new training job each time).
import { ActivityFailure, ApplicationFailure, upsertSearchAttributes } from '@temporalio/workflow';
import type { ClusterInfo, CpuInfo, ImageRecord, NodeRecord, RunContext, TrainResult } from '../activities/types';
import { FailureType, type NodeLostData } from '../common/errors';
import { SEARCH_ATTRIBUTES } from '../common/search-attributes';
import { steps } from './steps';
import type { StepTracker } from './step-tracker';

export interface TrainingPlan {
  ctx: RunContext;
  cluster: ClusterInfo;
  cpu: CpuInfo;
  image: ImageRecord;
  nodes: NodeRecord[];
}

export async function trainWithRecovery(plan: TrainingPlan, tracker: StepTracker): Promise<TrainResult> {
  const { ctx, cluster, cpu, image } = plan;
  const training = steps.training(ctx.spec.training.timeoutMinutes);
  let nodes = plan.nodes;
  for (let recovery = 0; ; recovery++) {
    try {
      return await training.distributedTrain.executeWithOptions(
        { summary: `distributed-train on ${nodes.length} nodes (job train-${recovery})` },
        [{ ...ctx, cluster, nodes, cpu, jobId: `train-${recovery}` }],
      );
    } catch (err) {
      const lost = lostNodeNames(err);
      if (!lost || recovery >= ctx.spec.recovery.maxRecoveries) throw err;
      if (lost.some((name) => nodes.find((n) => n.name === name)?.role === 'master')) {
        throw ApplicationFailure.nonRetryable(
          `the master was lost; this run cannot resume without it (${lost.join(', ')})`,
          FailureType.NodeLost,
        );
      }
      tracker.recordRecovery(lost);
      upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.recoveries, value: recovery + 1 }]);
      nodes = await replaceAndRewire(ctx, cluster, image, nodes, lost);
      tracker.setNodes(nodes);
    }
  }
}

async function replaceAndRewire(
  ctx: RunContext,
  cluster: ClusterInfo,
  image: ImageRecord,
  nodes: NodeRecord[],
  lost: string[],
): Promise<NodeRecord[]> {
  const replaced = await steps.provisioning.replaceNodes.executeWithOptions(
    { summary: `replace lost node(s) ${lost.join(', ')}` },
    [{ ...ctx, cluster, image, nodes: nodes.filter((n) => lost.includes(n.name)) }],
  );
  const updated = nodes.map((n) => replaced.find((r) => r.name === n.name) ?? n);
  await steps.wiring.wireSsh.executeWithOptions({ summary: `rewire SSH after replacing ${lost.join(', ')}` }, [
    { ...ctx, sshUser: cluster.sshUser, nodes: updated },
  ]);
  return updated;
}

function lostNodeNames(err: unknown): string[] | undefined {
  const cause = err instanceof ActivityFailure ? err.cause : undefined;
  if (!(cause instanceof ApplicationFailure) || cause.type !== FailureType.NodeLost) return undefined;
  const data = cause.details?.[0] as Partial<NodeLostData> | undefined;
  return Array.isArray(data?.nodes) && data.nodes.length > 0 ? data.nodes : undefined;
}
