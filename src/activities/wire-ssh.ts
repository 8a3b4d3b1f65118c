// wire-ssh: an intra-cluster key made on the master and authorized on every node; the master's
// ~/.ssh/config, known_hosts (pinned keys; host key checking is never turned off) and ~/hosts.
import { parseHostKey } from '../remote/host-key';
import { REMOTE } from '../recipes/remote-paths';
import { raw, sh } from '../remote/shell-quote';
import { mapBounded } from '../common/map-bounded';
import { activitySignal, targetFor, type ActivityDeps } from './deps';
import { keepAlive } from './keep-alive';
import type { NodeRecord, RunContext, WireResult } from './types';

export interface WireInput extends RunContext {
  sshUser: string;
  /** Master first. */
  nodes: NodeRecord[];
}

export function createWireActivities(deps: ActivityDeps) {
  return {
    wireSsh: (input: WireInput): Promise<WireResult> => keepAlive(() => wireSsh(deps, input)),
  };
}

/** How many nodes are wired (and checked from the master) at once. */
export const WIRE_CONCURRENCY = 16;

async function wireSsh(deps: ActivityDeps, input: WireInput): Promise<WireResult> {
  const [master] = input.nodes;
  if (!master || master.role !== 'master') throw new Error('wire-ssh needs the master first in its node list');
  const masterTarget = await targetFor(deps, input, master);
  const signal = activitySignal();
  const options = signal === undefined ? {} : { signal };
  // The master's files do not depend on the key: written while the key is made and authorized.
  const files = Promise.all([
    deps.remote.upload(masterTarget, REMOTE.sshConfig, sshConfig(input.nodes, input.sshUser), { mode: '0600', ...options }),
    deps.remote.upload(masterTarget, REMOTE.knownHosts, knownHosts(input.nodes), { mode: '0600', ...options }),
    deps.remote.upload(masterTarget, REMOTE.hostfile, input.nodes.map((n) => n.name).join('\n') + '\n', options),
  ]);
  files.catch(() => undefined);
  const keyResult = await deps.remote.check(
    masterTarget,
    sh`umask 077 && mkdir -p .ssh && { test -f ${REMOTE.clusterKey} || ssh-keygen -q -t ed25519 -N '' -C tuneforge-cluster -f ${REMOTE.clusterKey}; } && cat ${REMOTE.clusterKey}.pub`,
    { label: 'create the cluster key', ...options },
  );
  const clusterPublicKey = keyResult.stdout.trim();
  parseHostKey(clusterPublicKey);
  await mapBounded(input.nodes, WIRE_CONCURRENCY, async (node) =>
    deps.remote.check(
      await targetFor(deps, input, node),
      sh`umask 077 && mkdir -p .ssh && touch ${REMOTE.authorizedKeys} && (grep -qxF ${clusterPublicKey} ${REMOTE.authorizedKeys} || echo ${clusterPublicKey} >> ${REMOTE.authorizedKeys})`,
      { label: 'authorize the cluster key', ...options },
    ),
  );
  await files;
  // Prove the wiring the way mpirun will use it: the master logs in to every node by name.
  const seen = await deps.remote.check(masterTarget, checkFromMaster(input.nodes.map((n) => n.name)), {
    label: 'check SSH from the master to every node',
    ...options,
  });
  const hostnames = seen.stdout.trim().split('\n');
  return { hosts: hostnames };
}

/**
 * `ssh <node> hostname` to every node at once (at most WIRE_CONCURRENCY in flight), each answer in its
 * own file, printed in the nodes' order; any failed login fails the whole command.
 */
export function checkFromMaster(names: string[]): string {
  const checked = names.map(checkedName);
  return sh`
set -e
answers=$(mktemp -d)
trap 'rm -rf "$answers"' EXIT
printf '%s\n' ${raw(checked.join(' '))} | xargs -P ${raw(String(WIRE_CONCURRENCY))} -I{} sh -c 'ssh "$1" hostname > "$2/$1"' _ {} "$answers"
for name in ${raw(checked.join(' '))}; do cat "$answers/$name"; done
`;
}

export function sshConfig(nodes: NodeRecord[], user: string): string {
  const blocks = nodes.map(
    (n) => `Host ${checkedName(n.name)}\n  HostName ${n.privateAddress}\n  Port ${n.sshPort}\n  HostKeyAlias ${n.name}\n`,
  );
  const defaults = [
    'Host *',
    `  User ${user}`,
    `  IdentityFile ~/${REMOTE.clusterKey}`,
    '  IdentitiesOnly yes',
    '  StrictHostKeyChecking yes',
    '  BatchMode yes',
    `  UserKnownHostsFile ~/${REMOTE.knownHosts}`,
    '  ConnectTimeout 15',
    '  ServerAliveInterval 5',
    '  ServerAliveCountMax 3',
  ].join('\n');
  return `${blocks.join('')}${defaults}\n`;
}

export function knownHosts(nodes: NodeRecord[]): string {
  return nodes
    .map((n) => {
      const key = parseHostKey(n.hostKey);
      return `${checkedName(n.name)},${n.privateAddress} ${key.algorithm} ${key.blob.toString('base64')}\n`;
    })
    .join('');
}

function checkedName(name: string): string {
  if (!/^[a-z][a-z0-9-]{0,62}$/.test(name)) throw new Error(`refusing to write node name ${JSON.stringify(name)} into SSH files`);
  return name;
}
