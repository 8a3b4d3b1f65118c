// A whole run as the workflow sequences it (src/workflows/fine-tune.ts, without recovery), each step the
// real activity function called in this process through MockActivityEnvironment: everything tuneforge
// does except the Temporal server and worker. Splits the overhead row into Temporal and the rest.
import { workerNames } from '../../src/common/node-names';
import type { RunSpec } from '../../src/run-spec/schema';
import { inProcessActivities, runActivity } from './in-process';
import { benchContext, type BenchLab } from './lab';

export interface InProcessRunResult {
  seconds: number;
  steps: Record<string, number>;
  imageReused: boolean;
}

export async function inProcessRun(lab: BenchLab, spec: RunSpec, clusterId: string): Promise<InProcessRunResult> {
  const acts = inProcessActivities(lab.deps);
  const ctx = benchContext(lab, clusterId, spec);
  const steps: Record<string, number> = {};
  const started = Date.now();
  let mark = started;
  const step = (name: string) => {
    const now = Date.now();
    steps[name] = (now - mark) / 1000;
    mark = now;
  };
  try {
    const p = await runActivity(acts, clusterId, 'provisionMaster', ctx);
    step('provision-master');
    await runActivity(acts, clusterId, 'installDeps', { ...ctx, master: p.master, fingerprint: p.fingerprint });
    step('install-deps');
    const image = await runActivity(acts, clusterId, 'bakeImage', { ...ctx, master: p.master, fingerprint: p.fingerprint });
    step('bake-image');
    const workers = await runActivity(acts, clusterId, 'launchWorkers', { ...ctx, image, names: workerNames(spec.nodes - 1) });
    const nodes = [p.master, ...workers];
    step('launch-workers');
    await runActivity(acts, clusterId, 'wireSsh', { ...ctx, sshUser: p.cluster.sshUser, nodes });
    step('wire-ssh');
    await runActivity(acts, clusterId, 'sanityRun', { ...ctx, master: p.master, cpu: p.cpu });
    step('sanity-run');
    await runActivity(acts, clusterId, 'distributedTrain', { ...ctx, cluster: p.cluster, nodes, cpu: p.cpu, jobId: 'train-0' });
    step('distributed-train');
    await runActivity(acts, clusterId, 'teardown', { ...ctx, keepCluster: false, succeeded: true });
    step('teardown');
    return { seconds: (Date.now() - started) / 1000, steps, imageReused: p.imageReused };
  } catch (err) {
    await runActivity(acts, clusterId, 'teardown', { ...ctx, keepCluster: false, succeeded: true }).catch(() => undefined);
    throw err;
  }
}
