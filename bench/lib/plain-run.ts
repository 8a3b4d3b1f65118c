// The baseline of the overhead row: the blog's manual sequence as a plain script, without Temporal.
// The same provider calls and the same remote commands as the activities (built by the same functions
// of src/), run back to back over SSH in the foreground: no detached jobs, no polling, no heartbeats,
// no node watching, no checkpoint copies off the master.
import { workerNames } from '../../src/common/node-names';
import { bootWaitFor } from '../../src/cluster/boot-times';
import { bindRun } from '../../src/providers/run-provider';
import { knownHosts, sshConfig } from '../../src/activities/wire-ssh';
import { installScript } from '../../src/activities/install-deps';
import { LSCPU_COMMAND, parseLscpu } from '../../src/cluster/topology';
import type { NodeRecord } from '../../src/providers/provider';
import { distributedCommand, placement, sanityCommand } from '../../src/recipes/launch-command';
import { parseProgressLine, type ProgressEvent } from '../../src/recipes/progress';
import { buildRecipeBundle, recipeFingerprint } from '../../src/recipes/recipe-bundle';
import { recipeFor } from '../../src/recipes/recipe';
import { REMOTE } from '../../src/recipes/remote-paths';
import { jobDir } from '../../src/remote/remote-job';
import { sshTarget } from '../../src/remote/remote-shell';
import { sh } from '../../src/remote/shell-quote';
import type { SshTarget } from '../../src/remote/ssh-session';
import type { RunSpec } from '../../src/run-spec/schema';
import type { BenchLab } from './lab';

export interface PlainRunResult {
  seconds: number;
  steps: Record<string, number>;
  imageReused: boolean;
  sanitySteps: number;
  trainSteps: number;
}

