// distributed-train, and when nodes are lost: replace only those from the baked image (a new master
// gets the newest checkpoint back from the store), rewire SSH, and resume from the newest complete
// checkpoint (a new training job each time).
import { ActivityFailure, ApplicationFailure, upsertSearchAttributes } from '@temporalio/workflow';
import type { DeliveredModel } from '../activities/artifacts';
import type { ClusterInfo, CpuInfo, ImageRecord, NodeRecord, RunContext, TrainResult } from '../activities/types';
import { FailureType, type NodeLostData } from '../common/errors';
import { SEARCH_ATTRIBUTES } from '../common/search-attributes';
import { publishEvaluation } from './evaluation';
import { steps } from './steps';
import type { StepTracker } from './step-tracker';

export interface TrainingPlan {
  ctx: RunContext;
  cluster: ClusterInfo;
  cpu: CpuInfo;
  image: ImageRecord;
  nodes: NodeRecord[];
}

export interface TrainedAndDelivered {
  trained: TrainResult;
  delivered: DeliveredModel;
}

/** Trains, then delivers the model to the artifact store; a node lost in either is replaced and training resumes. */
export async function trainWithRecovery(plan: TrainingPlan, tracker: StepTracker): Promise<TrainedAndDelivered> {
  const { ctx, cluster, cpu, image } = plan;
  const training = steps.training(ctx.spec.training.timeoutMinutes);
  let nodes = plan.nodes;
  for (let recovery = 0; ; recovery++) {
    try {
      const trained = await training.distributedTrain.executeWithOptions(
        { summary: `distributed-train on ${nodes.length} nodes (job train-${recovery})` },
        [{ ...ctx, cluster, nodes, cpu, jobId: `train-${recovery}` }],
      );
      publishEvaluation(trained, tracker);
      const [master] = nodes;
      if (!master) throw ApplicationFailure.nonRetryable('no master to deliver the model from');
      const delivered = await steps.delivery.deliverModel.executeWithOptions(
        { summary: `deliver-model: upload the model to ${ctx.artifacts ?? 'the artifact store'}` },
        [{ ...ctx, master }],
      );
      return { trained, delivered };
    } catch (err) {
      const lost = lostNodeNames(err);
      if (!lost || recovery >= ctx.spec.recovery.maxRecoveries) throw err;
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
  const lostMaster = nodes.find((n) => n.role === 'master' && lost.includes(n.name));
  const lostWorkers = nodes.filter((n) => n.role === 'worker' && lost.includes(n.name));
  const replaced: NodeRecord[] = [];
  if (lostMaster) {
    replaced.push(
      await steps.provisioning.replaceMaster.executeWithOptions(
        { summary: 'replace the lost master from the image and restore the newest stored checkpoint' },
        [{ ...ctx, cluster, image, master: lostMaster }],
      ),
    );
  }
  if (lostWorkers.length > 0) {
    replaced.push(
      ...(await steps.provisioning.replaceNodes.executeWithOptions(
        { summary: `replace lost node(s) ${lostWorkers.map((n) => n.name).join(', ')}` },
        [{ ...ctx, cluster, image, nodes: lostWorkers }],
      )),
    );
  }
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
