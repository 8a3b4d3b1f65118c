// parseLscpu and the Open MPI layout on fixtures shaped like real `lscpu -p` output.
import assert from 'node:assert/strict';
import { execSync, spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { coresPerRank, LSCPU_COMMAND, openMpiMappingArgs, parseLscpu, type CpuTopology } from '../src/cluster/topology';

const HEADER = [
  '# The following is the parsable format, which can be fed to other',
  '# programs. Each different item in every column has an unique ID',
  '# starting usually from zero.',
  '# CPU,Core,Socket,Node',
].join('\n');

/** Sapphire Rapids flags as Linux 5.15+ prints them (abridged in the middle), AMX included. */
const SAPPHIRE_RAPIDS_FLAGS =
  'Flags:                           fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush mmx fxsr sse sse2 ss ht syscall nx pdpe1gb rdtscp lm constant_tsc arch_perfmon rep_good nopl xtopology nonstop_tsc cpuid tsc_known_freq pni pclmulqdq ssse3 fma cx16 pcid sse4_1 sse4_2 x2apic movbe popcnt tsc_deadline_timer aes xsave avx f16c rdrand hypervisor lahf_lm abm 3dnowprefetch invpcid_single ssbd ibrs ibpb stibp ibrs_enhanced fsgsbase tsc_adjust bmi1 avx2 smep bmi2 erms invpcid avx512f avx512dq rdseed adx smap avx512ifma clflushopt clwb avx512cd sha_ni avx512bw avx512vl xsaveopt xsavec xgetbv1 xsaves avx_vnni avx512_bf16 wbnoinvd ida arat avx512vbmi umip pku ospke waitpkg avx512_vbmi2 gfni vaes vpclmulqdq avx512_vnni avx512_bitalg tme avx512_vpopcntdq rdpid cldemote movdiri movdir64b md_clear serialize amx_bf16 avx512_fp16 amx_tile amx_int8 flush_l1d arch_capabilities';

/** This machine's own output (a 2-vCPU AMD Zen 4 VM): no AMX. */
const LOCAL_VM = `${HEADER}
0,0,0,0
1,1,0,0
Flags:                                   fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush mmx fxsr sse sse2 ht syscall nx mmxext fxsr_opt pdpe1gb rdtscp lm constant_tsc rep_good nopl xtopology nonstop_tsc cpuid extd_apicid tsc_known_freq pni pclmulqdq ssse3 fma cx16 pcid sse4_1 sse4_2 x2apic movbe popcnt tsc_deadline_timer aes xsave avx f16c rdrand hypervisor lahf_lm cmp_legacy cr8_legacy abm sse4a misalignsse 3dnowprefetch osvw topoext vmmcall fsgsbase tsc_adjust bmi1 avx2 smep bmi2 erms invpcid avx512f avx512dq rdseed adx smap avx512ifma clflushopt clwb avx512cd sha_ni avx512bw avx512vl xsaveopt xsavec xgetbv1 xsaves avx512_bf16 clzero xsaveerptr arat avx512vbmi umip avx512_vbmi2 gfni vaes vpclmulqdq avx512_vnni avx512_bitalg avx512_vpopcntdq rdpid fsrm
`;

/**
 * Linux numbers the first hyperthread of every core first, then the siblings: CPU c and
 * c + cores share core c. `nodeOfCore` gives each core's NUMA node and socket.
 */
function lscpuFixture(cores: number, nodeOfCore: (core: number) => number, flags: string): string {
  const rows: string[] = [];
  for (let cpu = 0; cpu < cores * 2; cpu += 1) {
    const core = cpu % cores;
    const node = nodeOfCore(core);
    rows.push(`${cpu},${core},${node},${node}`);
  }
  return `${HEADER}\n${rows.join('\n')}\n${flags}\n`;
}

test('r7iz.metal-16xl: one Xeon Gold 6455B socket, 32 cores, 64 vCPUs, one NUMA node, AMX', () => {
  // Intel's PyTorch 2.0 configuration note lists it as "Gold 6455B, 32-core/64-thread, Memory: 8x64GB":
  // one socket (8 DIMMs = 8 channels of one socket); sub-NUMA clustering off, so one NUMA node.
  const topology = parseLscpu(lscpuFixture(32, () => 0, SAPPHIRE_RAPIDS_FLAGS));
  assert.deepEqual(topology, {
    logicalCpus: 64,
    physicalCores: 32,
    sockets: 1,
    numaNodes: 1,
    coresPerNumaNode: 32,
    ranksPerNode: 1,
    threadsPerRank: 31,
    amx: true,
    avx512Bf16: true,
  });
  // Bound to all 32 cores: the one its 31 OMP threads leave free runs the data loader and gloo.
  assert.deepEqual(autoMapping(topology), ['--map-by', 'ppr:1:numa:PE=32', '--bind-to', 'core']);
});

test('m7i.48xlarge: two 48-core sockets, 192 vCPUs, two NUMA nodes', () => {
  const topology = parseLscpu(lscpuFixture(96, (core) => (core < 48 ? 0 : 1), SAPPHIRE_RAPIDS_FLAGS));
  assert.deepEqual(topology, {
    logicalCpus: 192,
    physicalCores: 96,
    sockets: 2,
    numaNodes: 2,
    coresPerNumaNode: 48,
    ranksPerNode: 2,
    threadsPerRank: 47,
    amx: true,
    avx512Bf16: true,
  });
  assert.deepEqual(autoMapping(topology), ['--map-by', 'ppr:1:numa:PE=48', '--bind-to', 'core']);
});

test('a 2-core VM without AMX gets one rank with one thread', () => {
  const topology = parseLscpu(LOCAL_VM);
  assert.deepEqual(topology, {
    logicalCpus: 2,
    physicalCores: 2,
    sockets: 1,
    numaNodes: 1,
    coresPerNumaNode: 2,
    ranksPerNode: 1,
    threadsPerRank: 1,
    amx: false,
    avx512Bf16: true, // Zen 4: native bf16 without AMX
  });
  assert.deepEqual(autoMapping(topology), ['--map-by', 'ppr:1:numa:PE=2', '--bind-to', 'core']);
});

test('an empty NUMA column (kernel without NUMA) counts as one node', () => {
  const topology = parseLscpu(`${HEADER}\n0,0,0,\n1,1,0,\nFlags: fpu sse\n`);
  assert.equal(topology.numaNodes, 1);
  assert.equal(topology.physicalCores, 2);
});

test('uneven NUMA nodes size threads by the smallest node', () => {
  // e.g. a VM whose vCPUs do not split evenly: 3 cores on node 0, 2 on node 1, no SMT.
  const topology = parseLscpu(`${HEADER}\n0,0,0,0\n1,1,0,0\n2,2,0,0\n3,3,0,1\n4,4,0,1\nFlags: fpu\n`);
  assert.equal(topology.ranksPerNode, 2);
  assert.equal(topology.threadsPerRank, 1);
  assert.equal(topology.coresPerNumaNode, 2);
  assert.equal(coresPerRank(topology, 2), 2, "one rank per NUMA node gets the smaller node's cores");
  assert.equal(coresPerRank(topology, 4), 1);
});

test('AMX needs all three flags', () => {
  const partial = parseLscpu(`${HEADER}\n0,0,0,0\nFlags: amx_bf16 amx_tile\n`);
  assert.equal(partial.amx, false);
});

test('ranks that do not divide across NUMA nodes are mapped per node', () => {
  assert.deepEqual(openMpiMappingArgs({ numaNodes: 2, ranksPerNode: 3, coresPerRank: 4 }), [
    '--map-by',
    'ppr:3:node:PE=4',
    '--bind-to',
    'core',
  ]);
  assert.equal(openMpiMappingArgs({ numaNodes: 2, ranksPerNode: 4, coresPerRank: 11 })[1], 'ppr:2:numa:PE=11');
});

test('cores per rank: an even share of a NUMA node when ranks divide over them, else of the node', () => {
  const r7iz = { numaNodes: 1, coresPerNumaNode: 32, physicalCores: 32 };
  assert.equal(coresPerRank(r7iz, 1), 32);
  assert.equal(coresPerRank(r7iz, 2), 16, "the post's -ppn 2 on one NUMA node: 16 cores each");
  assert.equal(coresPerRank(r7iz, 3), 10, 'ranks that do not divide the cores leave the rest unbound');
  assert.equal(coresPerRank(r7iz, 64), 0, 'more ranks than cores: nothing to bind');
  const m7i = { numaNodes: 2, coresPerNumaNode: 48, physicalCores: 96 };
  assert.equal(coresPerRank(m7i, 4), 24);
  assert.equal(coresPerRank(m7i, 3), 32, 'spread over the node when 3 ranks do not divide over 2 NUMA nodes');
});

test('output that is not lscpu -p is rejected', () => {
  assert.throws(() => parseLscpu('Architecture: x86_64\n'), Error);
  assert.throws(() => parseLscpu(''), Error);
});

/** The auto layout's mapping: one rank per NUMA node, bound to all of its cores. */
function autoMapping(topology: CpuTopology): string[] {
  return openMpiMappingArgs({ ...topology, coresPerRank: coresPerRank(topology, topology.ranksPerNode) });
}

const HAS_LSCPU = spawnSync('sh', ['-c', 'command -v lscpu']).status === 0;

test('the command this parser reads runs here and parses', { skip: HAS_LSCPU ? false : 'no lscpu here' }, () => {
  const topology = parseLscpu(execSync(LSCPU_COMMAND, { encoding: 'utf8', shell: '/bin/sh' }));
  assert.ok(topology.logicalCpus >= 1 && topology.physicalCores >= 1 && topology.threadsPerRank >= 1);
});
