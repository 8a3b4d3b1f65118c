// distributed-train, and when nodes are lost: replace only those from the baked image (a new master
// gets the newest checkpoint back from the store), rewire SSH, and resume from the newest complete
// checkpoint (a new training job each time). A job that outlives its run's history is handed over to the
// next run of a continue-as-new chain, which re-attaches to it.
import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  CancelledFailure,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { DeliveredModel } from '../activities/artifacts';
import type { ClusterInfo, CpuInfo, ImageRecord, NodeRecord, RunContext, TrainResult } from '../activities/types';
import { FailureType, type NodeLostData } from '../common/errors';
import { SEARCH_ATTRIBUTES } from '../common/search-attributes';
import { publishEvaluation } from './evaluation';
import type { HistoryLimits, TrainingState } from './definitions';
import type { SpendMeter } from './spend';
import { stageRunInputs } from './run-inputs';
import { steps } from './steps';
import type { StepTracker } from './step-tracker';

export interface TrainingPlan {
  ctx: RunContext;
  cluster: ClusterInfo;
  cpu: CpuInfo;
  image: ImageRecord;
}

export interface TrainedAndDelivered {
  trained: TrainResult;
  delivered: DeliveredModel;
  /** Set when training was told to finish early: the spend reached budgetUsd, or time training.timeoutMinutes. */
  cappedBy?: RunCap;
}

export type RunCap = 'budget' | 'time';

/** The run's history is full: a new run of the chain must take the training job over. */
export interface HandOver {
  handOver: TrainingState;
}

/** Margin of a follow window's activity over the window itself: the hand-over settles checkpoint uploads. */
const SETTLE_MARGIN_MINUTES = 30;

/** A fresh training step's state: the cluster as launched, no recovery yet, the whole timeout ahead. */
export function freshTraining(nodes: NodeRecord[], timeoutMinutes: number): TrainingState {
  return { nodes, recoveries: 0, handedOver: null, deadline: new Date(Date.now() + timeoutMinutes * 60_000).toISOString() };
}

/**
 * Trains, then delivers the model to the artifact store; a node lost in either is replaced and training
 * resumes. The job is followed in windows; between two, a run whose history is full hands it over.
 */
export async function trainWithRecovery(
  plan: TrainingPlan,
  start: TrainingState,
  limits: HistoryLimits,
  tracker: StepTracker,
  spend: SpendMeter,
): Promise<TrainedAndDelivered | HandOver> {
  const { ctx, cluster, cpu, image } = plan;
  let state = start;
  for (;;) {
    try {
      tracker.setSpend(spend.costUsd(), spend.budgetUsd);
      const { finishBy, cap } = finishLine(state.deadline, spend);
      const windowSeconds = limits.followWindowSeconds;
      const jobId = `train-${state.recoveries}`;
      const training = steps.training(Math.ceil(windowSeconds / 60) + SETTLE_MARGIN_MINUTES);
      const result = await training.distributedTrain.executeWithOptions(
        { summary: `distributed-train on ${state.nodes.length} nodes (job ${jobId})` },
        [
          {
            ...ctx,
            cluster,
            nodes: state.nodes,
            cpu,
            jobId,
            followForSeconds: windowSeconds,
            handedOver: state.handedOver,
            finishBy: new Date(finishBy).toISOString(),
          },
        ],
      );
      if ('stillRunning' in result) {
        state = { ...state, handedOver: result.progress };
        if (historyFull(limits)) {
          // A cancel that arrived with the window's end must not be left behind by continuing as new.
          if (CancellationScope.current().consideredCancelled) throw new CancelledFailure('the run was cancelled at a hand-over');
          return { handOver: state };
        }
        continue;
      }
      publishEvaluation(result, tracker);
      const [master] = state.nodes;
      if (!master) throw ApplicationFailure.nonRetryable('no master to deliver the model from');
      const delivered = await steps.delivery.deliverModel.executeWithOptions(
        { summary: `deliver-model: upload the model to ${ctx.artifacts ?? 'the artifact store'}` },
        [{ ...ctx, master }],
      );
      tracker.setSpend(spend.costUsd(), spend.budgetUsd);
      return result.finishedEarly ? { trained: result, delivered, cappedBy: cap } : { trained: result, delivered };
    } catch (err) {
      const lost = lostNodeNames(err);
      if (!lost || state.recoveries >= ctx.spec.recovery.maxRecoveries) throw err;
      tracker.recordRecovery(lost);
      upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.recoveries, value: state.recoveries + 1 }]);
      spend.lost(state.nodes.filter((n) => lost.includes(n.name)));
      const nodes = await replaceAndRewire(ctx, cluster, image, state.nodes, lost);
      spend.launched(nodes);
      tracker.setNodes(nodes);
      state = { ...state, nodes, recoveries: state.recoveries + 1, handedOver: null };
    }
  }
}

function historyFull(limits: HistoryLimits): boolean {
  const info = workflowInfo();
  return info.continueAsNewSuggested || info.historyLength >= limits.eventBudget;
}

/** When the ranks must finish, and which cap says so: the training deadline, or the budget if it comes first. */
function finishLine(deadline: string, spend: SpendMeter): { finishBy: number; cap: RunCap } {
  const timeUp = Date.parse(deadline);
  const budgetUp = spend.budgetReachedAtMs();
  return budgetUp !== undefined && budgetUp < timeUp ? { finishBy: budgetUp, cap: 'budget' } : { finishBy: timeUp, cap: 'time' };
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
  // A replacement comes from the image, which holds packages and code only: it gets the run's data here.
  const master = updated.find((n) => n.role === 'master');
  if (!master) throw new Error('the cluster has no master after the replacement');
  await stageRunInputs(ctx, replaced, master);
  return updated;
}

function lostNodeNames(err: unknown): string[] | undefined {
  const cause = err instanceof ActivityFailure ? err.cause : undefined;
  if (!(cause instanceof ApplicationFailure) || cause.type !== FailureType.NodeLost) return undefined;
  const data = cause.details?.[0] as Partial<NodeLostData> | undefined;
  return Array.isArray(data?.nodes) && data.nodes.length > 0 ? data.nodes : undefined;
}
