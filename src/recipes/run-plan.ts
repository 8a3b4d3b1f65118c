// What a run would execute, computed without launching or contacting anything: the placement, the
// mpirun line and the trainer arguments come from the same functions the activities call. Pure.
import type { CpuTopology } from '../cluster/topology';
import { workerNames } from '../common/node-names';
import { capabilitiesOf } from '../providers/capabilities';
import { RENDEZVOUS_PORT, type ClusterInfo, type NodeRecord } from '../providers/provider';
import { jobDir } from '../remote/remote-job';
import { shellJoin } from '../remote/shell-quote';
import type { ProviderName, RecipeName, RunSpec, TaskName } from '../run-spec/schema';
import { describeSource } from '../data/describe-source';
import { distributedTrainArgs, hostfileLines, mpirunArgs, placement, sanityCommand } from './launch-command';
import { describeModel, runInputs, runTitle } from '../run-spec/expand-inputs';
import { trainerValues, type TrainerValues } from '../run-spec/trainer-values';
import { hubIds } from './recipe';
import { redactedWebhook } from '../run-spec/notify';
import { bf16Notes } from './bf16-plan';

/** A CPU layout and where it came from (a known table, or lscpu on this machine). */
export type PlanTopology = CpuTopology & { source: string };

export interface RunPlan {
  runName: string;
  provider: ProviderName;
  /** The preset, or the task and model of a run without one (runTitle). */
  recipe: string;
  /** The preset the spec names, or null. */
  preset: RecipeName | null;
  task: TaskName;
  /** Where the model and the data come from, in words (a hub id, a path, a URI, a preset's asset). */
  inputs: { model: string; train: string; validation: string };
  nodes: number;
  /** `local` for the local provider. */
  instanceType: string;
  /** Types the run fails over to when the first has no capacity (aws). */
  fallbackInstanceTypes: string[];
  /** Null when tuneforge knows no layout for the instance type: ranks and threads are then decided at run time. */
  topology: PlanTopology | null;
  ranksPerNode: number | null;
  worldSize: number | null;
  /** OMP_NUM_THREADS of each rank. */
  threadsPerRank: number | null;
  /** Physical cores each rank is bound to; null where nodes share one host's CPUs (local). */
  coresPerRank: number | null;
  batch: { perDevice: number; gradientAccumulation: number; global: number | null };
  learningRate: number;
  /** Every value the trainer gets, with where it came from: spec, preset <name>, task default or tuneforge default. */
  values: TrainerValues;
  evaluate: boolean;
  /** Models and datasets the nodes download from the Hugging Face hub. */
  hubIds: string[];
  /** The first training job's hostfile, one line per node. */
  hostfile: string[] | null;
  /** The exact mpirun command line run on the master (node addresses are placeholders until nodes exist). */
  mpirun: string | null;
  /** The sanity run's command (one process on the master; it never evaluates). */
  sanity: string | null;
  /** train_qa.py and its arguments, as every rank of the distributed run gets them. */
  trainerArgs: string[];
  /** Where the run's end is announced, redacted to scheme and host (webhook URLs hold tokens); null: nowhere. */
  notify: string | null;
  notes: string[];
}

/** Stands in for the master's private address, which exists only once the master runs. */
export const MASTER_ADDRESS_PLACEHOLDER = '<master-private-ip>';
/** The first training job of a run (train-with-recovery numbers them train-0, train-1, ...). */
const FIRST_TRAIN_JOB = 'train-0';
/** torch.distributed's default rendezvous port, which both providers start from (local adds the cluster's slot). */

/**
 * The cluster facts the commands depend on, as the providers' bootstrap reports them and their capabilities
 * declare them: whether the nodes share one host's CPUs, and the interface MPI must use.
 */
function planCluster(spec: RunSpec): ClusterInfo {
  const { nodesShareCpus, mpiInterface } = capabilitiesOf(spec);
  return {
    clusterId: spec.name,
    provider: spec.provider,
    sshUser: 'ubuntu',
    rendezvousPort: RENDEZVOUS_PORT,
    nodesShareCpus,
    ...(mpiInterface === null ? {} : { mpiInterface }),
  };
}

