// One durable fine-tune run: seven steps as activities, then teardown in a non-cancellable finally. A
// run whose history fills up while it trains continues as new and the next run of the chain re-attaches
// to the training job; teardown and the run record belong to the run that ends the chain.
import {
  ApplicationFailure,
  CancellationScope,
  isCancellation,
  log,
  makeContinueAsNewFunc,
  patched,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { ProvisionResult, RunContext, TeardownResult } from '../activities/types';
import { CLUSTER_ID_PATTERN, clusterIdOf } from '../common/cluster-id';
import { costOverridesOf } from '../cluster/cost';
import { specInvalid } from '../common/errors';
import { failureText } from '../common/failure-summary';
import { standbyNames, workerNames } from '../common/node-names';
import { SEARCH_ATTRIBUTES } from '../common/search-attributes';
import { providerTraits } from '../providers/capabilities';
import { recipeAttribute, runTitle } from '../run-spec/expand-inputs';
import type { RunSpec } from '../run-spec/schema';
import { validateRunSpec } from '../run-spec/validate';
import {
  progressQuery,
  trainingProgressSignal,
  type FineTuneInput,
  type HistoryLimits,
  type RunHandover,
  type RunProgress,
  type RunSummary,
} from './definitions';
import { etaSeconds, renderDetails, type TrainingRate } from './run-details';
import { checkHubInputs, checkRunInputs, fetchHubModel, stageRunInputs } from './run-inputs';
import { steps } from './steps';
import { StepTracker } from './step-tracker';
import { capReached, checkBudget, isCapFailure } from './run-caps';
import { promoteIfGated } from './promotion';
import { recordRun, type RunOutcome } from './run-record';
import { efficiency, nodesLaunched } from './summary-figures';
import { notifyRunEnd } from './notify-run';
import { SpendMeter } from './spend';
import { freshTraining, trainWithRecovery } from './train-with-recovery';

/**
 * Temporal warns at 10,240 events and terminates a run at 51,200; a run continues as new well before
 * the warning. Training windows of an hour cost ~6 events each, so checking once an hour is plenty.
 */
export const DEFAULT_HISTORY_LIMITS: HistoryLimits = { eventBudget: 8_000, followWindowSeconds: 3_600 };

/** Marks histories that upload the nodes' logs before teardown. */
export const UPLOAD_LOGS_PATCH = 'tuneforge-upload-logs';

/** Marks histories whose aws runs begin with the preflight activity. */
export const AWS_PREFLIGHT_PATCH = 'tuneforge-aws-preflight';

export async function fineTune(input: FineTuneInput): Promise<RunSummary> {
  const limits = historyLimits(input);
  const resumed = input.handover;
  const spec = checkedSpec(resumed ? { spec: resumed.ctx.spec } : input);
  let ctx: RunContext = resumed ? { ...resumed.ctx, spec } : { clusterId: clusterIdOf(workflowInfo().workflowId), spec };
  const startedAt = resumed?.startedAt ?? new Date(Date.now()).toISOString();
  const tracker = new StepTracker(spec, publisher(), resumed?.progress);
  const spend = new SpendMeter(costOverridesOf(spec), spec.budgetUsd, resumed?.billed);
  setHandler(progressQuery, () => tracker.snapshot());
  setHandler(trainingProgressSignal, (update) => tracker.setTraining(update));
  // A continued run carries the chain's attributes over (recoveries, artifacts, stage) and must not reset them.
  if (!resumed) {
    upsertSearchAttributes([
      { key: SEARCH_ATTRIBUTES.provider, value: spec.provider },
      { key: SEARCH_ATTRIBUTES.recipe, value: recipeAttribute(spec) },
      { key: SEARCH_ATTRIBUTES.runName, value: spec.name },
      { key: SEARCH_ATTRIBUTES.nodes, value: spec.nodes },
      { key: SEARCH_ATTRIBUTES.recoveries, value: 0 },
    ]);
  }

  let outcome: RunOutcome | undefined;
  let handover: RunHandover | undefined;
  let failure: unknown;
  let teardown: TeardownResult | undefined;
  let runRecord: string | null = null;
  try {
    if (!resumed) {
      // Read-only account checks first: a quota, type or bucket that cannot work fails in seconds, not after the master's boot.
      // Patched: a run started before preflight existed replays without it instead of failing nondeterministic.
      if (providerTraits(spec.provider).hasPreflight && patched(AWS_PREFLIGHT_PATCH)) {
        await steps.provisioning.preflight.executeWithOptions({ summary: 'preflight: quota, offerings, image, keys, bucket' }, [
          ctx,
        ]);
      }
      // Checked before anything is launched: a run that cannot keep its model should not start.
      const { uri } = await steps.provisioning.prepareArtifacts.executeWithOptions(
        { summary: 'prepare-artifacts: check the artifact store' },
        [ctx],
      );
      ctx = { ...ctx, artifacts: uri };
      tracker.setArtifacts({ uri });
      upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.artifacts, value: uri }]);
      ctx = await checkRunInputs(ctx);
    }
    // The master's hub download (fetch-hub-model) adds the resolved commit: run.json records it whatever the outcome.
    const ran = await runSteps(ctx, spec, tracker, spend, { resumed, limits, startedAt }, (next) => {
      ctx = next;
    });
    if ('handover' in ran) handover = ran.handover;
    else outcome = ran;
    // The model trained by the cap is delivered; the run still ends as not finished, with the cap's type.
    if (outcome?.cappedBy) throw capReached({ ...outcome, cappedBy: outcome.cappedBy }, spend);
  } catch (err) {
    failure = err;
    throw err;
  } finally {
    if (!handover) {
      await CancellationScope.nonCancellable(() => uploadLogs(ctx, tracker));
      teardown = await CancellationScope.nonCancellable(() => runTeardown(ctx, tracker, failure));
      if (teardown?.kept) tracker.keptCluster(teardown.access);
      if (failure !== undefined) tracker.fail(failureText(failure));
      const costUsd = spend.costUsd();
      runRecord = await CancellationScope.nonCancellable(() =>
        recordRun(ctx, { startedAt, outcome, teardown, failure, progress: tracker.snapshot(), costUsd }),
      );
      await notifyRunEnd(ctx, { startedAt, outcome, failure, costUsd, runRecord });
    }
  }
  if (handover) {
    const { typedSearchAttributes, memo } = workflowInfo();
    const next: FineTuneInput = { spec: input.spec, history: input.history, handover };
    return await makeContinueAsNewFunc<typeof fineTune>({ typedSearchAttributes, memo })(next);
  }
  if (!outcome || !teardown || !ctx.artifacts) throw ApplicationFailure.nonRetryable('the run ended without a result');
  const costUsd = spend.costUsd();
  upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.costUsd, value: costUsd }]);
  if (teardown.nodesLeft === 0) tracker.setNodes([], 'terminated');
  tracker.complete();
  const { delivered, fingerprint: _fingerprint, nodesShareCpus: _shared, ...summary } = outcome;
  return {
    ...summary,
    steps: tracker.durations(),
    teardown,
    efficiency: { ...efficiency(outcome, costUsd, spend.onDemandCostUsd()), unpricedTypes: spend.unpricedTypes() },
    artifacts: {
      uri: ctx.artifacts,
      model: delivered.modelUri,
      evaluation: delivered.evaluationUri,
      runRecord,
      modelBytes: delivered.bytes,
      modelFiles: delivered.files,
      uploadSeconds: delivered.uploadSeconds,
    },
  };
}

