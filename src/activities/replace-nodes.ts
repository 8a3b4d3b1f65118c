// replace-nodes / replace-master: after a node loss, terminates the named nodes that are really lost
// and launches them again from the baked image under the same names; healthy ones are adopted, so a
// retry is safe. A new master also gets the newest complete checkpoint back from the artifact store.
import { Context } from '@temporalio/activity';
import { restoreNewestCheckpoint } from '../artifacts/stored-checkpoints';
import { REMOTE } from '../recipes/remote-paths';
import { clusterRef, endpointFor, runProvider, runStore, type ActivityDeps } from './deps';
import { keepAlive } from './keep-alive';
import { checkNodes } from './node-watch';
import { SshWait } from './ssh-wait';
import type { ClusterInfo, ImageRecord, NodeRecord, RunContext } from './types';

export interface ReplaceInput extends RunContext {
  cluster: ClusterInfo;
  image: ImageRecord;
  /** The nodes as the run knew them; only the lost ones among them are replaced. */
  nodes: NodeRecord[];
}

export function createReplaceActivities(deps: ActivityDeps) {
  return {
    replaceNodes: (input: ReplaceInput): Promise<NodeRecord[]> => {
      const sshWait = new SshWait(deps, input, 'replace-nodes');
      return keepAlive(() => replaceNodes(deps, input, sshWait), sshWait.details);
    },
  };
}

async function replaceNodes(deps: ActivityDeps, input: ReplaceInput, sshWait: SshWait): Promise<NodeRecord[]> {
  const provider = runProvider(deps, input);
  const ref = clusterRef(input);
  const health = await checkNodes(deps, input, input.nodes, input.cluster);
  const lost = [...health.lost, ...health.noticed];
  if (lost.length > 0) await provider.terminateNodes(ref, lost);
  const names = input.nodes.map((n) => n.name);
  const workers = await provider.launchNodes({ cluster: ref, role: 'worker', names, image: input.image });
  await sshWait.untilReady(workers);
  return workers;
}

export interface ReplaceMasterInput extends RunContext {
  cluster: ClusterInfo;
  image: ImageRecord;
  master: NodeRecord;
}

export function createReplaceMasterActivities(deps: ActivityDeps) {
  return {
    replaceMaster: (input: ReplaceMasterInput): Promise<NodeRecord> => {
      const sshWait = new SshWait(deps, input, 'replace-master');
      return keepAlive(() => replaceMaster(deps, input, sshWait), sshWait.details);
    },
  };
}

/**
 * A new master from the baked image (it already has the venv, recipe and assets), with the newest
 * checkpoint from the store put back where training resumes from. A healthy master is adopted.
 */
async function replaceMaster(deps: ActivityDeps, input: ReplaceMasterInput, sshWait: SshWait): Promise<NodeRecord> {
  const provider = runProvider(deps, input);
  const ref = clusterRef(input);
  const health = await checkNodes(deps, input, [input.master], input.cluster);
  if (health.lost.length > 0 || health.noticed.length > 0) await provider.terminateNodes(ref, [input.master.name]);
  const [master] = await provider.launchNodes({ cluster: ref, role: 'master', names: [input.master.name], image: input.image });
  if (!master) throw new Error('the provider launched no master');
  await sshWait.untilReady([master]);
  const restored = await restoreNewestCheckpoint(
    runStore(deps, input),
    await endpointFor(deps, input, master),
    REMOTE.trainOutput,
  );
  Context.current().log.info(
    restored ? `restored ${restored.name} on the new master` : 'no complete checkpoint in the store yet',
  );
  return master;
}
