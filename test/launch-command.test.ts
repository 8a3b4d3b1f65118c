import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { knownTopology } from '../src/cluster/known-topologies';
import { parseLscpu, type CpuTopology } from '../src/cluster/topology';
import { FailureType } from '../src/common/errors';
import { distributedCommand, distributedTrainArgs, mpirunArgs, placement, sanityCommand } from '../src/recipes/launch-command';
import { shellJoin } from '../src/remote/shell-quote';
import type { ClusterInfo } from '../src/providers/provider';
import { validateRunSpec } from '../src/run-spec/validate';
import { fakeNode, TWO_CORES } from './helpers/fake-activities';
import { hwlocXml, openMpi4SkipReason, simulateMapping } from './helpers/open-mpi-simulator';

function spec(training: object = {}) {
  const result = validateRunSpec({
    name: 'cmd-test',
    provider: 'local',
    recipe: 'tiny-qa',
    training: { maxSteps: 10, ...training },
  });
  assert.ok(result.ok);
  return result.spec;
}

const localCluster: ClusterInfo = {
  clusterId: 'c',
  provider: 'local',
  sshUser: 'ubuntu',
  rendezvousPort: 29507,
  mpiInterface: 'lo',
  nodesShareCpus: true,
};
const ec2Cluster: ClusterInfo = {
  clusterId: 'c',
  provider: 'aws',
  sshUser: 'ubuntu',
  rendezvousPort: 29500,
  nodesShareCpus: false,
};

// m7i.48xlarge: 2 sockets, 96 physical cores, 192 vCPUs, 2 NUMA nodes.
const m7i = parseLscpu(
  [
    ...Array.from({ length: 192 }, (_, cpu) => `${cpu},${cpu % 96},${cpu % 96 < 48 ? 0 : 1},${cpu % 96 < 48 ? 0 : 1}`),
    'Flags: fpu avx512f amx_bf16 amx_tile amx_int8',
  ].join('\n'),
);

const known = knownTopology('r7iz.metal-16xl');
assert.ok(known);
const r7iz: CpuTopology = known;

