// budgetUsd on a real local run, priced with local.pricePerHourUsd: at the cap every rank saves, the model
// trained so far and its checkpoint are delivered, nothing is left running, and the run ends BudgetExceeded.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { completeCheckpoints } from '../src/artifacts/stored-checkpoints';
import { FailureType } from '../src/common/errors';
import { failureText } from '../src/common/failure-summary';
import { WORKFLOW_TYPE } from '../src/common/names';
import { recipeFingerprint } from '../src/recipes/recipe-bundle';
import { recipeFor } from '../src/recipes/recipe';
import { validateRunSpec } from '../src/run-spec/validate';
import { liveNodeProcesses, removeClustersStartingWith, runStoreOf, testDeps, testProvider } from './helpers/local-lab';
import { realActivities, uniqueId, withWorker } from './helpers/temporal';

/**
 * 2 nodes at $36/h ($0.01/s each), billed a minute at least: $1.20 at once, then $0.02/s once both are
 * past their first minute, so $2.20 is reached ~2 minutes after the master's launch: well after
 * training starts (~1 minute with the image baked) and long before 100,000 steps end. The file bakes the
 * image itself when the lab has none (a fresh clone, or this file run alone), so it needs no earlier file.
 */
const spec = {
  name: 'budget',
  provider: 'local',
  recipe: 'tiny-qa',
  nodes: 2,
  budgetUsd: 2.2,
  local: { pricePerHourUsd: 36 },
  keepClusterOnFailure: true,
  training: { maxSteps: 100_000, saveSteps: 500 },
  sanity: { maxSteps: 5 },
};

/** Bakes the spec's image with a short uncapped run when the lab has none: the cap's timing assumes a baked image. */
async function ensureBakedImage(): Promise<void> {
  const validated = validateRunSpec(spec);
  assert.ok(validated.ok);
  if (await testProvider.findImage(await recipeFingerprint(recipeFor(validated.spec)))) return;
  const { budgetUsd: _budget, local: _price, keepClusterOnFailure: _keep, ...uncapped } = spec;
  const bake = { ...uncapped, nodes: 1, training: { maxSteps: 2, saveSteps: 500, evaluate: false } };
  await withWorker(realActivities(testDeps()), ({ client, taskQueue }) =>
    client.workflow.execute(WORKFLOW_TYPE, { taskQueue, workflowId: uniqueId('budget-bake'), args: [{ spec: bake }] }),
  ).catch((err: unknown) => {
    throw new Error(`the run that bakes the image failed: ${failureText(err)}`);
  });
}

describe('a local run that reaches its budget mid-training', () => {
  before(ensureBakedImage, { timeout: 8 * 60_000 });
  after(() => removeClustersStartingWith('budget-'));

  it('saves, delivers the model and checkpoint, tears down and ends BudgetExceeded', { timeout: 8 * 60_000 }, async () => {
    const workflowId = uniqueId('budget');
    let failure: ApplicationFailure | undefined;
    let ended = 'completed';
    await withWorker(realActivities(testDeps()), async ({ client, taskQueue }) => {
      await client.workflow.execute(WORKFLOW_TYPE, { taskQueue, workflowId, args: [{ spec }] }).catch((err: unknown) => {
        ended = failureText(err);
        assert.ok(err instanceof WorkflowFailedError, String(err));
        failure = err.cause instanceof ApplicationFailure ? err.cause : undefined;
      });
    });
    assert.equal(failure?.type, FailureType.BudgetExceeded, `the run ended: ${ended}`);
    const details = failure.details?.[0] as { step: number; spentUsd: number; model: string };
    assert.ok(details.step > 0 && details.step < spec.training.maxSteps, `stopped mid-training at step ${details.step}`);
    assert.ok(details.spentUsd >= spec.budgetUsd && details.spentUsd < spec.budgetUsd + 0.5, `spent $${details.spentUsd}`);

    const store = runStoreOf(spec.name, workflowId);
    const model = (await store.list('model/')).map((o) => o.key);
    assert.ok(
      model.includes('model/config.json') && model.includes('model/model.safetensors'),
      `model delivered (${model.join(', ')})`,
    );
    assert.equal(details.model, `${store.uri}model/`, 'the failure names the delivered model');
    const checkpoints = await completeCheckpoints(store);
    assert.equal(checkpoints[0]?.name, `checkpoint-${details.step}`, 'the checkpoint of the stop is stored and complete');
    const record = (await store.getJson('run.json')) as {
      outcome: string;
      error: { type: string } | null;
      modelUri: string | null;
    };
    assert.equal(record.outcome, 'failed');
    assert.equal(record.error?.type, FailureType.BudgetExceeded);
    assert.equal(record.modelUri, details.model);
    assert.equal(await liveNodeProcesses(workflowId), 0, 'a cap keeps nothing up, keepClusterOnFailure or not');
  });
});
