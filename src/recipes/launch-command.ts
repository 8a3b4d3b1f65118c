// The shell commands that run training: a single process for the sanity run, mpirun for the cluster.
import { coresPerRank, openMpiMappingArgs } from '../cluster/topology';
import { specInvalid } from '../common/errors';
import type { ClusterInfo, NodeRecord } from '../providers/provider';
import { sh, shellJoin, shellQuote } from '../remote/shell-quote';
import { ranksPerNodeOf } from '../run-spec/kept-batch';
import type { RunSpec } from '../run-spec/schema';
import type { CpuInfo } from '../activities/types';
import { recipeFor, trainScriptArgs } from './recipe';
import { REMOTE } from './remote-paths';

export interface Placement {
  ranksPerNode: number;
  threadsPerRank: number;
  /** Physical cores each rank is bound to; null where nodes share a host's CPUs and nothing is bound. */
  coresPerRank: number | null;
  /** mpirun's mapping and binding arguments. */
  mapping: string[];
}

/**
 * Dedicated nodes: ranks per node from the spec (auto: one per NUMA node), each bound to an even share
 * of the cores, physical cores of that share minus one threads each (lscpu decides). Nodes that share
 * one host's CPUs (local) split them and bind nothing.
 */
export function placement(spec: RunSpec, cluster: ClusterInfo, cpu: CpuInfo, nodeCount: number): Placement {
  const t = spec.training;
  if (cluster.nodesShareCpus) {
    const ranksPerNode = ranksPerNodeOf(t.ranksPerNode, true, cpu.ranksPerNode);
    const threadsPerRank =
      t.threadsPerRank === 'auto' ? Math.max(1, Math.floor(cpu.logicalCpus / (ranksPerNode * nodeCount))) : t.threadsPerRank;
    return {
      ranksPerNode,
      threadsPerRank,
      coresPerRank: null,
      mapping: ['--map-by', `ppr:${ranksPerNode}:node`, '--bind-to', 'none'],
    };
  }
  const ranksPerNode = ranksPerNodeOf(t.ranksPerNode, false, cpu.ranksPerNode);
  // Runs provisioned before coresPerNumaNode existed carry threadsPerRank = fewest cores per NUMA node - 1.
  const layout = { ...cpu, coresPerNumaNode: cpu.coresPerNumaNode ?? cpu.threadsPerRank + 1 };
  const cores = coresPerRank(layout, ranksPerNode);
  if (cores < 1) {
    throw specInvalid([
      {
        path: 'training.ranksPerNode',
        message: `${ranksPerNode} ranks per node, but a node has ${cpu.physicalCores} physical cores: at most one rank per core`,
      },
    ]);
  }
  const threadsPerRank = t.threadsPerRank === 'auto' ? Math.max(1, cores - 1) : t.threadsPerRank;
  const mapping = openMpiMappingArgs({ numaNodes: cpu.numaNodes, ranksPerNode, coresPerRank: cores });
  return { ranksPerNode, threadsPerRank, coresPerRank: cores, mapping };
}

function envAssignments(spec: RunSpec, extra: Record<string, string>): string[] {
  return Object.entries({ ...recipeFor(spec).trainEnv, ...extra }).map(([name, value]) => `${name}=${value}`);
}

/** `datasetRevision`: a hub dataset's commit as the master downloaded it (the ranks read its copy), when the run has one. */
export function sanityCommand(spec: RunSpec, cpu: CpuInfo, datasetRevision?: string): string {
  const args = trainScriptArgs(spec, {
    outputDir: REMOTE.sanityOutput,
    maxSteps: spec.sanity.maxSteps,
    resume: false,
    evaluate: false,
    ...(datasetRevision ? { datasetRevision } : {}),
  });
  return [
    sh`rm -rf ${REMOTE.sanityOutput}`,
    `env ${shellJoin(envAssignments(spec, { OMP_NUM_THREADS: String(cpu.physicalCores) }))} ${REMOTE.python} ${shellJoin(args)}`,
  ].join(' && ');
}

