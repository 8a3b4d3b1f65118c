// Teardown of a run whose provider settings were refused (e.g. its key file is missing, so nodes cannot be
// listed with host keys): nothing can have been launched with them, so it is a quiet no-op that still
// removes whatever carries the cluster's tag, while any other provider failure still fails teardown.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createTeardownActivities } from '../src/activities/teardown';
import { specInvalid } from '../src/common/errors';
import type { Provider } from '../src/providers/provider';
import { validateRunSpec } from '../src/run-spec/validate';
import { testDeps, testLabProvider } from './helpers/local-lab';

const parsed = validateRunSpec({ name: 'td', provider: 'local', recipe: 'tiny-qa', training: { maxSteps: 1 } });
assert.ok(parsed.ok);
const input = { clusterId: 'never-existed', spec: parsed.spec, keepCluster: false, succeeded: false };

function providerListingWith(error: Error, calls: string[]): Provider {
  return {
    ...testLabProvider,
    listNodes: async () => {
      throw error;
    },
    terminateNodes: async (cluster, names, options) => {
      calls.push('terminateNodes');
      return testLabProvider.terminateNodes(cluster, names, options);
    },
    cleanup: async (cluster, options) => {
      calls.push('cleanup');
      return testLabProvider.cleanup(cluster, options);
    },
  };
}

describe('teardown with unusable provider settings', () => {
  it('is a quiet no-op when the settings were refused, and still removes by cluster tag', async () => {
    const calls: string[] = [];
    const refused = specInvalid([{ path: 'aws.privateKeyPath', message: '/k does not exist (ENOENT)' }]);
    const { teardown } = createTeardownActivities(testDeps({ providerFor: () => providerListingWith(refused, calls) }));
    const result = await new MockActivityEnvironment().run(teardown, input);
    assert.deepEqual(result, { nodesTerminated: 0, nodesLeft: 0, kept: false, access: [] });
    assert.deepEqual(calls, ['terminateNodes', 'cleanup']);
  });

  it('still fails on any other provider error', async () => {
    const { teardown } = createTeardownActivities(
      testDeps({ providerFor: () => providerListingWith(new Error('credentials expired'), []) }),
    );
    await assert.rejects(new MockActivityEnvironment().run(teardown, input), /credentials expired/);
  });
});
