// CPU topology of a node from `lscpu`, and the MPI rank layout it implies: one rank per NUMA node,
// each with OMP threads = its physical cores minus one (left for the data loader and gloo).
// Pure: reads text, touches nothing.
//
// Input format, chosen over `lscpu -J` because its columns have been stable since util-linux 2.19
// while the JSON layout changed across releases: the output of LSCPU_COMMAND, i.e. the parseable
// per-CPU table (`# comment` lines, then "cpu,core,socket,node" rows; node is empty on kernels
// without NUMA) followed by lscpu's "Flags:" line.

/** Run on a node; its whole stdout is what parseLscpu reads. LC_ALL=C keeps the "Flags:" label in English. */
export const LSCPU_COMMAND = "LC_ALL=C lscpu -p=CPU,Core,Socket,Node && LC_ALL=C lscpu | grep -E '^[[:space:]]*Flags:'";

const AMX_FLAGS = ['amx_bf16', 'amx_tile', 'amx_int8'] as const;

export interface CpuTopology {
  logicalCpus: number;
  physicalCores: number;
  sockets: number;
  numaNodes: number;
  /** Physical cores of the smallest NUMA node. */
  coresPerNumaNode: number;
  /** One MPI rank per NUMA node. */
  ranksPerNode: number;
  /** OMP_NUM_THREADS per rank: the fewest physical cores of any NUMA node, minus one, at least 1. */
  threadsPerRank: number;
  /** The CPU lists all of amx_bf16, amx_tile and amx_int8. */
  amx: boolean;
  /** The CPU lists avx512_bf16 (native bf16 dot products without AMX, e.g. AMD Zen 4, Cooper Lake). */
  avx512Bf16: boolean;
}

interface CpuRow {
  core: string;
  socket: string;
  node: string;
}

function parseRow(line: string): CpuRow {
  const fields = line.split(',').map((field) => field.trim());
  const [cpu, core, socket, node = ''] = fields;
  if (fields.length < 3 || cpu === undefined || core === undefined || socket === undefined || !/^\d+$/.test(cpu)) {
    throw new Error(`unexpected lscpu row "${line}": run ${LSCPU_COMMAND}`);
  }
  // Kernels without NUMA support print an empty node column: the whole machine is one node.
  return { core, socket, node: node === '' ? '0' : node };
}

export function parseLscpu(output: string): CpuTopology {
  const rows: CpuRow[] = [];
  let flags: string[] = [];
  for (const rawLine of output.split('\n')) {
    const line = rawLine.trim();
    if (line === '' || line.startsWith('#')) continue;
    if (line.startsWith('Flags:')) {
      flags = line.slice('Flags:'.length).trim().split(/\s+/);
      continue;
    }
    rows.push(parseRow(line));
  }
  if (rows.length === 0) throw new Error(`no CPU rows in lscpu output: run ${LSCPU_COMMAND}`);

  const coresByNode = new Map<string, Set<string>>();
  for (const row of rows) {
    const cores = coresByNode.get(row.node) ?? new Set<string>();
    cores.add(`${row.socket}:${row.core}`); // core ids are only unique within a socket on some kernels
    coresByNode.set(row.node, cores);
  }
  const physicalCores = new Set(rows.map((row) => `${row.socket}:${row.core}`)).size;
  const fewestCoresPerNode = Math.min(...[...coresByNode.values()].map((cores) => cores.size));
  return {
    logicalCpus: rows.length,
    physicalCores,
    sockets: new Set(rows.map((row) => row.socket)).size,
    numaNodes: coresByNode.size,
    coresPerNumaNode: fewestCoresPerNode,
    ranksPerNode: coresByNode.size,
    threadsPerRank: Math.max(1, fewestCoresPerNode - 1),
    amx: AMX_FLAGS.every((flag) => flags.includes(flag)),
    avx512Bf16: flags.includes('avx512_bf16'),
  };
}

export type RankLayout = Pick<CpuTopology, 'numaNodes'> & {
  ranksPerNode: number;
  /** Physical cores each rank is bound to (Open MPI's PE count). */
  coresPerRank: number;
};

/**
 * Physical cores each of ranksPerNode ranks gets: an even share of its NUMA node when the ranks divide
 * evenly over the NUMA nodes (each rank then stays inside one), else an even share of the node. 0 when
 * there are more ranks than cores. The rank's OMP threads are this minus one: the spare core inside the
 * rank's binding runs its data loader and gloo threads.
 */
export function coresPerRank(
  topology: Pick<CpuTopology, 'numaNodes' | 'coresPerNumaNode' | 'physicalCores'>,
  ranksPerNode: number,
): number {
  const { numaNodes, coresPerNumaNode, physicalCores } = topology;
  return ranksPerNode % numaNodes === 0
    ? Math.floor(coresPerNumaNode / (ranksPerNode / numaNodes))
    : Math.floor(physicalCores / ranksPerNode);
}

/**
 * Open MPI mapping and binding: ranks per NUMA node when they divide evenly, else per node, each bound
 * to coresPerRank whole cores (PE counts cores, not hyperthreads). E.g. 2 ranks on a 1-NUMA-node, 32-core
 * r7iz.metal-16xl: `--map-by ppr:2:numa:PE=16 --bind-to core`, rank 0 on cores 0-15 and rank 1 on cores
 * 16-31 (Open MPI 4.1.4's mapper on that topology, test/launch-command.test.ts; Open MPI 5's PRRTE
 * documents the same ppr:N:resource:PE=n form).
 */
export function openMpiMappingArgs(layout: RankLayout): string[] {
  const { numaNodes, ranksPerNode, coresPerRank: pe } = layout;
  const perNuma = numaNodes > 0 && ranksPerNode % numaNodes === 0;
  const mapping = perNuma ? `ppr:${ranksPerNode / numaNodes}:numa:PE=${pe}` : `ppr:${ranksPerNode}:node:PE=${pe}`;
  return ['--map-by', mapping, '--bind-to', 'core'];
}
