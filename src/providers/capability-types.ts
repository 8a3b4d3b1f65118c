// The shape of a provider's capabilities: what differs between providers, as data and pure functions each
// provider declares about itself (src/providers/<name>/capabilities.ts). Types only, so the providers'
// declarations and the lookup (capabilities.ts) both import it without a circle.
import type { Recipe } from '../recipes/recipe-shape';
import type { Market } from '../records/node-record';
import type { ProviderName, RunSpec } from '../run-spec/schema';

export interface WatchPolicy {
  /** A probe that has not answered within this long is a miss. */
  probeTimeoutMs: number;
  /** Time between the end of one round of checks and the start of the next. */
  everyMs: number;
  /** Consecutive misses that make a node lost... */
  missesToLose: number;
  /** ...provided they span at least this long (from the first miss's start to the last one's end). */
  minWindowMs: number;
}

/** A run spec of one provider. */
export type SpecOf<P extends ProviderName> = Extract<RunSpec, { provider: P }>;

/** What the provider's name alone tells (plans and summaries carry the name, not the spec). */
export interface ProviderTraits {
  name: ProviderName;
  /** The run starts with read-only account checks (quota, offerings, image, keys, bucket). */
  hasPreflight: boolean;
  /** All nodes run on one host and share its CPUs: nothing is bound, scaling efficiency means nothing. */
  nodesShareCpus: boolean;
  /** The network interface MPI must use between nodes, as a plan shows it before bootstrap reports it; null: MPI finds it. */
  mpiInterface: string | null;
  /** Where a plan reads the nodes' CPU: this machine's lscpu, or the known layout of the instance type. */
  cpuSource: 'this-host' | 'instance-type';
  /** How the node watch decides a node is lost (activities/node-watch.ts). */
  watch: WatchPolicy;
  /** What a spec without a preset installs on this provider's nodes. */
  baseRecipe: Recipe;
  /** A preset's recipe as this provider's nodes need it (packages their image lacks, a pip index). */
  adaptRecipe(recipe: Recipe): Recipe;
}

/** Everything that differs per provider; the functions read only their own provider's spec. */
export interface ProviderCapabilities<S extends RunSpec = RunSpec> extends ProviderTraits {
  /** The node types the run may launch, first choice first (`local` for the local provider). */
  instanceTypes(spec: S): string[];
  /** The market a plan shows for the nodes (the run may still fall back from spot to on-demand). */
  plannedMarket(spec: S): Market;
  /** The provider in one line for the run's Web UI details. */
  describe(spec: S): string;
  /** USD per hour by instance type (`<type>:spot` for spot) that the spec sets over the built-in table. */
  pricePerHourUsd(spec: S): Readonly<Record<string, number>>;
  /** USD per hour each node costs besides its instance: its public IPv4 address and its disk. */
  nodeExtrasUsdPerHour(spec: S): number;
  /** The region the run's S3 bucket must be in; null: the environment's. */
  storeRegion(spec: S): string | null;
  /** The master must have AMX, or the run stops before the workers launch. */
  checksAmx(spec: S): boolean;
  /** What `tuneforge plan` adds about this provider's nodes. */
  planNotes(spec: S): string[];
}

/** A run's provider capabilities with the run's spec already read. */
export interface RunCapabilities extends ProviderTraits {
  instanceTypes: string[];
  plannedMarket: Market;
  description: string;
  pricePerHourUsd: Readonly<Record<string, number>>;
  nodeExtrasUsdPerHour: number;
  storeRegion: string | null;
  checksAmx: boolean;
  planNotes: string[];
}
