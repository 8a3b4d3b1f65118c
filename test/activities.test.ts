// Each step activity against real local nodes, called twice: the second call finds the work done.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createActivities } from '../src/activities';
import type {
  CpuInfo,
  ImageRecord,
  NodeRecord,
  ProvisionResult,
  TrainingHandOver,
  TrainingStopped,
  TrainResult,
} from '../src/activities/types';
import { sshTarget } from '../src/remote/remote-shell';
import { validateRunSpec } from '../src/run-spec/validate';
import { runArtifactsUri } from '../src/artifacts/artifact-uri';
import { completeCheckpoints } from '../src/artifacts/stored-checkpoints';
import { liveNodeProcesses, nodeProcessesOf, runStoreOf, testDeps, testProvider, TEST_ARTIFACTS_URI } from './helpers/local-lab';
import { uniqueId } from './helpers/temporal';
import { bf16KernelsOfFlags } from '../src/common/bf16';
import { readFileSync } from 'node:fs';

/** This machine's CPU flags: the local nodes run on it. */
function cpuFlags(): string[] {
  const line = readFileSync('/proc/cpuinfo', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('flags'));
  return (line ?? '').split(':')[1]?.trim().split(/\s+/) ?? [];
}

const activities = createActivities(testDeps());
const parsed = validateRunSpec({
  name: 'activities-test',
  provider: 'local',
  recipe: 'tiny-qa',
  nodes: 2,
  training: { maxSteps: 6, saveSteps: 3 },
  sanity: { maxSteps: 3 },
});
assert.ok(parsed.ok);
const spec = parsed.spec;
const clusterId = uniqueId('activities');
const ctx = { clusterId, spec, artifacts: runArtifactsUri(TEST_ARTIFACTS_URI, spec.name, clusterId) };
const store = runStoreOf(spec.name, clusterId);

/** distributed-train's result when it followed the job to its end (no window given). */
function finished(result: TrainResult | TrainingHandOver | TrainingStopped): TrainResult {
  assert.ok(!('stillRunning' in result) && !('stopped' in result), 'the job was followed to its end');
  return result;
}

/** Runs an activity twice in a mock activity context and returns both results. */
async function twice<A extends unknown[], R>(fn: (...args: A) => Promise<R>, ...args: A): Promise<[R, R]> {
  const first = (await new MockActivityEnvironment().run(fn, ...args)) as R;
  const second = (await new MockActivityEnvironment().run(fn, ...args)) as R;
  return [first, second];
}