function planNodes(spec: RunSpec, instanceType: string): NodeRecord[] {
  return ['master', ...workerNames(spec.nodes - 1)].map((name) => ({
    name,
    role: name === 'master' ? 'master' : 'worker',
    providerId: name,
    address: '',
    privateAddress: name === 'master' ? MASTER_ADDRESS_PLACEHOLDER : '',
    sshPort: 22,
    hostKey: '',
    state: 'pending',
    instanceType,
    market: capabilitiesOf(spec).plannedMarket,
    launchedAt: new Date(0).toISOString(),
  }));
}

export function buildRunPlan(spec: RunSpec, topology: PlanTopology | null): RunPlan {
  const [instanceType = 'unknown', ...fallbackInstanceTypes] = capabilitiesOf(spec).instanceTypes;
  const t = spec.training;
  const cluster = planCluster(spec);
  const nodes = planNodes(spec, instanceType);
  const p = topology ? placement(spec, cluster, topology, nodes.length) : null;
  const worldSize = p ? p.ranksPerNode * nodes.length : null;
  return {
    runName: spec.name,
    provider: spec.provider,
    recipe: runTitle(spec),
    preset: runInputs(spec).preset ?? null,
    task: runInputs(spec).task,
    inputs: planInputs(spec),
    nodes: spec.nodes,
    instanceType,
    fallbackInstanceTypes,
    topology,
    ranksPerNode: p?.ranksPerNode ?? null,
    worldSize,
    threadsPerRank: p?.threadsPerRank ?? null,
    coresPerRank: p?.coresPerRank ?? null,
    batch: {
      perDevice: t.perDeviceBatchSize,
      gradientAccumulation: t.gradientAccumulationSteps,
      global: worldSize === null ? null : worldSize * t.perDeviceBatchSize * t.gradientAccumulationSteps,
    },
    learningRate: trainerValues(spec).learningRate.value,
    values: trainerValues(spec),
    evaluate: t.evaluate,
    hubIds: hubIds(spec),
    hostfile: p ? hostfileLines(nodes, p) : null,
    mpirun: p ? shellJoin(mpirunArgs({ spec, cluster, nodes, placement: p, jobDir: jobDir(FIRST_TRAIN_JOB) })) : null,
    sanity: topology ? sanityCommand(spec, topology) : null,
    trainerArgs: distributedTrainArgs(spec),
    notify: spec.notify ? redactedWebhook(spec.notify.webhook) : null,
    notes: planNotes(spec, instanceType, fallbackInstanceTypes, topology),
  };
}

function planInputs(spec: RunSpec): RunPlan['inputs'] {
  const { model, data } = runInputs(spec);
  return { model: describeModel(model), train: describeSource(data.train), validation: describeSource(data.validation) };
}

function planNotes(spec: RunSpec, instanceType: string, fallbacks: string[], topology: PlanTopology | null): string[] {
  const notes: string[] = [];
  if (!topology) {
    notes.push(
      `tuneforge knows no CPU layout for ${instanceType}: ranks, threads and the mpirun line come from the master's lscpu when the run starts`,
    );
  }
  if (fallbacks.length > 0) {
    notes.push(`without capacity for ${instanceType} the run fails over to ${fallbacks.join(', ')}, laid out from its own lscpu`);
  }
  notes.push(...capabilitiesOf(spec).planNotes);
  const { model, data } = runInputs(spec);
  if ([model, data.train, data.validation].some((s) => s.kind === 'path' || s.kind === 'uri')) {
    notes.push(
      'data files and a model folder or URI are checked and hashed by the worker before launch, then copied to every node (tuneforge/inputs/ links into tuneforge/data/<sha256>/ and tuneforge/models/)',
    );
  }
  notes.push(...bf16Notes(spec, instanceType, topology));
  notes.push(`${MASTER_ADDRESS_PLACEHOLDER} is the master's private address, known once it runs`);
  return notes;
}
