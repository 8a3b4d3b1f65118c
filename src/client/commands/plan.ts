// `tuneforge plan <spec.yaml>`: validates the spec as `start` does and shows what the run would execute,
// contacting neither Temporal nor any cloud.
import { execLocal } from '../../common/exec-file';
import { KNOWN_TOPOLOGY_SOURCE, knownTopology } from '../../cluster/known-topologies';
import { LSCPU_COMMAND, parseLscpu } from '../../cluster/topology';
import { capabilitiesOf } from '../../providers/capabilities';
import { buildRunPlan, type PlanTopology, type RunPlan } from '../../recipes/run-plan';
import { loadRunSpec } from '../../run-spec/load';
import type { RunSpec } from '../../run-spec/schema';

export async function planRun(specPath: string): Promise<RunPlan> {
  const spec = await loadRunSpec(specPath);
  return buildRunPlan(spec, await planTopology(spec));
}

/** Nodes on this machine (local): its own lscpu. Otherwise (EC2) the known layout of the first instance type, if any. */
async function planTopology(spec: RunSpec): Promise<PlanTopology | null> {
  const { cpuSource, instanceTypes } = capabilitiesOf(spec);
  if (cpuSource === 'this-host') {
    return { ...parseLscpu(await execLocal('sh', ['-c', LSCPU_COMMAND])), source: 'lscpu on this machine' };
  }
  const [instanceType] = instanceTypes;
  const known = instanceType === undefined ? undefined : knownTopology(instanceType);
  return known ? { ...known, source: KNOWN_TOPOLOGY_SOURCE } : null;
}
