// distributed-train, and when nodes are lost: replace only those from the baked image (a new master
// gets the newest checkpoint back from the store), rewire SSH, and resume from the newest complete
// checkpoint (a new training job each time). A job that outlives its run's history is handed over to the
// next run of a continue-as-new chain, which re-attaches to it.
import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  CancelledFailure,
  condition,
  log,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { DeliveredModel } from '../activities/artifacts';
import type { ClusterInfo, CpuInfo, ImageRecord, NodeRecord, RunContext, TrainResult } from '../activities/types';
import { FailureType, type NodeLostData } from '../common/errors';
import { SEARCH_ATTRIBUTES } from '../common/search-attributes';
import { standbyNames } from '../common/node-names';
import type { RecoveryPath } from '../records/recovery-record';
import { keptBatch, ranksPerNodeOf, type BatchShape, type KeptBatch } from '../run-spec/kept-batch';
import { publishEvaluation } from './evaluation';
import type { TrainingProgress } from '../recipes/progress';
import type { HistoryLimits, TrainingState } from './definitions';
import type { SpendMeter } from './spend';
import { stageRunInputs } from './run-inputs';
import { BackgroundLaunch } from './background-launch';
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
  /** Standby nodes launched by the run, first ones and refills. */
  standbyLaunched: number;
}

export type RunCap = 'budget' | 'time';

/** The run's history is full: a new run of the chain must take the training job over. */
export interface HandOver {
  handOver: TrainingState;
}

/** Follow windows of a run short of nodes: how long nodes that came back wait at most to join. */
const SHRUNK_WINDOW_SECONDS = 120;

/** Margin of a follow window's activity over the window itself: the hand-over settles checkpoint uploads. */
const SETTLE_MARGIN_MINUTES = 30;

/** A fresh training step's state: the cluster as launched, no recovery yet, the whole timeout ahead. */
export function freshTraining(nodes: NodeRecord[], timeoutMinutes: number, standby: NodeRecord[] = []): TrainingState {
  return {
    nodes,
    standby,
    standbyLaunched: standby.length,
    recoveries: 0,
    handedOver: null,
    deadline: new Date(Date.now() + timeoutMinutes * 60_000).toISOString(),
  };
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
  const { ctx, image } = plan;
  const refill = new BackgroundLaunch('a standby', ctx, image, spend);
  const grow = new BackgroundLaunch('nodes to grow back with', ctx, image, spend);
  let state = start;
  try {
    for (;;) {
      state = takeLaunched(state, refill, grow, tracker);
      if (state.missing?.length && !state.grown?.length && !grow.busy && state.nodes[0]) grow.start(state.missing, state.nodes[0]);
      // Nodes back while no job runs join at once; a running job first saves and stops at its next step.
      if (state.grown?.length && state.handedOver === null) state = await growBack(plan, state, tracker);
      try {
        const ended = await trainWindow(plan, state, limits, tracker, spend, (state.grown?.length ?? 0) > 0);
        if ('stopped' in ended) {
          state = await growBack(plan, { ...state, handedOver: null }, tracker);
          continue;
        }
        if (!('stillRunning' in ended)) return { ...ended, standbyLaunched: state.standbyLaunched ?? 0 };
        state = { ...state, handedOver: ended.stillRunning };
        if (!ended.historyFull) continue;
        await Promise.all([refill.settle(), grow.settle()]);
        return { handOver: takeLaunched(state, refill, grow, tracker) };
      } catch (err) {
        const lost = lostNodes(err);
        const losses = state.recoveries - (state.grows ?? 0);
        if (!lost || losses >= ctx.spec.recovery.maxRecoveries) throw err;
        state = await recover(plan, state, lost, tracker, spend);
        const wanted = ctx.spec.recovery.standbyNodes - (state.standby ?? []).length;
        const [master] = state.nodes;
        if (wanted > 0 && master) {
          refill.start(standbyNames(wanted, (state.standbyLaunched ?? 0) + 1), master);
          state = { ...state, standbyLaunched: (state.standbyLaunched ?? 0) + wanted };
        }
      }
    }
  } finally {
    // Teardown follows: a launch still in flight must not make a node after it has listed the cluster.
    await CancellationScope.nonCancellable(() => Promise.all([refill.stop(), grow.stop()]));
  }
}