export interface MpiCommandInput {
  spec: RunSpec;
  cluster: ClusterInfo;
  /** Master first. */
  nodes: NodeRecord[];
  placement: Placement;
  jobDir: string;
  /** A hub dataset's commit as the master downloaded it (the ranks read its copy), when the run has one. */
  datasetRevision?: string;
}

/** The distributed run's train_qa.py command line: resumes from the newest complete checkpoint, evaluates if the spec says so. */
export function distributedTrainArgs(spec: RunSpec, datasetRevision?: string): string[] {
  return trainScriptArgs(spec, {
    outputDir: REMOTE.trainOutput,
    resume: true,
    evaluate: true,
    ...(datasetRevision ? { datasetRevision } : {}),
  });
}

export function hostfilePath(jobDirectory: string): string {
  return `${jobDirectory}/hostfile`;
}

/** One line per node, master first: `<name> slots=<ranks per node>`. */
export function hostfileLines(nodes: NodeRecord[], p: Placement): string[] {
  return nodes.map((n) => `${n.name} slots=${p.ranksPerNode}`);
}

/** The mpirun command line (unquoted words), run on the master. */
export function mpirunArgs(input: MpiCommandInput): string[] {
  const { spec, cluster, nodes, placement: p } = input;
  const [master] = nodes;
  if (!master) throw new Error('no nodes to train on');
  const network = cluster.mpiInterface
    ? ['--mca', 'oob_tcp_if_include', cluster.mpiInterface, '--mca', 'btl_tcp_if_include', cluster.mpiInterface]
    : [];
  return [
    'mpirun.openmpi',
    '--hostfile',
    hostfilePath(input.jobDir),
    '-np',
    String(nodes.length * p.ranksPerNode),
    ...p.mapping,
    // Each line starts with `[<job>,<rank>]<stdout>:`: the one log holds every rank's lines, told apart by
    // `tuneforge logs --rank`; progress lines are still found (parseProgressLine looks for its prefix anywhere).
    '--tag-output',
    '--mca',
    'plm_rsh_no_tree_spawn',
    '1',
    '--mca',
    'btl',
    'self,tcp',
    ...network,
    '-x',
    `MASTER_ADDR=${master.privateAddress}`,
    '-x',
    `MASTER_PORT=${cluster.rendezvousPort}`,
    '-x',
    `OMP_NUM_THREADS=${p.threadsPerRank}`,
    ...Object.entries(recipeFor(spec).trainEnv).flatMap(([name, value]) => ['-x', `${name}=${value}`]),
    REMOTE.python,
    ...distributedTrainArgs(spec, input.datasetRevision),
  ];
}

export function distributedCommand(input: MpiCommandInput): string {
  const hostLines = hostfileLines(input.nodes, input.placement).join('\n');
  return [
    sh`printf '%s\n' ${hostLines} > ${hostfilePath(input.jobDir)}`,
    stageCheckpointCommand(input.nodes.slice(1).map((n) => n.name)),
    shellJoin(mpirunArgs(input)),
  ].join(' && ');
}

/**
 * Every rank reads the checkpoint on resume, but only the master's is complete: copy the newest
 * complete one to every worker before (re)starting.
 */
export function stageCheckpointCommand(workers: string[]): string {
  const pick = `import sys; sys.path.insert(0, sys.argv[1]); from checkpoints import newest_complete_checkpoint as n; print(n(sys.argv[2]) or "")`;
  const out = REMOTE.trainOutput;
  // $name is expanded on the master, inside the double quotes, before ssh sends the command.
  const copies = workers.map(
    (w) => `tar -C ${out} -cf - "$name" | ssh ${shellQuote(w)} "rm -rf ${out}/$name && mkdir -p ${out} && tar -C ${out} -xf -"`,
  );
  return [
    sh`ckpt=$(${REMOTE.python} -c ${pick} ${REMOTE.recipe}/common ${REMOTE.trainOutput})`,
    `{ [ -z "$ckpt" ] || { name=$(basename "$ckpt") && echo "staging $name on ${workers.length} worker(s)"${copies.map((c) => ` && ${c}`).join('')}; }; }`,
  ].join(' && ');
}
