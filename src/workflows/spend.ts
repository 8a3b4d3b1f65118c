// The run's spend as the workflow sees it: every node ever launched, billed from its launch until it was
// lost or until now, at the spec's prices. It says when the spend reaches the spec's budgetUsd.
import { estimateCost, type BilledNode, type CostOverrides } from '../cluster/cost';
import type { NodeRecord } from '../providers/provider';

export interface MeteredNode extends BilledNode {
  providerId: string;
}

/** How close to the true instant the budget's crossing is found (the cost is piecewise linear in time). */
const CROSSING_PRECISION_MS = 500;

export class SpendMeter {
  private readonly nodes: MeteredNode[];

  constructor(
    private readonly overrides: CostOverrides,
    readonly budgetUsd: number | undefined,
    carried: MeteredNode[] = [],
  ) {
    this.nodes = carried.map((n) => ({ ...n }));
  }

  /** Adds nodes not metered yet (a re-adopted node is the same node). */
  launched(nodes: NodeRecord[]): void {
    for (const node of nodes) {
      if (this.nodes.some((n) => n.providerId === node.providerId)) continue;
      this.nodes.push({
        providerId: node.providerId,
        instanceType: node.instanceType,
        market: node.market,
        launchedAt: node.launchedAt,
      });
    }
  }

  /** Stops billing nodes that were lost (their replacements are launched() separately). */
  lost(nodes: NodeRecord[]): void {
    const at = new Date(Date.now()).toISOString();
    for (const node of nodes) {
      const metered = this.nodes.find((n) => n.providerId === node.providerId && n.terminatedAt === undefined);
      if (metered) metered.terminatedAt = at;
    }
  }

  costUsd(atMs: number = Date.now()): number {
    return estimateCost(this.nodes, this.overrides, new Date(atMs)).totalUsd;
  }

  /** The same lifetimes at on-demand prices (what spot nodes would have cost otherwise). */
  onDemandCostUsd(atMs: number = Date.now()): number {
    const onDemand = this.nodes.map((n) => ({ ...n, market: 'on-demand' as const }));
    return estimateCost(onDemand, this.overrides, new Date(atMs)).totalUsd;
  }

  /** Instance types of metered nodes that have no price (their nodes count $0). */
  unpricedTypes(): string[] {
    return estimateCost(this.nodes, this.overrides).unpricedTypes;
  }

  /** When the spend reaches the budget if the nodes up now stay up; undefined without a budget or a price. */
  budgetReachedAtMs(): number | undefined {
    const budget = this.budgetUsd;
    if (budget === undefined) return undefined;
    const now = Date.now();
    const spent = this.costUsd(now);
    if (spent >= budget) return now;
    const up = this.nodes.filter((n) => n.terminatedAt === undefined);
    const usdPerMs =
      estimateCost(up, this.overrides, new Date(now)).nodes.reduce((sum, n) => sum + (n.usdPerHour ?? 0), 0) / 3_600_000;
    if (usdPerMs <= 0) return undefined;
    // The one-minute minimum makes the cost flat at first: past this, every node up bills linearly.
    let low = now;
    let high = now + (budget - spent) / usdPerMs + 60_000;
    while (high - low > CROSSING_PRECISION_MS) {
      const mid = (low + high) / 2;
      if (this.costUsd(mid) >= budget) high = mid;
      else low = mid;
    }
    return high;
  }

  snapshot(): MeteredNode[] {
    return this.nodes.map((n) => ({ ...n }));
  }
}