describe('placement and launch commands', () => {
  it('splits a shared host between the nodes and binds nothing', () => {
    assert.deepEqual(placement(spec(), localCluster, TWO_CORES, 3), {
      ranksPerNode: 1,
      threadsPerRank: 1,
      coresPerRank: null,
      mapping: ['--map-by', 'ppr:1:node', '--bind-to', 'none'],
    });
  });

  it('puts one rank per NUMA node on dedicated nodes, bound to its cores, those cores minus one threads each', () => {
    assert.equal(m7i.numaNodes, 2);
    assert.deepEqual(placement(spec(), ec2Cluster, m7i, 4), {
      ranksPerNode: 2,
      threadsPerRank: 47,
      coresPerRank: 48,
      mapping: ['--map-by', 'ppr:1:numa:PE=48', '--bind-to', 'core'],
    });
  });

  it("splits a one-NUMA-node r7iz.metal-16xl between the post's 2 ranks: 16 cores and 15 threads each", () => {
    assert.deepEqual(placement(spec({ ranksPerNode: 2 }), ec2Cluster, r7iz, 4), {
      ranksPerNode: 2,
      threadsPerRank: 15,
      coresPerRank: 16,
      mapping: ['--map-by', 'ppr:2:numa:PE=16', '--bind-to', 'core'],
    });
    // An explicit thread count is kept; the binding still follows the cores each rank gets.
    const p = placement(spec({ ranksPerNode: 2, threadsPerRank: 12 }), ec2Cluster, r7iz, 4);
    assert.deepEqual([p.threadsPerRank, p.coresPerRank, p.mapping[1]], [12, 16, 'ppr:2:numa:PE=16']);
  });

  it('refuses more ranks than a node has cores, as a non-retryable SpecInvalid naming the field', () => {
    assert.throws(
      () => placement(spec({ ranksPerNode: 64 }), ec2Cluster, r7iz, 4),
      (err: unknown) =>
        err instanceof ApplicationFailure &&
        err.type === FailureType.SpecInvalid &&
        err.nonRetryable &&
        /training\.ranksPerNode: 64 ranks per node, but a node has 32 physical cores/.test(err.message),
    );
  });

  it('places runs whose recorded lscpu predates coresPerNumaNode from their threads per rank', () => {
    const { coresPerNumaNode: _dropped, ...recorded } = r7iz;
    const p = placement(spec({ ranksPerNode: 2 }), ec2Cluster, recorded as CpuTopology, 4);
    assert.deepEqual([p.coresPerRank, p.threadsPerRank], [16, 15]);
  });

  it('lets the spec override ranks and threads', () => {
    const p = placement(spec({ ranksPerNode: 4, threadsPerRank: 20 }), ec2Cluster, m7i, 4);
    assert.deepEqual([p.ranksPerNode, p.threadsPerRank], [4, 20]);
  });

  it('builds one mpirun over the cluster hostfile with the rendezvous and thread settings', () => {
    const nodes = ['master', 'worker-1', 'worker-2'].map(fakeNode);
    const command = distributedCommand({
      spec: spec(),
      cluster: localCluster,
      nodes,
      placement: placement(spec(), localCluster, TWO_CORES, 3),
      jobDir: 'tuneforge/jobs/train-0',
    });
    for (const part of [
      '-np 3',
      'MASTER_PORT=29507',
      'OMP_NUM_THREADS=1',
      'oob_tcp_if_include lo',
      'plm_rsh_no_tree_spawn 1',
      '--resume',
      'worker-1 slots=1',
    ]) {
      assert.ok(command.includes(part), `missing ${part} in ${command}`);
    }
    assert.ok(
      command.indexOf('ssh worker-1') < command.indexOf('mpirun.openmpi'),
      'the newest checkpoint is staged before mpirun starts',
    );
  });

  it('runs the sanity run as one process with every physical core, never evaluating', () => {
    const command = sanityCommand(spec(), m7i);
    assert.ok(command.includes('OMP_NUM_THREADS=96'));
    assert.ok(!command.includes('--resume'));
    assert.ok(!command.includes('--do_eval'), 'the sanity run only measures throughput');
  });

  it('evaluates after the distributed run unless training.evaluate is false', () => {
    assert.ok(distributedTrainArgs(spec()).includes('--do_eval'));
    assert.ok(!distributedTrainArgs(spec({ evaluate: false })).includes('--do_eval'));
    const nodes = ['master', 'worker-1'].map(fakeNode);
    const input = {
      spec: spec(),
      cluster: localCluster,
      nodes,
      placement: placement(spec(), localCluster, TWO_CORES, 2),
      jobDir: 'tuneforge/jobs/train-0',
    };
    assert.ok(distributedCommand(input).endsWith(` && ${shellJoin(mpirunArgs(input))}`), 'the command runs exactly mpirunArgs');
    assert.deepEqual(mpirunArgs(input).slice(-distributedTrainArgs(spec()).length), distributedTrainArgs(spec()));
  });

  it("reads the master's copy of a hub dataset at the resolved commit, in the sanity run and every rank's command", () => {
    const result = validateRunSpec({
      name: 'cmd-test',
      provider: 'local',
      task: 'text-classification',
      model: 'org/m',
      data: {
        train: { hub: 'org/d', split: 'train', revision: 'main' },
        validation: { hub: 'org/d', split: 'test', revision: 'main' },
      },
      training: { maxSteps: 10 },
    });
    assert.ok(result.ok);
    const commit = 'a'.repeat(40);
    const input = {
      spec: result.spec,
      cluster: localCluster,
      nodes: ['master', 'worker-1'].map(fakeNode),
      placement: placement(result.spec, localCluster, TWO_CORES, 2),
      jobDir: 'tuneforge/jobs/train-0',
      datasetRevision: commit,
    };
    const copy = ` --dataset_dir tuneforge/datasets/hub-${commit} `;
    assert.ok(sanityCommand(result.spec, m7i, commit).includes(copy));
    assert.ok(distributedCommand(input).includes(copy));
    assert.doesNotMatch(distributedCommand(input), / --dataset_revision /);
    assert.match(sanityCommand(result.spec, m7i), / --dataset_revision main /, "without a resolved commit: the spec's revision");
  });
});

describe("Open MPI 4's own mapper on four simulated r7iz.metal-16xl nodes", { skip: openMpi4SkipReason() }, () => {
  const xml = hwlocXml(r7iz.physicalCores, r7iz.logicalCpus / r7iz.physicalCores);

  it("binds the post's 8 ranks 2 per node, 16 distinct cores each", () => {
    const p = placement(spec({ ranksPerNode: 2 }), ec2Cluster, r7iz, 4);
    const { ranks, output } = simulateMapping(xml, 4, ['-np', '8', ...p.mapping]);
    assert.equal(ranks.length, 8, output);
    const nodes = new Map<string, number[][]>();
    for (const rank of ranks) nodes.set(rank.node, [...(nodes.get(rank.node) ?? []), rank.cores]);
    assert.equal(nodes.size, 4, output);
    for (const [node, bindings] of nodes) {
      assert.deepEqual(
        bindings.map((cores) => cores.length),
        [16, 16],
        `${node}: ${output}`,
      );
      assert.equal(new Set(bindings.flat()).size, 32, `${node}: the two ranks share no core`);
    }
  });

  it('refuses the binding that takes threads for cores (2 ranks x PE=31 on 32 cores)', () => {
    const { ranks } = simulateMapping(xml, 4, ['-np', '8', '--map-by', 'ppr:2:numa:PE=31', '--bind-to', 'core']);
    assert.equal(ranks.length, 0);
  });
});
