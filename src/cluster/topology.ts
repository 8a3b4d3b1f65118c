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
  /** One MPI rank per NUMA node. */
  ranksPerNode: number;
  /** OMP_NUM_THREADS per rank: the fewest physical cores of any NUMA node, minus one, at least 1. */
  threadsPerRank: number;
  /** The CPU lists all of amx_bf16, amx_tile and amx_int8. */
  amx: boolean;
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
    ranksPerNode: coresByNode.size,
    threadsPerRank: Math.max(1, fewestCoresPerNode - 1),
    amx: AMX_FLAGS.every((flag) => flags.includes(flag)),
  };
}

export type RankLayout = Pick<CpuTopology, 'numaNodes' | 'ranksPerNode' | 'threadsPerRank'>;

/**
 * Open MPI 4.1 mapping and binding for the layout: ranks spread evenly over NUMA nodes when they
 * divide evenly (else over the node), each bound to threadsPerRank whole cores (PE counts cores,
 * not hyperthreads), with OMP_NUM_THREADS exported to match.
 */
/** Open MPI mapping and binding: ranks per NUMA node when they divide evenly, each bound to its cores. */
export function openMpiMappingArgs(layout: RankLayout): string[] {
  const { numaNodes, ranksPerNode, threadsPerRank } = layout;
  const perNuma = numaNodes > 0 && ranksPerNode % numaNodes === 0;
  const mapping = perNuma
    ? `ppr:${ranksPerNode / numaNodes}:numa:PE=${threadsPerRank}`
    : `ppr:${ranksPerNode}:node:PE=${threadsPerRank}`;
  return ['--map-by', mapping, '--bind-to', 'core'];
}
