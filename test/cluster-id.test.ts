import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CLUSTER_ID_PATTERN, clusterIdOf, workflowIdsOfCluster } from '../src/common/cluster-id';

test('a scheduled run gets a tag-safe cluster id that maps back to its workflow id', () => {
  const workflowId = 'scheduled-tiny-2026-11-26T14:36:11Z';
  const clusterId = clusterIdOf(workflowId);
  assert.equal(clusterId, 'scheduled-tiny-20261126-143611');
  assert.match(clusterId, CLUSTER_ID_PATTERN);
  assert.deepEqual(workflowIdsOfCluster(clusterId), [clusterId, workflowId]);
});

test('a started run keeps its id, and other ids are not rewritten into valid ones', () => {
  assert.equal(clusterIdOf('tiny-demo-20261126-141019-f3e8'), 'tiny-demo-20261126-141019-f3e8');
  assert.deepEqual(workflowIdsOfCluster('tiny-demo-20261126-141019-f3e8'), ['tiny-demo-20261126-141019-f3e8']);
  assert.doesNotMatch(clusterIdOf('Foo_Bar'), CLUSTER_ID_PATTERN);
});
