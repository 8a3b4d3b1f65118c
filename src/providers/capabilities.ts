// The one place that knows which providers exist: their capabilities by name, and a route table by the
// spec's provider (the way SkyPilot's sky/provision/ routes every verb by provider). Outside src/providers/
// code reads these instead of testing the provider's name (test/provider-capabilities.test.ts keeps it so).
// Pure: workflow, spec, client and cluster code import it.
import type { ProviderName, RunSpec } from '../run-spec/schema';
import type { ProviderCapabilities, ProviderTraits, RunCapabilities, SpecOf } from './capability-types';
import { AWS_CAPABILITIES } from './aws/capabilities';
import { LOCAL_CAPABILITIES } from './local/capabilities';

export type { ProviderCapabilities, ProviderTraits, RunCapabilities, SpecOf, WatchPolicy } from './capability-types';

/** Typed so that a new provider in the spec's union fails to compile until it declares its capabilities. */
export const PROVIDER_CAPABILITIES: { readonly [P in ProviderName]: ProviderCapabilities<SpecOf<P>> } = {
  local: LOCAL_CAPABILITIES,
  aws: AWS_CAPABILITIES,
};

/** What the provider's name alone tells, for records that carry only the name (plans, summaries). */
export function providerTraits(name: ProviderName): ProviderTraits {
  return PROVIDER_CAPABILITIES[name];
}

/** The traits of a provider named in an older record, where the name is any string: undefined for an unknown one. */
export function findProviderTraits(name: string): ProviderTraits | undefined {
  return Object.hasOwn(PROVIDER_CAPABILITIES, name) ? PROVIDER_CAPABILITIES[name as ProviderName] : undefined;
}

/** One function per provider, each given that provider's spec. */
export type ProviderRoutes<R> = { readonly [P in ProviderName]: (spec: SpecOf<P>) => R };

/** Calls the spec's provider's route with the spec. */
export function routeByProvider<R>(spec: RunSpec, routes: ProviderRoutes<R>): R {
  // routes[spec.provider] takes exactly spec's kind; TypeScript cannot correlate the index with the union.
  const route = routes[spec.provider] as (spec: RunSpec) => R;
  return route(spec);
}

/** The spec's provider's capabilities, with the spec already read. */
export function capabilitiesOf(spec: RunSpec): RunCapabilities {
  const caps = PROVIDER_CAPABILITIES[spec.provider] as ProviderCapabilities;
  return {
    name: caps.name,
    hasPreflight: caps.hasPreflight,
    nodesShareCpus: caps.nodesShareCpus,
    mpiInterface: caps.mpiInterface,
    cpuSource: caps.cpuSource,
    watch: caps.watch,
    baseRecipe: caps.baseRecipe,
    adaptRecipe: caps.adaptRecipe,
    instanceTypes: caps.instanceTypes(spec),
    plannedMarket: caps.plannedMarket(spec),
    description: caps.describe(spec),
    pricePerHourUsd: caps.pricePerHourUsd(spec),
    nodeExtrasUsdPerHour: caps.nodeExtrasUsdPerHour(spec),
    storeRegion: caps.storeRegion(spec),
    checksAmx: caps.checksAmx(spec),
    planNotes: caps.planNotes(spec),
  };
}