describe('step activities on real local nodes', () => {
  let provisioned: ProvisionResult;
  let master: NodeRecord;
  let cpu: CpuInfo;
  let image: ImageRecord;
  let nodes: NodeRecord[];
  /** The node processes (name -> pid@start time) as launch-workers left them. */
  let launched: Map<string, string>;

  after(async () => {
    await testProvider.cleanup({ clusterId: ctx.clusterId, runName: spec.name });
  });

  it('provision-master adopts the master on a second call', async () => {
    const [a, b] = await twice(activities.provisionMaster, ctx);
    assert.deepEqual(b.master, a.master);
    assert.deepEqual([...(await nodeProcessesOf(ctx.clusterId)).keys()], ['master'], 'one node process, the master');
    assert.ok(a.cpu.logicalCpus >= 1);
    provisioned = a;
    master = a.master;
    cpu = a.cpu;
  });

  it('install-deps installs once, then finds the marker', async () => {
    const input = { ...ctx, master, fingerprint: provisioned.fingerprint };
    const [a, b] = await twice(activities.installDeps, input);
    assert.equal(b.skipped, true);
    assert.equal(a.fingerprint, b.fingerprint);
  });

  it('bake-image reuses the image of the same fingerprint', async () => {
    const [a, b] = await twice(activities.bakeImage, { ...ctx, master, fingerprint: provisioned.fingerprint });
    assert.deepEqual(b, a);
    assert.equal(a.fingerprint, provisioned.fingerprint);
    image = a;
  });

  it('launch-workers adopts the workers on a second call', async () => {
    const before = await nodeProcessesOf(ctx.clusterId);
    const first = (await new MockActivityEnvironment().run(activities.launchWorkers, {
      ...ctx,
      image,
      names: ['worker-1'],
    })) as NodeRecord[];
    const afterFirst = await nodeProcessesOf(ctx.clusterId);
    const second = await new MockActivityEnvironment().run(activities.launchWorkers, { ...ctx, image, names: ['worker-1'] });
    assert.deepEqual(second, first);
    assert.equal(first.length, 1);
    assert.deepEqual([...afterFirst.keys()].sort(), ['master', 'worker-1']);
    assert.equal(afterFirst.get('master'), before.get('master'), 'the master process was left alone');
    assert.deepEqual(await nodeProcessesOf(ctx.clusterId), afterFirst, 'the second call started no process');
    launched = afterFirst;
    nodes = [master, ...first];
  });

  it('wire-ssh lets the master reach every node by name, and stays the same on a second call', async () => {
    const [a, b] = await twice(activities.wireSsh, { ...ctx, sshUser: 'ubuntu', nodes });
    assert.deepEqual(a.hosts, ['master', 'worker-1']);
    assert.deepEqual(b, a);
    const identity = await testProvider.sshIdentity();
    const keys = await testDeps().remote.check(
      sshTarget(nodes[1] as NodeRecord, identity),
      'grep -c tuneforge-cluster .ssh/authorized_keys',
      { label: 'count keys' },
    );
    assert.equal(keys.stdout.trim(), '1', 'the cluster key is authorized once');
  });

  it('sanity-run trains one node and a second call re-reads the same finished job', async () => {
    const [a, b] = await twice(activities.sanityRun, { ...ctx, master, cpu });
    assert.equal(a.steps, 3);
    assert.ok(a.samplesPerSecond > 0);
    assert.deepEqual(b, a);
    // The probe ran on the master (a local node: this machine's CPU) and agrees with the CPU's flags.
    assert.deepEqual(a.bf16, { requested: false, kernels: bf16KernelsOfFlags(cpuFlags()) });
  });

  it('distributed-train runs ranks on every node; a second call attaches to the finished job', async () => {
    const input = { ...ctx, cluster: provisioned.cluster, nodes, cpu, jobId: 'train-0' };
    const [a, b] = (await twice(activities.distributedTrain, input)).map(finished) as [TrainResult, TrainResult];
    assert.equal(a.globalStep, 6);
    assert.equal(a.worldSize, 2);
    assert.ok(
      a.firstLoss !== null && a.finalLoss !== null && a.finalLoss < a.firstLoss,
      `loss went down (${a.firstLoss} -> ${a.finalLoss})`,
    );
    assert.match(a.lastCheckpoint ?? '', /checkpoint-6$/);
    assert.deepEqual(b, a);
    const stored = await completeCheckpoints(store);
    assert.equal(stored[0]?.name, 'checkpoint-6', 'the final checkpoint is complete in the store when the step ends');
  });

  it('distributed-train leaves a job running when its window ends, and the next follower re-attaches to it', async () => {
    const input = { ...ctx, cluster: provisioned.cluster, nodes, cpu, jobId: 'train-1' };
    const first = (await new MockActivityEnvironment().run(activities.distributedTrain, {
      ...input,
      followForSeconds: 0,
    })) as TrainResult | TrainingHandOver | TrainingStopped;
    assert.ok('stillRunning' in first, 'a zero window hands the job over while it still runs');
    assert.equal(first.progress.jobId, 'train-1');
    const onMaster = async (command: string) =>
      (await testDeps().remote.check(sshTarget(master, await testProvider.sshIdentity()), command, { label: command })).stdout;
    assert.equal((await onMaster('test -f tuneforge/jobs/train-1/exit_code && echo exited || echo running')).trim(), 'running');
    const second = finished(
      (await new MockActivityEnvironment().run(activities.distributedTrain, { ...input, handedOver: first.progress })) as
        TrainResult | TrainingHandOver | TrainingStopped,
    );
    assert.equal(second.globalStep, 6);
    const jobs = (await onMaster('ls tuneforge/jobs')).split('\n').filter((j) => j.startsWith('train-1'));
    assert.deepEqual(jobs, ['train-1'], 'one job, none moved aside and started again');
    assert.equal((await onMaster(`grep -c '"event":"start"' tuneforge/jobs/train-1/log`)).trim(), '1', 'started once');
  });

  it('deliver-model puts a loadable model and the evaluation in the store; a second call does it again', async () => {
    const [a, b] = await twice(activities.deliverModel, { ...ctx, master });
    assert.equal(a.modelUri, `${ctx.artifacts}model/`);
    assert.equal(b.modelUri, a.modelUri);
    const keys = (await store.list('model/')).map((o) => o.key);
    for (const file of ['model/config.json', 'model/model.safetensors', 'model/tokenizer.json'])
      assert.ok(keys.includes(file), `${file} stored (have ${keys.join(', ')})`);
    assert.ok(!keys.some((k) => k.includes('checkpoint-')), 'no checkpoint inside the model folder');
    assert.equal(a.files, keys.length);
    assert.ok(a.packages.torch, 'package versions read from the venv');
    assert.ok(a.lossCurve.length > 0, 'loss curve from the trainer state');
  });

  it('teardown leaves no node, and a second call has nothing to do', async () => {
    assert.deepEqual(await nodeProcessesOf(ctx.clusterId), launched, 'no node was relaunched by the steps since launch');
    const [a, b] = await twice(activities.teardown, { ...ctx, keepCluster: false, succeeded: true });
    assert.equal(a.nodesTerminated, 2);
    assert.equal(a.nodesLeft, 0);
    assert.deepEqual(b, { nodesTerminated: 0, nodesLeft: 0, kept: false, access: [] });
    assert.equal(await liveNodeProcesses(ctx.clusterId), 0);
    assert.ok((await store.list('model/')).length > 0, 'teardown never deletes the model');
    assert.deepEqual(
      (await completeCheckpoints(store)).map((c) => c.name),
      ['checkpoint-6'],
      'only the newest checkpoint kept',
    );
  });
});