function checkedSpec(input: FineTuneInput): RunSpec {
  const validated = validateRunSpec(input.spec);
  const problems = validated.ok ? [] : [...validated.problems];
  if (!CLUSTER_ID_PATTERN.test(clusterIdOf(workflowInfo().workflowId))) {
    problems.push({
      path: '(workflow id)',
      message: 'must be lowercase letters, digits and dashes: it names the cluster and tags its resources',
    });
  }
  if (!validated.ok || problems.length > 0) throw specInvalid(problems);
  return validated.spec;
}

/** Keeps the Web UI's view of the run current: details on every change, the stage search attribute when it moves. */
function publisher(): (progress: RunProgress) => void {
  let lastStage: string | undefined;
  let rate: TrainingRate | undefined;
  return (progress) => {
    const t = progress.training;
    if (t && (!rate || t.step < rate.sinceStep)) rate = { sinceMs: Date.now(), sinceStep: t.step };
    setCurrentDetails(renderDetails(progress, etaSeconds(progress, rate, Date.now())));
    if (progress.stage !== lastStage) {
      lastStage = progress.stage;
      upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.stage, value: progress.stage }]);
    }
  };
}

/** Every node's job logs into the store before teardown takes them; a run with no cluster or no store has none to keep. */
async function uploadLogs(ctx: RunContext, tracker: StepTracker): Promise<void> {
  // Patched: a run already tearing down when the worker got this replays without the upload instead of failing nondeterministic.
  if (!ctx.artifacts || tracker.snapshot().nodes.length === 0 || !patched(UPLOAD_LOGS_PATCH)) return;
  try {
    const { skipped } = await steps.logs.uploadLogs.executeWithOptions({ summary: "upload-logs: every node's job logs" }, [ctx]);
    if (skipped.length > 0) log.warn('logs of unreachable nodes were not kept', { nodes: skipped.map((s) => s.node) });
  } catch (err) {
    // The logs are a help, never the run's outcome: neither its error nor its success depends on them.
    log.warn("could not upload the nodes' logs", { error: String(err) });
  }
}

