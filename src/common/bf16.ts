// bf16 truth: which CPU kernels bf16 really ran on (recipes/common/bf16_probe.py on the master) and how
// people are told. Pure: the workflow, the client and the activities share it.

/** oneDNN's bf16 kernels: AMX tiles, AVX-512 BF16 instructions, none (emulated through f32), or not known. */
export type Bf16Kernels = 'amx' | 'avx512_bf16' | 'none' | 'unknown';

export interface Bf16Record {
  /** The spec's training.bf16. */
  requested: boolean;
  kernels: Bf16Kernels;
}

const KNOWN: readonly Bf16Kernels[] = ['amx', 'avx512_bf16', 'none'];

/** The probe's one JSON line (`{"bf16_kernels": ..., "isa": ...}`); anything else is 'unknown'. */
export function parseBf16Probe(stdout: string): Bf16Kernels {
  const line = stdout.trim().split('\n').pop() ?? '';
  try {
    const parsed = JSON.parse(line) as { bf16_kernels?: unknown };
    const kernels = KNOWN.find((k) => k === parsed.bf16_kernels);
    return kernels ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/** Kernels a CPU's flags promise (lscpu / /proc/cpuinfo names); the probe says what really runs. */
export function bf16KernelsOfFlags(flags: readonly string[]): Exclude<Bf16Kernels, 'unknown'> {
  if (flags.includes('amx_bf16')) return 'amx';
  return flags.includes('avx512_bf16') ? 'avx512_bf16' : 'none';
}

export const BF16_NAMES: Readonly<Record<Exclude<Bf16Kernels, 'unknown' | 'none'>, string>> = {
  amx: 'AMX',
  avx512_bf16: 'AVX-512 BF16',
};

/** bf16 was asked for and nothing but emulation ran: slower than fp32, worth a warning. */
export function bf16Emulated(record: Bf16Record): boolean {
  return record.requested && record.kernels === 'none';
}

/** One line for the summary and status: `bf16: AMX`, `bf16: AVX-512 BF16`, or the emulation warning. */
export function bf16Line(record: Bf16Record): string {
  const { requested, kernels } = record;
  if (bf16Emulated(record)) {
    return 'warning: bf16 emulated: slow (neither AMX nor AVX-512 BF16 kernels ran on the master; training.bf16: false trains faster on this CPU)';
  }
  if (kernels === 'unknown') return requested ? 'bf16: kernels unknown (the probe on the master gave no answer)' : 'bf16: off';
  if (kernels === 'none') return 'bf16: off (the CPU has neither AMX nor AVX-512 BF16)';
  return requested ? `bf16: ${BF16_NAMES[kernels]}` : `bf16: off (${BF16_NAMES[kernels]} available)`;
}