/** Standbys and grown nodes whose background launch finished, into the state. */
function takeLaunched(state: TrainingState, refill: BackgroundLaunch, grow: BackgroundLaunch, tracker: StepTracker): TrainingState {
  const standby = refill.take();
  const grown = grow.take();
  if (standby.length === 0 && grown.length === 0) return state;
  const next = { ...state, standby: [...(state.standby ?? []), ...standby], grown: [...(state.grown ?? []), ...grown] };
  tracker.setNodes(next.nodes, undefined, [...next.standby, ...next.grown]);
  return next;
}

/** A shrunk run takes the nodes launched since back: wired, the written batch again (or the kept one if still short). */
async function growBack(plan: TrainingPlan, state: TrainingState, tracker: StepTracker): Promise<TrainingState> {
  const { ctx, cluster, cpu } = plan;
  const grown = state.grown ?? [];
  const nodes = [...state.nodes, ...grown];
  await steps.wiring.wireSsh.executeWithOptions({ summary: `rewire SSH across ${nodes.map((n) => n.name).join(', ')}` }, [
    { ...ctx, sshUser: cluster.sshUser, nodes },
  ]);
  const recoveries = state.recoveries + 1;
  const t = ctx.spec.training;
  const batch =
    nodes.length < ctx.spec.nodes
      ? keptBatch(t, ctx.spec.nodes, nodes.length, ranksPerNodeOf(t.ranksPerNode, cluster.nodesShareCpus, cpu.ranksPerNode))
      : undefined;
  tracker.recordRecovery([], 'capacity came back', `train-${recoveries}`, state.handedOver?.step);
  tracker.recoveryPath('grow', grown.map((n) => n.name), grown.length, batch);
  tracker.setNodes(nodes, undefined, state.standby ?? []);
  const missing = (state.missing ?? []).filter((name) => !grown.some((n) => n.name === name));
  const { batch: _shrunk, ...rest } = state;
  return { ...rest, nodes, grown: [], missing, recoveries, grows: (state.grows ?? 0) + 1, handedOver: null, ...(batch ? { batch } : {}) };
}

/** The job goes on past a follow window; a run whose history is full hands it over. */
interface StillRunning {
  stillRunning: TrainingProgress;
  historyFull: boolean;
}

/** One follow window of the current job: the trained and delivered model, or the job still running. */
async function trainWindow(
  plan: TrainingPlan,
  state: TrainingState,
  limits: HistoryLimits,
  tracker: StepTracker,
  spend: SpendMeter,
  saveAndStop: boolean,
): Promise<Omit<TrainedAndDelivered, 'standbyLaunched'> | StillRunning | { stopped: true }> {
  const { cluster, cpu } = plan;
  // A run that shrank trains with the batch shape that keeps its global batch on the nodes left.
  const ctx = state.batch ? { ...plan.ctx, spec: { ...plan.ctx.spec, training: { ...plan.ctx.spec.training, ...batchShape(state.batch) } } } : plan.ctx;
  tracker.setSpend(spend.costUsd(), spend.budgetUsd);
  const { finishBy, cap } = finishLine(state.deadline, spend);
  // A shrunk run looks for its nodes coming back at every window: short ones while it is short of nodes.
  const windowSeconds = state.missing?.length ? Math.min(limits.followWindowSeconds, SHRUNK_WINDOW_SECONDS) : limits.followWindowSeconds;
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
        saveAndStop,
      },
    ],
  );
  if ('stopped' in result) return { stopped: true };
  if ('stillRunning' in result) {
    if (!historyFull(limits)) return { stillRunning: result.progress, historyFull: false };
    // A cancel that arrived with the window's end must not be left behind by continuing as new.
    if (CancellationScope.current().consideredCancelled) throw new CancelledFailure('the run was cancelled at a hand-over');
    return { stillRunning: result.progress, historyFull: true };
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
}

