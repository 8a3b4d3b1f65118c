import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseLscpu, type CpuTopology } from '../src/cluster/topology';
import { distributedCommand, placement, sanityCommand } from '../src/recipes/launch-command';
import type { ClusterInfo } from '../src/providers/provider';
import { validateRunSpec } from '../src/spec/validate';
import { fakeNode } from './helpers/fake-activities';

function spec(training: object = {}) {
  const result = validateRunSpec({ name: 'cmd-test', provider: 'local', recipe: 'tiny-qa', training: { maxSteps: 10, ...training } });
  assert.ok(result.ok);
  return result.spec;
}

const localCluster: ClusterInfo = { clusterId: 'c', provider: 'local', sshUser: 'ubuntu', rendezvousPort: 29507, mpiInterface: 'lo', nodesShareCpus: true };
const ec2Cluster: ClusterInfo = { clusterId: 'c', provider: 'aws', sshUser: 'ubuntu', rendezvousPort: 29500, nodesShareCpus: false };
const twoCores: CpuTopology = { logicalCpus: 2, physicalCores: 2, sockets: 1, numaNodes: 1, ranksPerNode: 1, threadsPerRank: 1, amx: false };
// m7i.48xlarge: 2 sockets, 96 physical cores, 192 vCPUs, 2 NUMA nodes.
const m7i = parseLscpu(
  [
    ...Array.from({ length: 192 }, (_, cpu) => `${cpu},${cpu % 96},${cpu % 96 < 48 ? 0 : 1},${cpu % 96 < 48 ? 0 : 1}`),
    'Flags: fpu avx512f amx_bf16 amx_tile amx_int8',
  ].join('\n'),
);

describe('placement and launch commands', () => {
  it('splits a shared host between the nodes and binds nothing', () => {
    assert.deepEqual(placement(spec(), localCluster, twoCores, 3), { ranksPerNode: 1, threadsPerRank: 1, mapping: ['--map-by', 'ppr:1:node', '--bind-to', 'none'] });
  });

  it('puts one rank per NUMA node on dedicated nodes, physical cores minus one threads each', () => {
    assert.equal(m7i.numaNodes, 2);
    assert.deepEqual(placement(spec(), ec2Cluster, m7i, 4), {
      ranksPerNode: 2,
      threadsPerRank: 47,
      mapping: ['--map-by', 'ppr:1:numa:PE=47', '--bind-to', 'core'],
    });
  });

  it('lets the spec override ranks and threads', () => {
    const p = placement(spec({ ranksPerNode: 4, threadsPerRank: 20 }), ec2Cluster, m7i, 4);
    assert.deepEqual([p.ranksPerNode, p.threadsPerRank], [4, 20]);
  });

  it('builds one mpirun over the cluster hostfile with the rendezvous and thread settings', () => {
    const nodes = ['master', 'worker-1', 'worker-2'].map(fakeNode);
    const command = distributedCommand({ spec: spec(), cluster: localCluster, nodes, placement: placement(spec(), localCluster, twoCores, 3), jobDir: 'tuneforge/jobs/train-0' });
    for (const part of ['-np 3', 'MASTER_PORT=29507', 'OMP_NUM_THREADS=1', 'oob_tcp_if_include lo', 'plm_rsh_no_tree_spawn 1', '--resume', 'worker-1 slots=1']) {
      assert.ok(command.includes(part), `missing ${part} in ${command}`);
    }
    assert.ok(command.indexOf('ssh worker-1') < command.indexOf('mpirun.openmpi'), 'the newest checkpoint is staged before mpirun starts');
  });

  it('runs the sanity run as one process with every physical core', () => {
    const command = sanityCommand(spec(), m7i);
    assert.ok(command.includes('OMP_NUM_THREADS=96'));
    assert.ok(!command.includes('--resume'));
  });
});