export async function plainRun(lab: BenchLab, spec: RunSpec, clusterId: string): Promise<PlainRunResult> {
  const { deps } = lab;
  const provider = bindRun(lab.provider, spec);
  const remote = deps.remote;
  const ref = { clusterId, runName: spec.name };
  const steps: Record<string, number> = {};
  const started = Date.now();
  let mark = started;
  const step = (name: string) => {
    const now = Date.now();
    steps[name] = (now - mark) / 1000;
    mark = now;
  };
  try {
    // provision-master: the cluster's resources, the master (from the image if one is baked), SSH, lscpu.
    const cluster = await provider.bootstrap(ref);
    const recipe = recipeFor(spec);
    const fingerprint = await recipeFingerprint(recipe);
    const found = await provider.findImage(fingerprint);
    const [master] = await provider.launchNodes({ cluster: ref, role: 'master', names: ['master'], image: found });
    if (!master) throw new Error('no master');
    const identity = await provider.sshIdentity();
    const target = (node: NodeRecord): SshTarget => sshTarget(node, identity);
    const mt = target(master);
    await remote.waitReady(mt, bootWaitFor(master).sshReadyMs);
    const cpu = parseLscpu((await remote.check(mt, LSCPU_COMMAND, { label: 'lscpu' })).stdout);
    step('provision-master');

    // install-deps: skipped when the fingerprint's marker is there (it is, on a baked image).
    const marker = REMOTE.depsMarker(fingerprint);
    if ((await remote.run(mt, sh`test -f ${marker}`, { label: 'check installed dependencies' })).exitCode !== 0) {
      const bundle = await buildRecipeBundle(recipe);
      await remote.check(
        mt,
        sh`rm -rf ${REMOTE.recipe}.new && mkdir -p ${REMOTE.recipe}.new && tar -xzf - -C ${REMOTE.recipe}.new && rm -rf ${REMOTE.recipe} && mv ${REMOTE.recipe}.new ${REMOTE.recipe}`,
        { label: 'upload recipe', stdin: bundle.archive },
      );
      await remote.check(mt, installScript(recipe, marker), { label: 'install dependencies' });
    }
    step('install-deps');

    // bake-image: reuse the fingerprint's image, or bake one.
    let image = await provider.findImage(fingerprint);
    if (!image) {
      await remote.check(mt, 'sync', { label: 'flush disks before baking' });
      image = await provider.bakeImage(ref, master, fingerprint);
    }
    step('bake-image');

    // launch-workers: N-1 nodes from the image, then SSH on each.
    const workers = await provider.launchNodes({ cluster: ref, role: 'worker', names: workerNames(spec.nodes - 1), image });
    await Promise.all(workers.map((w) => remote.waitReady(target(w), bootWaitFor(w).sshReadyMs)));
    const nodes = [master, ...workers];
    step('launch-workers');

    // wire-ssh: the same commands as src/activities/wire-ssh.ts.
    const key = await remote.check(
      mt,
      sh`umask 077 && mkdir -p .ssh && { test -f ${REMOTE.clusterKey} || ssh-keygen -q -t ed25519 -N '' -C tuneforge-cluster -f ${REMOTE.clusterKey}; } && cat ${REMOTE.clusterKey}.pub`,
      { label: 'create the cluster key' },
    );
    const publicKey = key.stdout.trim();
    await Promise.all(
      nodes.map((node) =>
        remote.check(
          target(node),
          sh`umask 077 && mkdir -p .ssh && touch ${REMOTE.authorizedKeys} && (grep -qxF ${publicKey} ${REMOTE.authorizedKeys} || echo ${publicKey} >> ${REMOTE.authorizedKeys})`,
          { label: 'authorize the cluster key' },
        ),
      ),
    );
    await remote.upload(mt, REMOTE.sshConfig, sshConfig(nodes, cluster.sshUser), { mode: '0600' });
    await remote.upload(mt, REMOTE.knownHosts, knownHosts(nodes), { mode: '0600' });
    await remote.upload(mt, REMOTE.hostfile, nodes.map((n) => n.name).join('\n') + '\n');
    await remote.check(mt, nodes.map((n) => sh`ssh ${n.name} hostname`).join(' && '), { label: 'check SSH from the master' });
    step('wire-ssh');

    // sanity-run: one process on the master, in the foreground.
    const sanity = await foreground(lab, mt, sanityCommand(spec, cpu), 'sanity run');
    step('sanity-run');

    // distributed-train: mpirun from the master, in the foreground.
    const dir = jobDir('train-0');
    const mpi = distributedCommand({ spec, cluster, nodes, placement: placement(spec, cluster, cpu, nodes.length), jobDir: dir });
    const train = await foreground(lab, mt, `mkdir -p ${dir} && ${mpi}`, 'distributed training');
    step('distributed-train');

    await provider.terminateNodes(ref);
    await provider.cleanup(ref);
    step('teardown');
    return {
      seconds: (Date.now() - started) / 1000,
      steps,
      imageReused: found !== undefined,
      sanitySteps: sanity.global_step,
      trainSteps: train.global_step,
    };
  } catch (err) {
    await provider.terminateNodes(ref).catch(() => undefined);
    await provider.cleanup(ref).catch(() => undefined);
    throw err;
  }
}

type Done = Extract<ProgressEvent, { event: 'done' }>;

/** Runs a training command over one SSH session until it exits; its `done` line is its result. */
export async function foreground(lab: BenchLab, target: SshTarget, command: string, label: string): Promise<Done> {
  let partial = '';
  let done: Done | undefined;
  const onOutput = (text: string, stream: 'stdout' | 'stderr') => {
    if (stream !== 'stdout') return;
    const lines = (partial + text).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      const event = parseProgressLine(line);
      if (event?.event === 'done') done = event;
    }
  };
  const result = await lab.deps.remote.check(target, command, { label, onOutput });
  if (!done) throw new Error(`${label} printed no done line:\n${result.stdout.slice(-2000)}\n${result.stderr.slice(-2000)}`);
  return done;
}