/** Fills the lost places, standbys first, and returns the state the next job starts from. */
async function recover(
  plan: TrainingPlan,
  state: TrainingState,
  lost: LostNodes,
  tracker: StepTracker,
  spend: SpendMeter,
): Promise<TrainingState> {
  const { ctx, cluster } = plan;
  const recoveries = state.recoveries + 1;
  tracker.recordRecovery(lost.names, lost.cause, `train-${recoveries}`, lost.lastStep);
  upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.recoveries, value: recoveries }]);
  spend.lost(state.nodes.filter((n) => lost.names.includes(n.name)));
  let nodes = state.nodes;
  let standby = state.standby ?? [];
  let filled: Record<string, string> = {};
  if (standby.length > 0) {
    const used = await steps.provisioning.useStandby.executeWithOptions(
      { summary: `use-standby: standby nodes take the places of ${lost.names.join(', ')}` },
      [{ ...ctx, cluster, nodes, lost: lost.names, standby }],
    );
    spend.lost(standby.filter((n) => used.broken.includes(n.name)));
    ({ nodes, standby, filled } = used);
  }
  const unfilled = lost.names.filter((name) => !(name in filled));
  const filledNodes = await replaceOrShrink(plan, nodes, unfilled);
  nodes = filledNodes.nodes;
  const batch = filledNodes.shrunk ?? state.batch;
  if (!filledNodes.shrunk) spend.launched(nodes.filter((n) => unfilled.includes(n.name)));
  const path = filledNodes.shrunk ? 'shrink' : recoveryPath(filled, unfilled);
  const filledBy = lost.names.map((name) => filled[name] ?? (filledNodes.shrunk ? '' : name)).filter((name) => name !== '');
  tracker.recoveryPath(path, filledBy, filledNodes.shrunk ? 0 : unfilled.length, filledNodes.shrunk);
  tracker.setNodes(nodes, undefined, standby);
  // The places a shrink left empty come back under worker names (a lost master's place is a worker's now).
  const missing = filledNodes.shrunk
    ? [...(state.missing ?? []), ...unfilled.map((name, i) => (name.startsWith('worker-') ? name : `worker-${ctx.spec.nodes + recoveries + i}`))]
    : state.missing;
  return { ...state, nodes, standby, recoveries, handedOver: null, ...(batch ? { batch } : {}), ...(missing ? { missing } : {}) };
}

/**
 * New nodes from the image for the unfilled places; when the provider has no capacity for them, or they take
 * longer than recovery.capacityWaitMinutes, training goes on without them on the nodes left (never fewer than
 * recovery.minNodes: below that it waits for the replacements), with the global batch kept.
 */
async function replaceOrShrink(
  plan: TrainingPlan,
  nodes: NodeRecord[],
  unfilled: string[],
): Promise<{ nodes: NodeRecord[]; shrunk?: KeptBatch }> {
  const { ctx, cluster, image } = plan;
  const { capacityWaitMinutes, minNodes } = ctx.spec.recovery;
  const survivors = nodes.filter((n) => !unfilled.includes(n.name));
  if (unfilled.length === 0 || survivors.length < minNodes) {
    return { nodes: await replaceAndRewire(ctx, cluster, image, nodes, unfilled) };
  }
  const replacing = new CancellationScope();
  let settled = false;
  const replacement = replacing.run(() => replaceAndRewire(ctx, cluster, image, nodes, unfilled));
  replacement.then(
    () => (settled = true),
    () => (settled = true),
  );
  if (await condition(() => settled, capacityWaitMinutes * 60_000)) {
    try {
      return { nodes: await replacement };
    } catch (err) {
      if (!isCapacityFailure(err)) throw err;
      log.warn('no capacity for the lost nodes: training goes on without them', { lost: unfilled, error: String(err) });
    }
  } else {
    replacing.cancel();
    await replacement.catch(() => undefined);
    log.warn(`no replacement within ${capacityWaitMinutes} min: training goes on without it`, { lost: unfilled });
  }
  return shrinkTo(plan, nodes, unfilled);
}