async function runTeardown(ctx: RunContext, tracker: StepTracker, failure: unknown): Promise<TeardownResult | undefined> {
  // A cap exists to stop the spend: it never keeps nodes up.
  const keepCluster =
    failure !== undefined && ctx.spec.keepClusterOnFailure && !isCancellation(failure) && !isCapFailure(failure);
  try {
    return await tracker.run(
      'teardown',
      () =>
        steps.teardown.teardown.executeWithOptions(
          { summary: keepCluster ? 'teardown: keep the cluster' : 'teardown: terminate every node' },
          [{ ...ctx, keepCluster, succeeded: failure === undefined }],
        ),
      (r) => `${r.nodesLeft} node(s) left`,
    );
  } catch (err) {
    if (failure === undefined) throw err;
    // Never replace the run's own error with a teardown error; the reaper finds what is left.
    log.error('teardown failed after the run failed', { error: String(err) });
    return undefined;
  }
}

interface ChainPosition {
  resumed: RunHandover | undefined;
  limits: HistoryLimits;
  startedAt: string;
}

interface PreparedCluster {
  /** The run's context with what preparing added (the hub model's commit). */
  ctx: RunContext;
  provisioned: ProvisionResult;
  image: RunHandover['image'];
  sanity: RunHandover['sanity'];
  nodes: RunHandover['training']['nodes'];
  standby: RunHandover['training']['nodes'];
}

async function runSteps(
  ctx: RunContext,
  spec: RunSpec,
  tracker: StepTracker,
  spend: SpendMeter,
  chain: ChainPosition,
  setContext: (ctx: RunContext) => void,
): Promise<RunOutcome | { handover: RunHandover }> {
  const { resumed } = chain;
  const prepared = resumed ?? (await prepareCluster(ctx, spec, tracker, spend, setContext));
  if (!resumed) ctx = (prepared as PreparedCluster).ctx;
  const { provisioned, image, sanity } = prepared;
  const { cluster, cpu, fingerprint } = provisioned;
  const start =
    'training' in prepared ? prepared.training : freshTraining(prepared.nodes, spec.training.timeoutMinutes, prepared.standby);
  const result = await tracker.run(
    'distributed-train',
    () => trainWithRecovery({ ctx, cluster, cpu, image }, start, chain.limits, tracker, spend),
    (r) => ('delivered' in r ? `model in ${r.delivered.modelUri}` : undefined),
    (r) => 'delivered' in r,
  );
  if ('handOver' in result) {
    const handovers = (resumed?.handovers ?? 0) + 1;
    log.info('the run history is full: continuing as new, the next run re-attaches to the training job', {
      historyLength: workflowInfo().historyLength,
      handovers,
    });
    return {
      handover: {
        ctx,
        startedAt: chain.startedAt,
        progress: tracker.snapshot(),
        provisioned,
        image,
        sanity,
        training: result.handOver,
        handovers,
        billed: spend.snapshot(),
      },
    };
  }
  const { trained, delivered, cappedBy } = result;
  tracker.setArtifacts({ uri: ctx.artifacts ?? '', model: delivered.modelUri });
  upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.model, value: delivered.modelUri }]);
  // A capped run ends as not finished: its model is kept but never made current.
  const promotion = cappedBy
    ? undefined
    : await promoteIfGated(ctx, spec, trained, delivered, workflowInfo().workflowId, tracker);
  return {
    fingerprint,
    delivered,
    nodesShareCpus: cluster.nodesShareCpus,
    workflowId: workflowInfo().workflowId,
    runName: spec.name,
    provider: spec.provider,
    recipe: runTitle(spec),
    ...(ctx.hubModel ? { hubModel: ctx.hubModel } : {}),
    imageReused: provisioned.imageReused,
    nodesLaunched: nodesLaunched(spec, tracker, result.standbyLaunched),
    // Node losses recovered from; growing back after a shrink is listed in recoveryLog but is no loss.
    recoveries: tracker.snapshot().recoveries.filter((r) => r.path !== 'grow').length,
    recoveryLog: tracker.snapshot().recoveries,
    sanity,
    training: trained,
    ...(cappedBy ? { cappedBy } : {}),
    ...(promotion ? { promotion } : {}),
  };
}

