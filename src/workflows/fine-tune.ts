// One durable fine-tune run: seven steps as activities, then teardown in a non-cancellable finally.
import { ApplicationFailure, CancellationScope, isCancellation, log, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { RunContext, TeardownResult } from '../activities/types';
import { specInvalid } from '../common/errors';
import { validateRunSpec } from '../spec/validate';
import type { RunSpec } from '../spec/schema';
import { ACTIVITY_PROFILES } from './activity-profiles';
import { progressQuery, trainingProgressSignal, type FineTuneInput, type RunSummary } from './definitions';
import { StepTracker } from './step-tracker';

const steps = {
  provisioning: proxyActivities<Activities>(ACTIVITY_PROFILES.provisioning),
  install: proxyActivities<Activities>(ACTIVITY_PROFILES.install),
  bake: proxyActivities<Activities>(ACTIVITY_PROFILES.bake),
  wiring: proxyActivities<Activities>(ACTIVITY_PROFILES.wiring),
  sanity: proxyActivities<Activities>(ACTIVITY_PROFILES.sanity),
  teardown: proxyActivities<Activities>(ACTIVITY_PROFILES.teardown),
};

export async function fineTune(input: FineTuneInput): Promise<RunSummary> {
  const validated = validateRunSpec(input.spec);
  if (!validated.ok) throw specInvalid(validated.problems);
  const spec = validated.spec;
  const ctx: RunContext = { clusterId: workflowInfo().workflowId, spec };
  const tracker = new StepTracker(spec);
  setHandler(progressQuery, () => tracker.snapshot());
  setHandler(trainingProgressSignal, (update) => tracker.setTraining(update));

  let outcome: Omit<RunSummary, 'teardown' | 'steps'> | undefined;
  let failure: unknown;
  let teardown: TeardownResult | undefined;
  try {
    outcome = await runSteps(ctx, spec, tracker);
  } catch (err) {
    failure = err;
    tracker.fail(err instanceof Error ? err.message : String(err));
    throw err;
  } finally {
    const keepCluster = failure !== undefined && spec.keepClusterOnFailure && !isCancellation(failure);
    teardown = await CancellationScope.nonCancellable(() =>
      tracker
        .run('teardown', () => steps.teardown.teardown({ ...ctx, keepCluster }), (r) => `${r.nodesLeft} node(s) left`)
        .catch((err: unknown) => {
          if (failure === undefined) throw err;
          // Never replace the run's own error with a teardown error; the reaper finds what is left.
          log.error('teardown failed after the run failed', { error: String(err) });
          return undefined;
        }),
    );
  }
  if (!outcome || !teardown) throw ApplicationFailure.nonRetryable('the run ended without a result');
  if (teardown.nodesLeft === 0) tracker.setNodes([], 'terminated');
  tracker.complete();
  return { ...outcome, steps: tracker.durations(), teardown };
}

async function runSteps(ctx: RunContext, spec: RunSpec, tracker: StepTracker): Promise<Omit<RunSummary, 'teardown' | 'steps'>> {
  const provisioned = await tracker.run(
    'provision-master',
    () => steps.provisioning.provisionMaster(ctx),
    (r) => (r.imageReused ? 'from the baked image' : undefined),
  );
  const { master, fingerprint, cluster, cpu } = provisioned;
  tracker.setNodes([master]);
  await tracker.run(
    'install-deps',
    () => steps.install.installDeps({ ...ctx, master, fingerprint }),
    (r) => (r.skipped ? 'already installed' : undefined),
  );
  const image = await tracker.run('bake-image', () => steps.bake.bakeImage({ ...ctx, master, fingerprint }), (r) => r.imageId);
  const names = Array.from({ length: spec.nodes - 1 }, (_, i) => `worker-${i + 1}`);
  const workers = await tracker.run('launch-workers', () => steps.provisioning.launchWorkers({ ...ctx, image, names }));
  const nodes = [master, ...workers];
  tracker.setNodes(nodes);
  await tracker.run('wire-ssh', () => steps.wiring.wireSsh({ ...ctx, sshUser: cluster.sshUser, nodes }));
  const sanity = await tracker.run('sanity-run', () => steps.sanity.sanityRun({ ...ctx, master, cpu }));
  const training = proxyActivities<Activities>(ACTIVITY_PROFILES.training(spec.training.timeoutMinutes));
  const trained = await tracker.run('distributed-train', () => training.distributedTrain({ ...ctx, cluster, nodes, cpu, jobId: 'train-0' }));
  return {
    workflowId: ctx.clusterId,
    runName: spec.name,
    provider: spec.provider,
    recipe: spec.recipe,
    imageReused: provisioned.imageReused,
    nodesLaunched: nodes.length,
    sanity,
    training: trained,
  };
}
