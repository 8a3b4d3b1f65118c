// What the aws provider is, for the rest of src/: dedicated EC2 nodes in the spec's region, checked by a
// preflight, priced per instance type, watched over the internet. Pure (workflow code imports it): no SDK.
import { PYTORCH_CPU_INDEX, type Recipe } from '../../recipes/recipe-shape';
import type { ProviderCapabilities, SpecOf, WatchPolicy } from '../capability-types';

/**
 * Over the internet (aws) a probe can stall for seconds on a healthy node: TCP retransmits, sshd's
 * MaxStartups throttle, a master busy all-reducing. A false loss is expensive (the job stopped, a node
 * relaunched, bare metal ~20 min, steps since the last checkpoint repeated), while a real loss mostly
 * shows as provider evidence (terminated, stopped, a failed EC2 status check, spot notice) on the first
 * check anyway. So a probe alone calls a node lost only after 3 consecutive 10-s misses spanning
 * >= 30 s (with 10 s between rounds, about 50 s after a freeze), near the 15-20 s polling of
 * SkyPilot and dstack.
 */
/** us-east-1 list prices (AWS VPC and EBS pricing pages, 2026): the other regions differ by a few percent. */
const PUBLIC_IPV4_USD_PER_HOUR = 0.005;
const GP3_USD_PER_GIB_MONTH = 0.08;
const HOURS_PER_MONTH = 730;

export const AWS_WATCH: WatchPolicy = { probeTimeoutMs: 10_000, everyMs: 10_000, missesToLose: 3, minWindowMs: 30_000 };

/**
 * A fresh EC2 Ubuntu image has no `python3-venv` (ensurepip), and pip would take torch's multi-GB CUDA
 * build from PyPI without the CPU index: every recipe gets both.
 */
function adaptRecipe(recipe: Recipe): Recipe {
  return {
    ...recipe,
    systemPackages: recipe.systemPackages.includes('python3-venv')
      ? recipe.systemPackages
      : ['python3-venv', ...recipe.systemPackages],
    pipArgs: recipe.pipArgs.includes(PYTORCH_CPU_INDEX)
      ? recipe.pipArgs
      : [...recipe.pipArgs, '--extra-index-url', PYTORCH_CPU_INDEX],
  };
}

export const AWS_CAPABILITIES: ProviderCapabilities<SpecOf<'aws'>> = {
  name: 'aws',
  hasPreflight: true,
  nodesShareCpus: false,
  mpiInterface: null,
  cpuSource: 'instance-type',
  watch: AWS_WATCH,
  baseRecipe: {
    name: 'base',
    folders: ['common'],
    requirements: 'common/requirements-aws.txt',
    systemPackages: ['python3-venv', 'openmpi-bin', 'libopenmpi-dev', 'libtcmalloc-minimal4', 'numactl'],
    pipArgs: ['--extra-index-url', PYTORCH_CPU_INDEX],
    // The post's allocator: tcmalloc cuts malloc contention between OpenMP threads.
    trainEnv: { LD_PRELOAD: '/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4' },
  },
  adaptRecipe,
  instanceTypes: (spec) => spec.aws.instanceTypes,
  // spot-then-on-demand starts on spot.
  plannedMarket: (spec) => (spec.aws.market === 'on-demand' ? 'on-demand' : 'spot'),
  describe: (spec) => `aws ${spec.aws.region} (${spec.aws.instanceTypes.join(', ')}, ${spec.aws.market})`,
  pricePerHourUsd: (spec) => spec.aws.pricePerHourUsd,
  // A public IPv4 address ($0.005/h since 2024-02) and the gp3 root volume ($0.08 per GiB-month, 730 h a month).
  nodeExtrasUsdPerHour: (spec) => PUBLIC_IPV4_USD_PER_HOUR + (spec.aws.rootVolumeGiB * GP3_USD_PER_GIB_MONTH) / HOURS_PER_MONTH,
  storeRegion: (spec) => spec.aws.region,
  checksAmx: (spec) => spec.aws.requireAmx,
  planNotes: () => [],
};
