// Standby and shrink in the run workflow with fake activities: what the budget counts, and that a cancel
// while the run launches nodes in the background waits for that launch before teardown.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../src/common/errors';
import { WORKFLOW_TYPE } from '../src/common/names';
import { emptyProgress } from '../src/recipes/progress';
import type { RunSummary } from '../src/workflows/definitions';
import { fakeActivities, pricedNodes, untilCancelled } from './helpers/fake-activities';
import { uniqueId, withWorker } from './helpers/temporal';

const spec = { name: 'paths-test', provider: 'local', recipe: 'tiny-qa', nodes: 2, training: { maxSteps: 10 } };

function rootCause(err: unknown): unknown {
  let current = err;
  while (current instanceof Error && current.cause) current = current.cause;
  return current;
}

describe('standby and shrink in the workflow (fake activities)', () => {
  it('the budget counts standby nodes: the spend before training includes them', async () => {
    // Every node launched 55 s ago at $360/h, billed a minute at least: $6 each. Two nodes cost $12, with a standby $18.
    const priced = { ...spec, budgetUsd: 15, local: { pricePerHourUsd: 360 } };
    const withoutStandby = fakeActivities(pricedNodes(55));
    const summary = (await withWorker(withoutStandby.activities, async ({ client, taskQueue }) =>
      client.workflow.execute(WORKFLOW_TYPE, { taskQueue, workflowId: uniqueId('paths-budget'), args: [{ spec: priced }] }),
    )) as RunSummary;
    assert.ok(Math.abs(summary.efficiency.costUsd - 12) < 0.5, `two nodes: $${summary.efficiency.costUsd}`);

    const withStandby = fakeActivities(pricedNodes(55));
    let failure: ApplicationFailure | undefined;
    await withWorker(withStandby.activities, async ({ client, taskQueue }) => {
      await client.workflow
        .execute(WORKFLOW_TYPE, {
          taskQueue,
          workflowId: uniqueId('paths-budget-standby'),
          args: [{ spec: { ...priced, recovery: { standbyNodes: 1 } } }],
        })
        .catch((err: unknown) => (failure = rootCause(err) as ApplicationFailure));
    });
    assert.equal(failure?.type, FailureType.BudgetExceeded, String(failure));
    assert.match(failure?.message ?? "", /spend \(\$18\.\d\d\) reached budgetUsd/);
    assert.ok(!withStandby.log.calls.includes('distributedTrain'), 'no training on a budget the standby spent');
  });

  it('a cancel while a shrunk run launches its missing node waits for that launch before teardown', async () => {
    const events: Array<[string, number]> = [];
    const base = fakeActivities().activities;
    let trained = 0;
    const { activities, log } = fakeActivities({
      distributedTrain: async (input) => {
        trained++;
        if (trained === 1) {
          throw ApplicationFailure.create({
            type: FailureType.NodeLost,
            nonRetryable: true,
            message: 'worker-1 lost',
            details: [{ nodes: ['worker-1'], reason: 'gone' }],
          });
        }
        await sleep(500);
        return { stillRunning: true, progress: { ...emptyProgress(input.jobId), step: 5, maxSteps: 10 } };
      },
      replaceNodes: async () => {
        throw ApplicationFailure.create({ type: FailureType.CapacityUnavailable, nonRetryable: true, message: 'no capacity' });
      },
      launchWorkers: async (input) => {
        if (trained === 0) return base.launchWorkers(input);
        events.push(['grow launch started', Date.now()]);
        try {
          return await untilCancelled(1500);
        } finally {
          events.push(['grow launch ended', Date.now()]);
        }
      },
      teardown: async (input) => {
        events.push(['teardown', Date.now()]);
        return base.teardown(input);
      },
    });
    await withWorker(activities, async ({ client, taskQueue }) => {
      const handle = await client.workflow.start(WORKFLOW_TYPE, {
        taskQueue,
        workflowId: uniqueId('paths-cancel-grow'),
        args: [{ spec, history: { followWindowSeconds: 1 } }],
      });
      for (let i = 0; i < 200 && !events.some(([e]) => e === 'grow launch started'); i++) await sleep(100);
      await handle.cancel();
      await assert.rejects(handle.result());
    });
    assert.ok(log.calls.includes('useStandby'), log.calls.join(', '));
    const order = events.map(([e]) => e);
    assert.deepEqual(order, ['grow launch started', 'grow launch ended', 'teardown'], order.join(', '));
  });
});