/** provision-master to sanity-run: a cluster ready to train; a budget spent before training ends the run. */
async function prepareCluster(
  initial: RunContext,
  spec: RunSpec,
  tracker: StepTracker,
  spend: SpendMeter,
  setContext: (ctx: RunContext) => void,
): Promise<PreparedCluster> {
  let ctx = initial;
  const provisioned = await tracker.run(
    'provision-master',
    () => steps.provisioning.provisionMaster.executeWithOptions({ summary: 'provision-master: launch the master' }, [ctx]),
    (r) => (r.imageReused ? 'from the baked image' : undefined),
  );
  const { master, fingerprint, cluster, cpu } = provisioned;
  tracker.setNodes([master]);
  spend.launched([master]);
  checkBudget(spend, tracker, 'install-deps');
  await tracker.run(
    'install-deps',
    () =>
      steps.install.installDeps.executeWithOptions({ summary: `install-deps on ${master.name}` }, [
        { ...ctx, master, fingerprint },
      ]),
    (r) => (r.skipped ? 'already installed' : undefined),
  );
  const image = await tracker.run(
    'bake-image',
    () =>
      steps.bake.bakeImage.executeWithOptions({ summary: `bake-image from ${master.name}` }, [{ ...ctx, master, fingerprint }]),
    (r) => r.imageId,
  );
  // After the bake, before any worker: the dataset the check downloads and the model stay out of the image,
  // and an unknown repo or revision ends the run with only the master launched.
  ctx = await checkHubInputs(ctx, master);
  ctx = await fetchHubModel(ctx, master);
  setContext(ctx);
  checkBudget(spend, tracker, 'launch-workers');
  const names = workerNames(spec.nodes - 1);
  // Standbys boot with the workers, in the same call: on EC2 their boots overlap.
  const spareNames = standbyNames(spec.recovery.standbyNodes);
  const launched = await tracker.run('launch-workers', () =>
    steps.provisioning.launchWorkers.executeWithOptions(
      {
        summary: `launch-workers: ${names.length} from ${image.imageId}${spareNames.length > 0 ? ` and ${spareNames.length} standby` : ''}`,
      },
      [{ ...ctx, image, names: [...names, ...spareNames] }],
    ),
  );
  const workers = launched.filter((n) => names.includes(n.name));
  const standby = launched.filter((n) => spareNames.includes(n.name));
  const nodes = [master, ...workers];
  tracker.setNodes(nodes, undefined, standby);
  spend.launched(launched);
  checkBudget(spend, tracker, 'wire-ssh');
  await tracker.run('wire-ssh', () =>
    steps.wiring.wireSsh.executeWithOptions({ summary: `wire-ssh across ${nodes.length} nodes` }, [
      { ...ctx, sshUser: cluster.sshUser, nodes },
    ]),
  );
  await stageRunInputs(ctx, [...nodes, ...standby], master);
  checkBudget(spend, tracker, 'sanity-run');
  const sanity = await tracker.run('sanity-run', () =>
    steps.sanity.sanityRun.executeWithOptions({ summary: `sanity-run on ${master.name}` }, [{ ...ctx, master, cpu }]),
  );
  tracker.setBf16(sanity.bf16);
  checkBudget(spend, tracker, 'distributed-train');
  return { ctx, provisioned, image, sanity, nodes, standby };
}

/** The input's history limits over the defaults; nonsense (not a positive number) is a spec problem. */
function historyLimits(input: FineTuneInput): HistoryLimits {
  const given = input.history ?? {};
  const problems = (Object.keys(DEFAULT_HISTORY_LIMITS) as Array<keyof HistoryLimits>)
    .filter(
      (key) => given[key] !== undefined && !(typeof given[key] === 'number' && Number.isFinite(given[key]) && given[key] > 0),
    )
    .map((key) => ({ path: `history.${key}`, message: 'must be a positive number' }));
  if (problems.length > 0) throw specInvalid(problems);
  return { ...DEFAULT_HISTORY_LIMITS, ...given };
}
