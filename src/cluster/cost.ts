// What a run's nodes cost: a small on-demand price table, spot as a fraction of it, both overridable
// by the spec (aws.pricePerHourUsd). Pure: an estimate for reports, not a bill (no EBS, no transfer).
import { capabilitiesOf } from '../providers/capabilities';
import { LOCAL_INSTANCE_TYPE } from '../providers/local/capabilities';
import type { RunSpec } from '../run-spec/schema';

/**
 * USD per hour, Linux on-demand, us-east-1. Sources: r7iz is $0.1860/h for r7iz.large (2 vCPU) in
 * the runs-on.com EC2 benchmark table (May 2024), times 32 for the 64-vCPU sizes (EC2 prices scale
 * linearly with size within a family); m7i.48xlarge, c7i.48xlarge and c6i (c6i.8xlarge $1.36, so
 * 16xlarge $2.72) from a 2025 AWS price table in a public repository citing
 * https://aws.amazon.com/ec2/pricing/on-demand/. Collected 2026-11; check that page before relying on them.
 */
export const ON_DEMAND_USD_PER_HOUR: Readonly<Record<string, number>> = {
  'r7iz.metal-16xl': 5.952,
  'r7iz.16xlarge': 5.952,
  'm7i.48xlarge': 9.6768,
  'c7i.48xlarge': 8.568,
  'c6i.16xlarge': 2.72,
  [LOCAL_INSTANCE_TYPE]: 0,
};

/**
 * Spot price as a fraction of on-demand when the spec gives no spot price: r7iz averaged $0.0688
 * against $0.1860 on-demand in us-east-1 (runs-on.com, May 2024), i.e. 0.37. Spot prices move;
 * override with pricePerHourUsd["<type>:spot"].
 */
export const DEFAULT_SPOT_PRICE_FRACTION = 0.37;

/** EC2 bills Linux instances per second, with a one-minute minimum. */
const MINIMUM_BILLED_SECONDS = 60;
const SECONDS_PER_HOUR = 3600;

export interface CostOverrides {
  /** spec aws.pricePerHourUsd: "<type>" is the on-demand price, "<type>:spot" the spot price. */
  pricePerHourUsd?: Readonly<Record<string, number>>;
  spotPriceFraction?: number;
  /** Added to each priced node's hourly price: its public IPv4 address and disk (the provider says how much). */
  nodeExtrasUsdPerHour?: number;
}

export interface BilledNode {
  instanceType: string;
  market: 'on-demand' | 'spot';
  /** ISO timestamps; a node without terminatedAt is billed until `now`. */
  launchedAt: string;
  terminatedAt?: string;
}

export interface NodeCost {
  instanceType: string;
  market: 'on-demand' | 'spot';
  billedSeconds: number;
  /** Undefined when neither the table nor the overrides price this type. */
  usdPerHour?: number;
  usd?: number;
}

export interface CostEstimate {
  /** Sum over the priced nodes. */
  totalUsd: number;
  nodes: NodeCost[];
  /** Instance types with no price: their nodes are left out of the total. */
  unpricedTypes: string[];
}

/** The prices a spec sets, as its provider reads them: aws.pricePerHourUsd by instance type, or local's one price per node. */
export function costOverridesOf(spec: RunSpec): CostOverrides {
  const caps = capabilitiesOf(spec);
  return { pricePerHourUsd: caps.pricePerHourUsd, nodeExtrasUsdPerHour: caps.nodeExtrasUsdPerHour };
}

export function hourlyPriceUsd(
  instanceType: string,
  market: 'on-demand' | 'spot',
  overrides: CostOverrides = {},
): number | undefined {
  const prices = overrides.pricePerHourUsd ?? {};
  const onDemand = prices[instanceType] ?? ON_DEMAND_USD_PER_HOUR[instanceType];
  if (market === 'on-demand') return onDemand;
  const spot = prices[`${instanceType}:spot`];
  if (spot !== undefined) return spot;
  return onDemand === undefined ? undefined : onDemand * (overrides.spotPriceFraction ?? DEFAULT_SPOT_PRICE_FRACTION);
}

function billedSeconds(node: BilledNode, now: Date): number {
  const start = Date.parse(node.launchedAt);
  const end = node.terminatedAt === undefined ? now.getTime() : Date.parse(node.terminatedAt);
  if (Number.isNaN(start) || Number.isNaN(end))
    throw new Error(`invalid timestamps for a ${node.instanceType} node: ${node.launchedAt} .. ${node.terminatedAt ?? 'now'}`);
  const seconds = Math.max(0, Math.ceil((end - start) / 1000));
  return Math.max(seconds, MINIMUM_BILLED_SECONDS);
}

export function estimateCost(nodes: BilledNode[], overrides: CostOverrides = {}, now: Date = new Date()): CostEstimate {
  const costs = nodes.map((node): NodeCost => {
    const seconds = billedSeconds(node, now);
    const instanceUsdPerHour = hourlyPriceUsd(node.instanceType, node.market, overrides);
    const usdPerHour = instanceUsdPerHour === undefined ? undefined : instanceUsdPerHour + (overrides.nodeExtrasUsdPerHour ?? 0);
    const base = { instanceType: node.instanceType, market: node.market, billedSeconds: seconds };
    return usdPerHour === undefined ? base : { ...base, usdPerHour, usd: (usdPerHour * seconds) / SECONDS_PER_HOUR };
  });
  return {
    totalUsd: costs.reduce((sum, cost) => sum + (cost.usd ?? 0), 0),
    nodes: costs,
    unpricedTypes: [...new Set(costs.filter((cost) => cost.usdPerHour === undefined).map((cost) => cost.instanceType))].sort(),
  };
}
