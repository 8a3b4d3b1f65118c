// Teardown of a run whose provider settings were refused: nothing was created, so it is a quiet no-op
// (the run's own SpecInvalid stays the story), while any other provider failure still fails teardown.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createTeardownActivities } from '../src/activities/teardown';
import { specInvalid } from '../src/common/errors';
import { validateRunSpec } from '../src/spec/validate';
import { testDeps } from './helpers/local-lab';

const parsed = validateRunSpec({ name: 'td', provider: 'local', recipe: 'tiny-qa', training: { maxSteps: 1 } });
assert.ok(parsed.ok);
const input = { clusterId: 'never-existed', spec: parsed.spec, keepCluster: false, succeeded: false };

describe('teardown with unusable provider settings', () => {
  it('is a quiet no-op when the settings were refused', async () => {
    const { teardown } = createTeardownActivities(
      testDeps({
        providerFor: () => {
          throw specInvalid([{ path: 'aws.sshCidr', message: 'required' }]);
        },
      }),
    );
    const result = await new MockActivityEnvironment().run(teardown, input);
    assert.deepEqual(result, { nodesTerminated: 0, nodesLeft: 0, kept: false, costUsd: 0, unpricedTypes: [], access: [] });
  });

  it('still fails on any other provider error', async () => {
    const { teardown } = createTeardownActivities(
      testDeps({
        providerFor: () => {
          throw new Error('credentials expired');
        },
      }),
    );
    await assert.rejects(new MockActivityEnvironment().run(teardown, input), /credentials expired/);
  });
});
