// use-standby: after a node loss, warm standby nodes take the lost nodes' places at once. The lost nodes
// are terminated; a standby that no longer answers is terminated too and never used; a standby taking the
// master's place gets the newest complete checkpoint from the store, as a replaced master would. The same
// input chooses the same standbys, so a retry is safe.
import { Context } from '@temporalio/activity';
import { restoreNewestCheckpoint } from '../artifacts/stored-checkpoints';
import { REMOTE } from '../recipes/remote-paths';
import { clusterRef, endpointFor, runProvider, runStore, type ActivityDeps } from './deps';
import { keepAlive } from './keep-alive';
import { checkNodes } from './node-watch';
import type { ClusterInfo, NodeRecord, RunContext } from './types';

export interface UseStandbyInput extends RunContext {
  cluster: ClusterInfo;
  /** The training nodes as the run knew them, master first. */
  nodes: NodeRecord[];
  lost: string[];
  standby: NodeRecord[];
}

export interface StandbyUsed {
  /** The training nodes with standbys in the lost places they could fill; places left unfilled keep the lost node. */
  nodes: NodeRecord[];
  /** Standbys still idle. */
  standby: NodeRecord[];
  /** Lost node name -> the standby that took its place. */
  filled: Record<string, string>;
  /** Standbys found broken and terminated. */
  broken: string[];
}

export function createStandbyActivities(deps: ActivityDeps) {
  return {
    useStandby: (input: UseStandbyInput): Promise<StandbyUsed> => keepAlive(() => useStandby(deps, input)),
  };
}

async function useStandby(deps: ActivityDeps, input: UseStandbyInput): Promise<StandbyUsed> {
  const provider = runProvider(deps, input);
  const health = await checkNodes(deps, input, input.standby, input.cluster);
  const broken = [...health.lost, ...health.noticed];
  const usable = input.standby.filter((n) => !broken.includes(n.name));
  const lostPlaces = input.nodes.filter((n) => input.lost.includes(n.name));
  const taking = usable.slice(0, lostPlaces.length);
  const filled = Object.fromEntries(taking.map((standby, i) => [lostPlaces[i].name, standby.name]));
  const replacedBy = new Map(taking.map((standby, i) => [lostPlaces[i].name, standby]));
  const nodes = input.nodes.map((n) => {
    const standby = replacedBy.get(n.name);
    return standby ? { ...standby, role: n.role } : n;
  });
  const gone = [...input.lost.filter((name) => replacedBy.has(name)), ...broken];
  if (gone.length > 0) await provider.terminateNodes(clusterRef(input), gone);
  const [master] = nodes;
  const [formerMaster] = input.nodes;
  if (master && formerMaster?.role === 'master' && replacedBy.has(formerMaster.name)) {
    const restored = await restoreNewestCheckpoint(runStore(deps, input), await endpointFor(deps, input, master), REMOTE.trainOutput);
    Context.current().log.info(
      restored ? `restored ${restored.name} on ${master.name}, the new master` : 'no complete checkpoint in the store yet',
    );
  }
  return { nodes, standby: usable.slice(taking.length), filled, broken };
}
