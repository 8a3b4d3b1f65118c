// The workflow's spend meter: node lifetimes at the spec's prices, and when a budget is reached.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fakeNode } from './helpers/fake-activities';
import { SpendMeter } from '../src/workflows/spend';

const PRICES = { pricePerHourUsd: { local: 36 } }; // $0.01 per second per node
const secondsAgo = (s: number) => new Date(Date.now() - s * 1000).toISOString();
const node = (name: string, launchedSecondsAgo: number, market: 'on-demand' | 'spot' = 'on-demand') => ({
  ...fakeNode(name),
  providerId: `id-${name}`,
  instanceType: 'local',
  market,
  launchedAt: secondsAgo(launchedSecondsAgo),
});

describe('spend meter', () => {
  it('bills every node launched, a minute at least, and the same node once', () => {
    const meter = new SpendMeter(PRICES, undefined);
    meter.launched([node('master', 120)]);
    meter.launched([node('master', 120), node('worker-1', 10)]);
    assert.ok(Math.abs(meter.costUsd() - (1.2 + 0.6)) < 0.02, `${meter.costUsd()}`);
  });

  it('stops billing a lost node and bills its replacement from its own launch', () => {
    const meter = new SpendMeter(PRICES, undefined);
    const lost = node('worker-1', 300);
    meter.launched([node('master', 300), lost]);
    meter.lost([lost]);
    meter.launched([{ ...node('worker-1', 0), providerId: 'id-worker-1-replacement' }]);
    const atLoss = meter.costUsd();
    const later = meter.costUsd(Date.now() + 100_000);
    assert.ok(Math.abs(later - atLoss - 0.01 * 100 - 0.01 * 40) < 0.02, `master +$1.00, replacement past its minute +$0.40`);
  });

  it('finds the moment a budget is reached, past the one-minute minimum', () => {
    const meter = new SpendMeter(PRICES, 2.2);
    meter.launched([node('master', 0), node('worker-1', 0)]);
    const at = meter.budgetReachedAtMs() ?? 0;
    // $1.20 for both first minutes, then $0.02 a second: $2.20 fifty seconds past the minute.
    assert.ok(Math.abs(at - Date.now() - 110_000) < 1_500, `${at - Date.now()} ms`);
    assert.ok(Math.abs(meter.costUsd(at) - 2.2) < 0.02);
    assert.equal(new SpendMeter(PRICES, undefined).budgetReachedAtMs(), undefined, 'no budget, no cap');
    assert.equal(new SpendMeter({}, 1).budgetReachedAtMs(), undefined, 'unpriced nodes never reach a budget');
  });

  it('says what the same lifetimes cost on-demand', () => {
    const meter = new SpendMeter({ pricePerHourUsd: { local: 36, 'local:spot': 12 } }, undefined);
    meter.launched([node('master', 600, 'spot')]);
    assert.ok(Math.abs(meter.costUsd() - 2) < 0.02);
    assert.ok(Math.abs(meter.onDemandCostUsd() - 6) < 0.02);
  });
});
