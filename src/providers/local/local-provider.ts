// The local provider: nodes are namespaced sshd processes on loopback addresses of this machine.
import { access, appendFile, chown, mkdir, readdir, readFile, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { execLocal } from '../../common/exec-file';
import { capacityUnavailable, prerequisiteMissing } from '../../common/errors';
import type {
  BakeRequest,
  CallOptions,
  ClusterInfo,
  ClusterRef,
  ClusterScope,
  ImageRecord,
  LaunchRequest,
  NodeRecord,
  Provider,
  SshIdentity,
} from '../provider';
import * as state from './cluster-state';
import { bakeLocalImage, findLocalImage, imageHome } from './images';
import { LOCAL_NOTICE_COMMAND } from './interruption';
import { DEFAULT_LAB_ROOT, DEFAULT_PIP_CACHE, NODE_ETC_MOUNT, NODE_HOME, NODE_USER, labLayout, type LabLayout } from './lab';
import { lookupNodeUser, prepareOverlayDirs, seedBaseHome, writeNodeEtc, type NodeUser } from './node-files';
import { isNodeProcessAlive, killNodeProcess, nodeInitPid, processStartTime, startNodeProcess } from './node-process';
import { scanNodeProcesses } from './node-scan';
import { RENDEZVOUS_PORT as RENDEZVOUS_BASE_PORT } from '../provider';

export interface LocalProviderOptions {
  labRoot?: string;
  pipCache?: string;
  /** Size of each node's private /tmp and /dev/shm. */
  tmpSizeMiB?: number;
  /**
   * Models a slow boot (EC2 bare metal answers SSH up to ~20 min after \`running\`): each node's sshd starts
   * this long after launch, launches return without waiting for it, and the node records the delay so
   * SSH waits allow for it. Default 0: nodes answer within a second and launches wait for their port.
   */
  bootDelayMs?: number;
}

/** The local provider's nodes have no settings of their own. */
const LOCAL_SETTINGS = { provider: 'local' } as const;
const SSH_PORT_WAIT_MS = 10_000;

export function createLocalProvider(options: LocalProviderOptions = {}): Provider {
  const lab = labLayout(options.labRoot ?? DEFAULT_LAB_ROOT, options.pipCache ?? DEFAULT_PIP_CACHE);
  const tmpSizeMiB = options.tmpSizeMiB ?? 1024;
  const bootDelayMs = options.bootDelayMs ?? 0;

  const provider: Provider = {
    name: 'local',

    async bootstrap(cluster: ClusterRef): Promise<ClusterInfo> {
      await checkPrerequisites();
      await ensurePipCache(lab.pipCache);
      await ensureOperatorKey(lab);
      const info = await state.ensureClusterInfo(lab, cluster);
      return {
        clusterId: cluster.clusterId,
        provider: 'local',
        sshUser: NODE_USER,
        rendezvousPort: RENDEZVOUS_BASE_PORT + info.slot,
        mpiInterface: 'lo',
        nodesShareCpus: true,
        noticeCommand: LOCAL_NOTICE_COMMAND,
      };
    },

    async launchNodes(request: LaunchRequest): Promise<NodeRecord[]> {
      await provider.bootstrap(request.cluster, request.settings);
      const user = await requireNodeUser();
      const records = await Promise.all(
        request.names.map((name) => ensureNode(lab, request, name, user, { tmpSizeMiB, bootDelayMs })),
      );
      const layout = lab.cluster(request.cluster.clusterId);
      await state.rewriteHostsFile(layout, await provider.listNodes(request.cluster, request.settings));
      return records;
    },

    async listNodes(cluster: ClusterRef): Promise<NodeRecord[]> {
      const states = await state.readNodeStates(lab.cluster(cluster.clusterId));
      return Promise.all(
        states.map(async (s): Promise<NodeRecord> => {
          const alive = await isNodeProcessAlive(s.process);
          return alive ? s.record : { ...s.record, state: 'terminated', stateReason: 'node process exited' };
        }),
      );
    },

    async terminateNodes(cluster: ClusterRef, names?: string[]): Promise<void> {
      const layout = lab.cluster(cluster.clusterId);
      const states = await state.readNodeStates(layout);
      const targets = names ?? states.map((s) => s.record.name);
      await Promise.all(targets.map((name) => terminateNode(lab, cluster, name)));
      if (names === undefined) await killStrays(layout.dir);
      if (await exists(layout.hosts)) await state.rewriteHostsFile(layout, await provider.listNodes(cluster, LOCAL_SETTINGS));
    },

    findImage: (fingerprint: string) => findLocalImage(lab, fingerprint),

    /** Local images are always kept: they are what makes the next local run start in seconds. */
    async bakeImage({ cluster, node, fingerprint }: BakeRequest): Promise<ImageRecord> {
      const existing = await findLocalImage(lab, fingerprint);
      if (existing) return existing;
      const nodeState = await state.readJson<state.LocalNodeState>(lab.cluster(cluster.clusterId).node(node.name).record);
      const initPid =
        nodeState && (await isNodeProcessAlive(nodeState.process)) ? await nodeInitPid(nodeState.process) : undefined;
      if (initPid === undefined) throw new Error(`cannot bake an image: node ${node.name} is not running`);
      return bakeLocalImage(lab, `/proc/${initPid}/root${NODE_HOME}`, fingerprint);
    },

    async cleanup(cluster: ClusterRef): Promise<void> {
      const layout = lab.cluster(cluster.clusterId);
      const info = await state.readJson<state.LocalClusterInfo>(layout.info);
      await provider.terminateNodes(cluster);
      await rm(layout.dir, { recursive: true, force: true });
      if (info) await state.releaseSlot(lab, info);
    },

    async listClusters(_options?: CallOptions, scope?: ClusterScope): Promise<string[]> {
      const recorded = await readdir(join(lab.root, 'clusters')).catch(() => [] as string[]);
      // Scoped (a reaper): only clusters whose record carries this scope; a node without a record is nobody's.
      if (scope !== undefined) return inScope(lab, recorded, scope);
      const running = (await scanNodeProcesses())
        .filter((p) => p.etcDir.startsWith(`${lab.root}/clusters/`))
        .map((p) => p.etcDir.slice(lab.root.length + '/clusters/'.length).split('/')[0] ?? '');
      return [...new Set([...recorded, ...running].filter((id) => id.length > 0))].sort();
    },

    async sshIdentity(): Promise<SshIdentity> {
      await ensureOperatorKey(lab);
      return { username: NODE_USER, privateKey: await readFile(lab.operatorKey), keyPath: lab.operatorKey };
    },
  };
  return provider;
}

async function ensureNode(
  lab: LabLayout,
  request: LaunchRequest,
  name: string,
  user: NodeUser,
  options: { tmpSizeMiB: number; bootDelayMs: number },
): Promise<NodeRecord> {
  const layout = lab.cluster(request.cluster.clusterId);
  const nodeLayout = layout.node(name);
  const existing = await state.readJson<state.LocalNodeState>(nodeLayout.record);
  if (existing && (await isNodeProcessAlive(existing.process))) return existing.record;
  request.signal?.throwIfAborted();
  if (await exists(layout.noCapacity)) {
    throw capacityUnavailable(['local'], `${layout.noCapacity} exists: the lab gives cluster ${request.cluster.clusterId} no new node`);
  }
  await terminateNode(lab, request.cluster, name, { keepAddress: true });
  const info = await state.ensureClusterInfo(lab, request.cluster);
  await mkdir(nodeLayout.dir, { recursive: true });
  const address = await state.claimAddress(layout, info, name);
  const hostKey = await writeNodeEtc(nodeLayout, address);
  let home: Parameters<typeof startNodeProcess>[0]['home'];
  if (request.image) {
    await prepareOverlayDirs(nodeLayout, user);
    home = { kind: 'overlay', lower: imageHome(lab, request.image), upper: nodeLayout.upper, work: nodeLayout.work };
  } else {
    const operatorPublicKey = (await readFile(`${lab.operatorKey}.pub`, 'utf8')).trim();
    await seedBaseHome(nodeLayout.home, user, { operatorPublicKey, pipCache: lab.pipCache });
    home = { kind: 'bind', dir: nodeLayout.home };
  }
  const proc = await startNodeProcess({
    hostname: name,
    etcDir: nodeLayout.etc,
    hostsFile: layout.hosts,
    home,
    labRoot: lab.root,
    logFile: nodeLayout.log,
    tmpSizeMiB: options.tmpSizeMiB,
    bootDelaySeconds: options.bootDelayMs / 1000,
  });
  const record: NodeRecord = {
    name,
    role: request.role,
    providerId: `${request.cluster.clusterId}/${name}`,
    address,
    privateAddress: address,
    sshPort: 22,
    hostKey,
    state: 'running',
    instanceType: 'local',
    market: 'on-demand',
    launchedAt: new Date().toISOString(),
    ...(options.bootDelayMs > 0 ? { bootDelayMs: options.bootDelayMs } : {}),
  };
  await state.writeJsonAtomic(nodeLayout.record, { record, process: proc } satisfies state.LocalNodeState);
  await appendFile(lab.launchLog, `${JSON.stringify({ clusterId: request.cluster.clusterId, name, at: record.launchedAt })}\n`);
  // Like EC2, a slow-booting node is returned "running" before it answers: the SSH wait covers the rest.
  if (options.bootDelayMs > 0) await assertStarted(proc, nodeLayout.log, address);
  else await waitForPort(address, 22, proc, nodeLayout.log, request.signal);
  return record;
}

async function terminateNode(lab: LabLayout, cluster: ClusterRef, name: string, opts: { keepAddress?: boolean } = {}) {
  const layout = lab.cluster(cluster.clusterId);
  const nodeLayout = layout.node(name);
  const existing = await state.readJson<state.LocalNodeState>(nodeLayout.record);
  if (existing) await killNodeProcess(existing.process);
  await killStrays(nodeLayout.dir);
  await rm(nodeLayout.dir, { recursive: true, force: true });
  if (existing && !opts.keepAddress) await state.releaseAddress(layout, existing.record.address);
}

/** Kills node processes started under a folder but never recorded (a crash between start and record). */
async function killStrays(dir: string): Promise<void> {
  const strays = (await scanNodeProcesses()).filter((p) => p.etcDir.startsWith(`${dir}/`));
  for (const stray of strays) {
    const startTime = await processStartTime(stray.pid).catch(() => undefined);
    if (startTime !== undefined) await killNodeProcess({ pid: stray.pid, startTime });
  }
}

async function assertStarted(proc: { pid: number; startTime: string }, log: string, address: string) {
  if (!(await isNodeProcessAlive(proc))) await failStart(log, address);
}

async function failStart(log: string, address: string): Promise<never> {
  const tail = (await readFile(log, 'utf8').catch(() => '')).slice(-2000);
  throw new Error(`node at ${address} exited during start:\n${tail}`);
}

async function waitForPort(
  address: string,
  port: number,
  proc: { pid: number; startTime: string },
  log: string,
  signal: AbortSignal | undefined,
) {
  const deadline = Date.now() + SSH_PORT_WAIT_MS;
  while (!(await canConnect(address, port))) {
    signal?.throwIfAborted();
    if (!(await isNodeProcessAlive(proc))) await failStart(log, address);
    if (Date.now() > deadline) throw new Error(`node at ${address} did not listen on port ${port} within ${SSH_PORT_WAIT_MS} ms`);
    await sleep(25, undefined, { signal });
  }
}

function canConnect(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function checkPrerequisites(): Promise<void> {
  if (process.getuid?.() !== 0) {
    throw prerequisiteMissing('the local provider needs root (it creates namespaces and mounts)', 'Run the worker as root.');
  }
  for (const tool of ['/usr/sbin/sshd', '/usr/bin/unshare', '/usr/bin/ssh-keygen']) {
    if (!(await exists(tool))) throw prerequisiteMissing(`${tool} is missing`, 'Run scripts/setup.sh (installs openssh-server).');
  }
  await requireNodeUser();
  await mkdir('/run/sshd', { recursive: true, mode: 0o755 });
  await mkdir(NODE_ETC_MOUNT, { recursive: true, mode: 0o755 });
  await mkdir(NODE_HOME, { recursive: true });
}

async function ensurePipCache(dir: string): Promise<void> {
  const user = await requireNodeUser();
  await mkdir(dir, { recursive: true, mode: 0o755 });
  await chown(dir, user.uid, user.gid);
}

async function requireNodeUser(): Promise<NodeUser> {
  const user = await lookupNodeUser();
  if (!user) throw prerequisiteMissing(`user ${NODE_USER} does not exist`, 'Run scripts/setup.sh (creates the node user).');
  return user;
}

async function ensureOperatorKey(lab: LabLayout): Promise<void> {
  if (await exists(lab.operatorKey)) return;
  // Made in a staging folder and renamed whole, so concurrent callers never mix two key pairs.
  const folder = dirname(lab.operatorKey);
  const staging = `${folder}.staging-${process.pid}-${Date.now()}`;
  await mkdir(staging, { recursive: true, mode: 0o700 });
  try {
    await execLocal('ssh-keygen', [
      '-q',
      '-t',
      'ed25519',
      '-N',
      '',
      '-C',
      'tuneforge-operator',
      '-f',
      join(staging, basename(lab.operatorKey)),
    ]);
    await rename(staging, folder).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOTEMPTY' && err.code !== 'EEXIST') throw err;
    });
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

async function inScope(lab: LabLayout, clusterIds: string[], scope: ClusterScope): Promise<string[]> {
  const infos = await Promise.all(clusterIds.map((id) => state.readJson<state.LocalClusterInfo>(lab.cluster(id).info)));
  return clusterIds
    .filter((_, i) => infos[i]?.scope?.namespace === scope.namespace && infos[i]?.scope?.taskQueue === scope.taskQueue)
    .sort();
}
