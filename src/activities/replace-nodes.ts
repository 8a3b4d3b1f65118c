// replace-nodes: after a node loss, terminates the named nodes that are really lost and launches
// them again from the baked image under the same names; healthy ones are adopted, so a retry is safe.
import { Context } from '@temporalio/activity';
import { clusterRef, targetFor, type ActivityDeps } from './deps';
import { keepAlive } from './keep-alive';
import { checkNodes } from './node-watch';
import { SSH_READY_TIMEOUT_MS } from './provision-master';
import type { ClusterInfo, ImageRecord, NodeRecord, RunContext } from './types';

export interface ReplaceInput extends RunContext {
  cluster: ClusterInfo;
  image: ImageRecord;
  /** The nodes as the run knew them; only the lost ones among them are replaced. */
  nodes: NodeRecord[];
}

export function createReplaceActivities(deps: ActivityDeps) {
  return {
    replaceNodes: (input: ReplaceInput): Promise<NodeRecord[]> => keepAlive(() => replaceNodes(deps, input)),
  };
}

async function replaceNodes(deps: ActivityDeps, input: ReplaceInput): Promise<NodeRecord[]> {
  const provider = deps.providerFor(input.spec);
  const ref = clusterRef(input);
  const health = await checkNodes(deps, input, input.nodes, input.cluster);
  const lost = [...health.lost, ...health.noticed];
  if (lost.length > 0) await provider.terminateNodes(ref, lost);
  const names = input.nodes.map((n) => n.name);
  const workers = await provider.launchNodes({ cluster: ref, role: 'worker', names, image: input.image });
  await Promise.all(
    workers.map(async (node) =>
      deps.remote.waitReady(await targetFor(deps, input, node), SSH_READY_TIMEOUT_MS, Context.current().cancellationSignal),
    ),
  );
  return workers;
}
