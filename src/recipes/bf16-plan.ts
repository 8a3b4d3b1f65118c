// What `tuneforge plan` says about training.bf16: a warning when the target has neither AMX nor AVX-512 BF16
// (bf16 is then emulated, slower than fp32). Pure; the sanity run probes the real kernels.
import { knownBf16Kernels } from '../cluster/known-topologies';
import type { CpuTopology } from '../cluster/topology';
import { BF16_NAMES } from '../common/bf16';
import { capabilitiesOf } from '../providers/capabilities';
import type { RunSpec } from '../run-spec/schema';

function topologyKernels(topology: CpuTopology | null): 'amx' | 'avx512_bf16' | 'none' | undefined {
  if (!topology) return undefined;
  if (topology.amx) return 'amx';
  return topology.avx512Bf16 ? 'avx512_bf16' : 'none';
}

/** Notes for a bf16 spec: where its first instance type (or this machine) stands; none without bf16. */
export function bf16Notes(spec: RunSpec, instanceType: string, topology: CpuTopology | null): string[] {
  if (!spec.training.bf16) return [];
  const onThisHost = capabilitiesOf(spec).cpuSource === 'this-host';
  const where = onThisHost ? "this machine's CPU (lscpu flags)" : instanceType;
  const kernels = onThisHost ? topologyKernels(topology) : (knownBf16Kernels(instanceType) ?? topologyKernels(topology));
  if (kernels === undefined) {
    return [
      `training.bf16: tuneforge does not know whether ${where} has AMX or AVX-512 BF16; the sanity run checks which kernels bf16 really uses`,
    ];
  }
  if (kernels === 'none') {
    return [
      `warning: training.bf16 is true but ${where} has neither AMX nor AVX-512 BF16: bf16 would be emulated, slower than fp32 (set training.bf16: false, or choose an AMX type such as m7i, c7i, r7i or r7iz)`,
    ];
  }
  return [`training.bf16 runs on ${BF16_NAMES[kernels]} (${where}); the sanity run confirms the kernels`];
}
