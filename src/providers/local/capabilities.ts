// What the local provider is, for the rest of src/: nodes on this host that share its CPUs and talk over
// loopback, no account to check, no price unless the spec sets one. Pure (workflow code imports it).
import type { ProviderCapabilities, SpecOf, WatchPolicy } from '../capability-types';
import { RENDEZVOUS_PORT } from '../provider';

/** The instance type every local node records (prices and boot waits are keyed by it). */
export const LOCAL_INSTANCE_TYPE = 'local';

/**
 * Local nodes share the host's loopback, where a probe stalls only under heavy CPU load. Two
 * consecutive 2.5-s misses spanning >= 4 s, with 1.5 s between rounds, take about 6.5 s from the
 * first missed probe; the whole run notices a frozen node within the ~13 s of the old single 5-s
 * probe (chaos limit 15 s), and a killed node within one 1.5-s round.
 */
export const LOCAL_WATCH: WatchPolicy = { probeTimeoutMs: 2500, everyMs: 1500, missesToLose: 2, minWindowMs: 4000 };

export const LOCAL_CAPABILITIES: ProviderCapabilities<SpecOf<'local'>> = {
  name: 'local',
  hasPreflight: false,
  nodesShareCpus: true,
  mpiInterface: 'lo',
  cpuSource: 'this-host',
  watch: LOCAL_WATCH,
  // Local nodes have a venv-capable Python and a local CPU wheel, and no internet.
  baseRecipe: {
    name: 'base',
    folders: ['common'],
    requirements: 'common/requirements-local.txt',
    systemPackages: ['openmpi-bin'],
    pipArgs: [],
    trainEnv: {},
  },
  adaptRecipe: (recipe) => recipe,
  instanceTypes: () => [LOCAL_INSTANCE_TYPE],
  plannedMarket: () => 'on-demand',
  describe: () => 'local',
  pricePerHourUsd: (spec) => ({ [LOCAL_INSTANCE_TYPE]: spec.local.pricePerHourUsd }),
  nodeExtrasUsdPerHour: () => 0,
  storeRegion: () => null,
  checksAmx: () => false,
  planNotes: () => [
    `local nodes share this machine's CPUs and bind nothing; MASTER_PORT is ${RENDEZVOUS_PORT} plus the cluster's slot`,
  ],
};
