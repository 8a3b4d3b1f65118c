// estimateCost: table prices, spot fraction, overrides, billing minimum and unpriced types.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_SPOT_PRICE_FRACTION, estimateCost, hourlyPriceUsd, ON_DEMAND_USD_PER_HOUR } from '../src/cluster/cost';

const START = '2026-01-01T00:00:00.000Z';
const ONE_HOUR_LATER = '2026-01-01T01:00:00.000Z';

function close(actual: number | undefined, expected: number): void {
  assert.ok(actual !== undefined && Math.abs(actual - expected) < 1e-9, `${actual} is not ${expected}`);
}

test('the table prices every instance type the docs name, and local nodes are free', () => {
  for (const type of ['r7iz.metal-16xl', 'r7iz.16xlarge', 'm7i.48xlarge', 'c7i.48xlarge', 'c6i.16xlarge']) {
    assert.ok((ON_DEMAND_USD_PER_HOUR[type] ?? 0) > 0, type);
  }
  assert.equal(hourlyPriceUsd('local', 'on-demand'), 0);
});

test('an hour of four on-demand r7iz.metal-16xl nodes plus a local one', () => {
  const nodes = [
    ...Array.from({ length: 4 }, () => ({
      instanceType: 'r7iz.metal-16xl',
      market: 'on-demand' as const,
      launchedAt: START,
      terminatedAt: ONE_HOUR_LATER,
    })),
    { instanceType: 'local', market: 'on-demand' as const, launchedAt: START, terminatedAt: ONE_HOUR_LATER },
  ];
  const estimate = estimateCost(nodes);
  close(estimate.totalUsd, 4 * 5.952);
  assert.equal(estimate.nodes.length, 5);
  close(estimate.nodes[0]?.usd, 5.952);
  assert.equal(estimate.nodes[0]?.billedSeconds, 3600);
  close(estimate.nodes[4]?.usd, 0);
  assert.deepEqual(estimate.unpricedTypes, []);
});

test('spot uses the default fraction, a fraction override, or an explicit spot price', () => {
  const node = { instanceType: 'm7i.48xlarge', market: 'spot' as const, launchedAt: START, terminatedAt: ONE_HOUR_LATER };
  close(estimateCost([node]).totalUsd, 9.6768 * DEFAULT_SPOT_PRICE_FRACTION);
  close(estimateCost([node], { spotPriceFraction: 0.5 }).totalUsd, 9.6768 * 0.5);
  close(estimateCost([node], { pricePerHourUsd: { 'm7i.48xlarge:spot': 2 } }).totalUsd, 2);
});

test('spec prices override the table and price types it lacks; unpriced types are reported, not guessed', () => {
  const nodes = [
    { instanceType: 'c6i.16xlarge', market: 'on-demand' as const, launchedAt: START, terminatedAt: ONE_HOUR_LATER },
    { instanceType: 'r8i.48xlarge', market: 'on-demand' as const, launchedAt: START, terminatedAt: ONE_HOUR_LATER },
    { instanceType: 'x9.huge', market: 'spot' as const, launchedAt: START, terminatedAt: ONE_HOUR_LATER },
  ];
  const estimate = estimateCost(nodes, { pricePerHourUsd: { 'c6i.16xlarge': 3, 'r8i.48xlarge': 12 } });
  close(estimate.totalUsd, 15);
  assert.deepEqual(estimate.unpricedTypes, ['x9.huge']);
  assert.equal(estimate.nodes[2]?.usd, undefined);
});

test('billing has a one-minute minimum, and a running node is billed until now', () => {
  const short = estimateCost([
    { instanceType: 'c6i.16xlarge', market: 'on-demand', launchedAt: START, terminatedAt: '2026-01-01T00:00:10.000Z' },
  ]);
  assert.equal(short.nodes[0]?.billedSeconds, 60);
  close(short.totalUsd, (2.72 * 60) / 3600);
  const running = estimateCost(
    [{ instanceType: 'c6i.16xlarge', market: 'on-demand', launchedAt: START }],
    {},
    new Date('2026-01-01T00:30:00.000Z'),
  );
  close(running.totalUsd, 2.72 / 2);
});

test('timestamps that do not parse are an error', () => {
  assert.throws(() => estimateCost([{ instanceType: 'local', market: 'on-demand', launchedAt: 'yesterday' }]), Error);
});

test("an aws node's hour includes its public IPv4 address and root volume; a local node's nothing", async () => {
  const { costOverridesOf } = await import('../src/cluster/cost');
  const { validateRunSpec } = await import('../src/run-spec/validate');
  const aws = validateRunSpec({
    name: 'extras',
    provider: 'aws',
    recipe: 'tiny-qa',
    training: { maxSteps: 10 },
    artifacts: 's3://bucket/runs',
    aws: { region: 'us-east-1', instanceTypes: ['r7iz.metal-16xl'], sshCidr: '198.51.100.7/32', privateKeyPath: '/k', rootVolumeGiB: 200 },
  });
  assert.ok(aws.ok, JSON.stringify(aws.ok ? null : aws.problems));
  const extras = 0.005 + (200 * 0.08) / 730;
  close(costOverridesOf(aws.spec).nodeExtrasUsdPerHour, extras);
  const hour = [{ instanceType: 'r7iz.metal-16xl', market: 'on-demand' as const, launchedAt: START, terminatedAt: ONE_HOUR_LATER }];
  close(estimateCost(hour, costOverridesOf(aws.spec)).totalUsd, (ON_DEMAND_USD_PER_HOUR['r7iz.metal-16xl'] ?? 0) + extras);
  const local = validateRunSpec({ name: 'extras', provider: 'local', recipe: 'tiny-qa', training: { maxSteps: 10 } });
  assert.ok(local.ok);
  assert.equal(costOverridesOf(local.spec).nodeExtrasUsdPerHour, 0);
});
