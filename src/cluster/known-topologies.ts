// CPU layouts of instance types that `tuneforge plan` can show without launching one. A run never uses
// this table: it always reads the master's own lscpu. Pure.
//
// These layouts are INFERRED FROM PUBLIC DATA, not captured `lscpu` output:
// - r7iz.metal-16xl: AWS lists 64 vCPUs (32 physical cores with hyperthreading) of a 4th-generation
//   Xeon (Sapphire Rapids, AMX). Intel's configuration note for its PyTorch results on this type lists
//   one "Gold 6455B, 32-core/64-thread, Memory: 8x64GB": one socket (8 DIMMs = the 8 channels of one
//   socket) and, with sub-NUMA clustering off, one NUMA node.
import { parseLscpu, type CpuTopology } from './topology';

interface CpuShape {
  sockets: number;
  coresPerSocket: number;
  numaNodesPerSocket: number;
  threadsPerCore: number;
  flags: string[];
}

const AMX = ['avx512f', 'avx512_bf16', 'amx_bf16', 'amx_tile', 'amx_int8'];

/** Where a known layout comes from, as plans show it. */
export const KNOWN_TOPOLOGY_SOURCE = 'known table, inferred from public data, not a captured lscpu';

/**
 * `lscpu -p=CPU,Core,Socket,Node` and a Flags line for the shape, numbered as Linux does: the first
 * hyperthread of every core, then the siblings. Going through parseLscpu keeps the derived fields (ranks,
 * threads) exactly what a run would compute from the real output.
 */
export function syntheticLscpu(shape: CpuShape): string {
  const cores = shape.sockets * shape.coresPerSocket;
  const coresPerNuma = shape.coresPerSocket / shape.numaNodesPerSocket;
  const rows: string[] = [];
  for (let cpu = 0; cpu < cores * shape.threadsPerCore; cpu += 1) {
    const core = cpu % cores;
    const socket = Math.floor(core / shape.coresPerSocket);
    rows.push(`${cpu},${core},${socket},${Math.floor(core / coresPerNuma)}`);
  }
  return [...rows, `Flags: ${shape.flags.join(' ')}`].join('\n');
}

const SHAPES: Readonly<Record<string, CpuShape>> = {
  'r7iz.metal-16xl': { sockets: 1, coresPerSocket: 32, numaNodesPerSocket: 1, threadsPerCore: 2, flags: AMX },
};

/** The layout of an instance type, or undefined when tuneforge knows none (the run's lscpu decides). */
export function knownTopology(instanceType: string): CpuTopology | undefined {
  const shape = Object.hasOwn(SHAPES, instanceType) ? SHAPES[instanceType] : undefined;
  return shape && parseLscpu(syntheticLscpu(shape));
}

/**
 * bf16 kernels by instance family (the part before the dot), from the CPU generation AWS lists for it:
 * Sapphire/Emerald/Granite Rapids have AMX; AMD Zen 4 and 5 have AVX-512 BF16 but no AMX; Ice Lake,
 * Cascade Lake, Skylake and AMD Zen 2/3 have neither. Plans only: the run's sanity run probes the real kernels.
 */
const BF16_FAMILIES = {
  amx: 'm7i m7i-flex c7i c7i-flex r7i r7iz i7i i7ie u7i m8i c8i r8i',
  avx512_bf16: 'm7a c7a r7a hpc7a m8a c8a r8a',
  none:
    'm6i m6id m6in m6idn c6i c6id c6in r6i r6id r6in r6idn i4i x2idn x2iedn m5 m5d m5n m5dn m5zn c5 c5d c5n ' +
    'r5 r5d r5n r5dn z1d m6a c6a r6a hpc6a m5a m5ad c5a c5ad r5a r5ad',
} as const;

/** The bf16 kernels an instance type's family has, or undefined when tuneforge does not know the family. */
export function knownBf16Kernels(instanceType: string): keyof typeof BF16_FAMILIES | undefined {
  const family = instanceType.split('.')[0] ?? '';
  const kinds = Object.keys(BF16_FAMILIES) as Array<keyof typeof BF16_FAMILIES>;
  return kinds.find((kind) => BF16_FAMILIES[kind].split(' ').includes(family));
}