/** The nodes left, a surviving worker first as the master when the master was lost, wired and with the batch kept. */
async function shrinkTo(plan: TrainingPlan, nodes: NodeRecord[], unfilled: string[]): Promise<{ nodes: NodeRecord[]; shrunk: KeptBatch }> {
  const { ctx, cluster, cpu } = plan;
  const survivors = nodes.filter((n) => !unfilled.includes(n.name));
  const masterLost = nodes[0] !== undefined && unfilled.includes(nodes[0].name);
  // use-standby terminates the lost nodes; a surviving worker takes a lost master's place (checkpoint restored).
  const taken = await steps.provisioning.useStandby.executeWithOptions(
    { summary: `shrink: go on without ${unfilled.join(', ')}` },
    [{ ...ctx, cluster, nodes, lost: unfilled, standby: masterLost ? survivors.slice(0, 1) : [] }],
  );
  const kept = taken.nodes.filter((n, i, all) => !unfilled.includes(n.name) && all.findIndex((m) => m.name === n.name) === i);
  if (kept.length < Math.max(1, ctx.spec.recovery.minNodes) || kept[0]?.role !== 'master') {
    throw ApplicationFailure.nonRetryable(`no node left to go on with after losing ${unfilled.join(', ')}`, FailureType.NodeLost);
  }
  await steps.wiring.wireSsh.executeWithOptions({ summary: `rewire SSH across ${kept.map((n) => n.name).join(', ')}` }, [
    { ...ctx, sshUser: cluster.sshUser, nodes: kept },
  ]);
  const t = ctx.spec.training;
  const ranks = ranksPerNodeOf(t.ranksPerNode, cluster.nodesShareCpus, cpu.ranksPerNode);
  return { nodes: kept, shrunk: keptBatch(t, ctx.spec.nodes, kept.length, ranks) };
}

function batchShape(batch: KeptBatch): BatchShape {
  return { perDeviceBatchSize: batch.perDeviceBatchSize, gradientAccumulationSteps: batch.gradientAccumulationSteps };
}

function isCapacityFailure(err: unknown): boolean {
  const cause = err instanceof ActivityFailure ? err.cause : undefined;
  return cause instanceof ApplicationFailure && cause.type === FailureType.CapacityUnavailable;
}

function recoveryPath(filled: Record<string, string>, unfilled: string[]): RecoveryPath {
  if (unfilled.length === 0) return 'standby';
  return Object.keys(filled).length === 0 ? 'replacement' : 'standby+replacement';
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
  await steps.wiring.wireSsh.executeWithOptions({ summary: `rewire SSH across ${updated.map((n) => n.name).join(', ')}` }, [
    { ...ctx, sshUser: cluster.sshUser, nodes: updated },
  ]);
  // A replacement comes from the image, which holds packages and code only: it gets the run's data here.
  const master = updated.find((n) => n.role === 'master');
  if (!master) throw new Error('the cluster has no master after the replacement');
  await stageRunInputs(ctx, replaced, master);
  return updated;
}

interface LostNodes {
  names: string[];
  lastStep: number | undefined;
  /** What the node watch said, e.g. "gone, stopped or not answering SSH during distributed-train". */
  cause: string;
}

function lostNodes(err: unknown): LostNodes | undefined {
  const cause = err instanceof ActivityFailure ? err.cause : undefined;
  if (!(cause instanceof ApplicationFailure) || cause.type !== FailureType.NodeLost) return undefined;
  const data = cause.details?.[0] as Partial<NodeLostData> | undefined;
  if (!Array.isArray(data?.nodes) || data.nodes.length === 0) return undefined;
  return { names: data.nodes, cause: typeof data.reason === 'string' ? data.reason : cause.message, lastStep: typeof data.lastStep === 'number' ? data.lastStep : undefined };
}
