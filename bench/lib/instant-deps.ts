// The scale row's dependencies: a provider whose nodes exist at once (in memory) and a RemoteShell that
// answers every command at once, speaking the detached-job protocol of src/remote/remote-job.ts:
// the launcher says `started`, a poll says `exited 0` followed by a finished job's progress lines.
// Implemented against the real interfaces, so the real activities and workflow run unchanged.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Provider, ClusterInfo, ImageRecord, NodeRecord, SshIdentity } from '../../src/providers/provider';
import { LSCPU_COMMAND } from '../../src/cluster/topology';
import { PROGRESS_PREFIX } from '../../src/recipes/progress';
import { REMOTE } from '../../src/recipes/remote-paths';
import type { RemoteShell, RunOptions } from '../../src/remote/remote-shell';
import type { ExecResult } from '../../src/remote/ssh-session';

/** Where node-watch's SSH probe lands: the bench's loopback SSH server (see probe-server.ts). */
export interface ProbeEndpoint {
  host: string;
  port: number;
  /** OpenSSH public key line of the probe server's host key. */
  hostKey: string;
}

export function createInstantProvider(probe: ProbeEndpoint, identity: SshIdentity): Provider {
  const clusters = new Map<string, Map<string, NodeRecord>>();
  const images = new Map<string, ImageRecord>();
  const nodesOf = (clusterId: string) => {
    let nodes = clusters.get(clusterId);
    if (!nodes) clusters.set(clusterId, (nodes = new Map()));
    return nodes;
  };
  const provider: Provider = {
    name: 'local',
    async bootstrap(cluster): Promise<ClusterInfo> {
      nodesOf(cluster.clusterId);
      return {
        clusterId: cluster.clusterId,
        provider: 'local',
        sshUser: 'ubuntu',
        rendezvousPort: 29500,
        nodesShareCpus: true,
      };
    },
    async launchNodes(request) {
      const nodes = nodesOf(request.cluster.clusterId);
      return request.names.map((name) => {
        const existing = nodes.get(name);
        if (existing && existing.state === 'running') return existing;
        const record: NodeRecord = {
          name,
          role: request.role,
          providerId: `${request.cluster.clusterId}/${name}`,
          address: probe.host,
          privateAddress: probe.host,
          sshPort: probe.port,
          hostKey: probe.hostKey,
          state: 'running',
          instanceType: 'instant',
          market: 'on-demand',
          launchedAt: new Date().toISOString(),
        };
        nodes.set(name, record);
        return record;
      });
    },
    async listNodes(cluster) {
      return [...(clusters.get(cluster.clusterId)?.values() ?? [])];
    },
    async terminateNodes(cluster, names) {
      const nodes = clusters.get(cluster.clusterId);
      if (!nodes) return;
      for (const name of names ?? [...nodes.keys()]) nodes.delete(name);
    },
    async findImage(fingerprint) {
      return images.get(fingerprint);
    },
    async bakeImage({ fingerprint }) {
      let image = images.get(fingerprint);
      if (!image)
        images.set(
          fingerprint,
          (image = { imageId: `instant-${fingerprint.slice(0, 12)}`, fingerprint, createdAt: new Date().toISOString() }),
        );
      return image;
    },
    async cleanup(cluster) {
      clusters.delete(cluster.clusterId);
    },
    async listClusters() {
      return [...clusters.keys()];
    },
    async sshIdentity() {
      return identity;
    },
  };
  return provider;
}

/** What `lscpu` prints on a 2-core, 1-NUMA-node machine (parseLscpu's input format). */
export const LSCPU_FIXTURE = ['# CPU,Core,Socket,Node', '0,0,0,0', '1,1,0,0', 'Flags: fpu sse2 avx2 avx512f', ''].join('\n');

/** A finished job's log: what the trainer prints when it ran to its end. */
export const FINISHED_JOB_LOG = [
  { event: 'start', world_size: 3, max_steps: 10, resumed_from: null, resumed_step: 0 },
  { event: 'step', step: 10, max_steps: 10, loss: 1.0, epoch: 1 },
  {
    event: 'done',
    global_step: 10,
    train_runtime: 0.01,
    train_samples_per_second: 1000,
    train_steps_per_second: 1000,
    first_loss: 2.0,
    final_loss: 1.0,
    eval_loss: 1.0,
    output_dir: REMOTE.trainOutput,
  },
]
  .map((e) => `${PROGRESS_PREFIX}${JSON.stringify(e)}\n`)
  .join('');

const TAIL_OFFSET = /tail -c \+(\d+) /;

/** A tar stream of a one-file folder: what `tar -cf -` on a node would send when the store copies a folder off it. */
function tinyTar(): Buffer {
  const dir = mkdtempSync(join(tmpdir(), 'tuneforge-bench-tar-'));
  try {
    writeFileSync(join(dir, 'config.json'), '{}\n');
    const tar = spawnSync('tar', ['-cf', '-', '-C', dir, '.']);
    if (tar.status !== 0) throw new Error(`tar failed: ${tar.stderr.toString()}`);
    return tar.stdout;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function createInstantRemoteShell(clusterPublicKey: string): RemoteShell {
  const ok = (stdout = ''): ExecResult => ({ exitCode: 0, stdout, stderr: '', truncated: false });
  const archive = tinyTar();
  const run = async (_target: unknown, command: string, options: RunOptions): Promise<ExecResult> => {
    if (command === LSCPU_COMMAND) return ok(LSCPU_FIXTURE);
    const sink = options?.stdoutTo;
    if (sink && / -cf - /.test(command)) {
      await new Promise<void>((resolve, reject) => sink.write(archive, (err) => (err ? reject(err) : resolve())));
      return ok();
    }
    if (command.includes('setsid bash "$job/run.sh"')) return ok('started\n');
    const tail = TAIL_OFFSET.exec(command);
    if (tail && command.includes('echo vanished')) {
      const offset = Number(tail[1]) - 1;
      return ok(`exited 0\n${FINISHED_JOB_LOG.slice(offset)}`);
    }
    if (command.includes('ssh-keygen') && command.includes(REMOTE.clusterKey)) return ok(`${clusterPublicKey}\n`);
    return ok();
  };
  return {
    run,
    check: run,
    upload: async () => undefined,
    waitReady: async () => undefined,
  };
}
