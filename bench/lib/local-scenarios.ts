// The bench rows measured on real local nodes: image reuse, overhead, fan-out and recovery.
import type { Client } from '@temporalio/client';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { EvalScores } from '../../src/records/scores';
import { workerNames } from '../../src/common/node-names';
import { restoreNewestCheckpoint } from '../../src/artifacts/stored-checkpoints';
import { recipeFingerprint } from '../../src/recipes/recipe-bundle';
import { recipeFor } from '../../src/recipes/recipe';
import { REMOTE } from '../../src/recipes/remote-paths';
import { sshTarget } from '../../src/remote/remote-shell';
import type { RunSpec, RunSpecInput } from '../../src/run-spec/schema';
import { RECOVERY_SPEC, RUN_SPEC, log, median, normalized, uniqueId, withNodes } from './common';
import { inProcessActivities, runActivity, startActivity } from './in-process';
import { inProcessRun } from './in-process-run';
import {
  jobLogPaths,
  killNode,
  lastStep,
  launches,
  progressEvents,
  waitStoredCheckpoint,
  benchContext,
  watchProgress,
  type BenchLab,
} from './lab';
import { plainRun } from './plain-run';
import { activityTimeline, temporalRun, type TemporalRunResult } from './temporal';

const anySignal = (...signals: AbortSignal[]) => AbortSignal.any(signals);

/** The image every sample must reuse; the recipe files name it, and others may edit them meanwhile. */
async function requireReused(kind: string, reused: boolean): Promise<void> {
  if (reused) return;
  const now = await recipeFingerprint(recipeFor(normalized(RUN_SPEC)));
  throw new Error(
    `${kind} did not reuse the baked image: the recipe files changed during the bench (fingerprint now ${now.slice(0, 12)}), so this sample installed from scratch; rerun the bench`,
  );
}

function stepSeconds(run: TemporalRunResult): Record<string, number> {
  return Object.fromEntries(run.summary.steps.map((s) => [s.name, s.seconds]));
}

// ---------------------------------------------------------------- image reuse (and the first overhead sample)

export interface FirstStepRun {
  workflowId: string;
  imageReused: boolean;
  /** Workflow start call → the sanity run's first `step` line in the master's job log. */
  firstStepSeconds: number;
  wallSeconds: number;
  steps: Record<string, number>;
}

/** A whole run through Temporal, timing its first training step from the host side. */
async function runTimingFirstStep(
  lab: BenchLab,
  client: Client,
  taskQueue: string,
  prefix: string,
): Promise<FirstStepRun & { run: TemporalRunResult }> {
  const workflowId = uniqueId(prefix);
  let firstStepAt: number | undefined;
  const run = await temporalRun(client, taskQueue, workflowId, RUN_SPEC, async (_startedAt, ended) => {
    const seen = await watchProgress(jobLogPaths(lab, workflowId, 'master', 'sanity'), (e) => e.event === 'step', ended);
    firstStepAt = seen.at;
  });
  if (firstStepAt === undefined) throw new Error('no first step seen');
  return {
    workflowId,
    imageReused: run.summary.imageReused,
    firstStepSeconds: (firstStepAt - run.startedAt) / 1000,
    wallSeconds: run.seconds,
    steps: stepSeconds(run),
    run,
  };
}

export interface ImageReuseResult {
  first: FirstStepRun;
  reused: FirstStepRun;
  ratio: number;
}

export async function imageReuse(
  lab: BenchLab,
  client: Client,
  taskQueue: string,
): Promise<{ result: ImageReuseResult; reusedRun: TemporalRunResult }> {
  const fingerprint = await recipeFingerprint(recipeFor(normalized(RUN_SPEC)));
  if (await lab.provider.findImage(fingerprint))
    throw new Error(`lab ${lab.root} is not fresh: it has an image for ${fingerprint}`);
  log('image reuse: first run in the fresh lab (installs and bakes the image)');
  const { run: _firstRun, ...first } = await runTimingFirstStep(lab, client, taskQueue, 'bench-first');
  log(
    `  first step after ${first.firstStepSeconds.toFixed(1)} s, run ${first.wallSeconds.toFixed(1)} s, image reused: ${first.imageReused}`,
  );
  log('image reuse: second run (reuses the baked image)');
  const { run: reusedRun, ...reused } = await runTimingFirstStep(lab, client, taskQueue, 'bench-reuse');
  log(
    `  first step after ${reused.firstStepSeconds.toFixed(1)} s, run ${reused.wallSeconds.toFixed(1)} s, image reused: ${reused.imageReused}`,
  );
  if (first.imageReused) throw new Error('image reuse: the first run found an image in a fresh lab');
  await requireReused('image reuse: the second run', reused.imageReused);
  return { result: { first, reused, ratio: reused.firstStepSeconds / first.firstStepSeconds }, reusedRun };
}

// ---------------------------------------------------------------- overhead

export interface OverheadSample {
  kind: 'temporal' | 'plain' | 'in-process';
  clusterId: string;
  seconds: number;
  steps: Record<string, number>;
}

export interface OverheadResult {
  temporal: OverheadSample[];
  plain: OverheadSample[];
  inProcess: OverheadSample[];
  /** Medians of the samples. */
  temporalMedian: number;
  plainMedian: number;
  inProcessMedian: number;
  /** Temporal run ÷ plain script: the row. */
  ratio: number;
  /** Temporal run ÷ the same activities without a server: what the server and worker add. */
  temporalShare: number;
  /** Activities without a server ÷ plain script: what detached jobs, polling, watching and checkpoint copies add. */
  activityShare: number;
}

/**
 * Samples interleaved T P I P T I P T (T: through Temporal, the first being the image-reuse run; P: the
 * plain script; I: the activities in process), every one from the baked image; the row compares medians.
 */
export async function overhead(
  lab: BenchLab,
  client: Client,
  taskQueue: string,
  firstTemporal: TemporalRunResult,
): Promise<OverheadResult> {
  const spec = normalized(RUN_SPEC);
  await requireReused('the first temporal sample', firstTemporal.summary.imageReused);
  const temporal: OverheadSample[] = [
    {
      kind: 'temporal',
      clusterId: firstTemporal.summary.workflowId,
      seconds: firstTemporal.seconds,
      steps: stepSeconds(firstTemporal),
    },
  ];
  const plain: OverheadSample[] = [];
  const inProcess: OverheadSample[] = [];
  const runPlain = async () => {
    const clusterId = uniqueId('bench-plain');
    const r = await plainRun(lab, spec, clusterId);
    await requireReused('a plain-script sample', r.imageReused);
    plain.push({ kind: 'plain', clusterId, seconds: r.seconds, steps: r.steps });
    log(`  plain script: ${r.seconds.toFixed(1)} s`);
  };
  const runInProcess = async () => {
    const clusterId = uniqueId('bench-inproc');
    const r = await inProcessRun(lab, spec, clusterId);
    await requireReused('an in-process sample', r.imageReused);
    inProcess.push({ kind: 'in-process', clusterId, seconds: r.seconds, steps: r.steps });
    log(`  activities in process: ${r.seconds.toFixed(1)} s`);
  };
  const runTemporal = async () => {
    const workflowId = uniqueId('bench-run');
    const r = await temporalRun(client, taskQueue, workflowId, RUN_SPEC);
    await requireReused('a temporal sample', r.summary.imageReused);
    temporal.push({ kind: 'temporal', clusterId: workflowId, seconds: r.seconds, steps: stepSeconds(r) });
    log(`  temporal run: ${r.seconds.toFixed(1)} s`);
  };
  log(
    'overhead: plain, in-process, plain, temporal, in-process, plain, temporal (the first temporal sample is the image-reuse run)',
  );
  await runPlain();
  await runInProcess();
  await runPlain();
  await runTemporal();
  await runInProcess();
  await runPlain();
  await runTemporal();
  // Medians: the machine is shared, and one disturbed sample must not decide the row.
  const temporalMedian = median(temporal.map((s) => s.seconds));
  const plainMedian = median(plain.map((s) => s.seconds));
  const inProcessMedian = median(inProcess.map((s) => s.seconds));
  return {
    temporal,
    plain,
    inProcess,
    temporalMedian,
    plainMedian,
    inProcessMedian,
    ratio: temporalMedian / plainMedian,
    temporalShare: temporalMedian / inProcessMedian,
    activityShare: inProcessMedian / plainMedian,
  };
}

// ---------------------------------------------------------------- fan-out

export interface FanOutResult {
  repetitions: number;
  oneWorker: number[];
  sixWorkers: number[];
  /** Seconds of each activity of each sample (launch-workers, wire-ssh). */
  phases: Array<{ workers: number; launch: number; wire: number }>;
  oneMedian: number;
  sixMedian: number;
  ratio: number;
}

/** launch-workers + wire-ssh for one cluster (the master provisioned before the clock starts), then teardown. */
async function launchAndWire(lab: BenchLab, workers: number): Promise<{ workers: number; launch: number; wire: number }> {
  const acts = inProcessActivities(lab.deps);
  const spec = normalized(withNodes(RUN_SPEC, workers + 1, 'bench-fanout'));
  const clusterId = uniqueId(`bench-fan${workers}`);
  const ctx = benchContext(lab, clusterId, spec);
  try {
    const p = await runActivity(acts, clusterId, 'provisionMaster', ctx);
    const image = await lab.provider.findImage(p.fingerprint);
    if (!image) throw new Error('fan-out needs the baked image');
    const started = Date.now();
    const launched = await runActivity(acts, clusterId, 'launchWorkers', { ...ctx, image, names: workerNames(workers) });
    const wiring = Date.now();
    await runActivity(acts, clusterId, 'wireSsh', { ...ctx, sshUser: p.cluster.sshUser, nodes: [p.master, ...launched] });
    return { workers, launch: (wiring - started) / 1000, wire: (Date.now() - wiring) / 1000 };
  } finally {
    await runActivity(acts, clusterId, 'teardown', { ...ctx, keepCluster: false, succeeded: true });
  }
}

export async function fanOut(lab: BenchLab, repetitions = 3): Promise<FanOutResult> {
  const phases: FanOutResult['phases'] = [];
  const total = (p: { launch: number; wire: number }) => p.launch + p.wire;
  log(`fan-out: launch-workers + wire-ssh, 1 and 6 workers alternately, ${repetitions} times each`);
  for (let i = 0; i < repetitions; i++) {
    const one = await launchAndWire(lab, 1);
    const six = await launchAndWire(lab, 6);
    phases.push(one, six);
    log(
      `  1 worker ${total(one).toFixed(2)} s (launch ${one.launch.toFixed(2)}, wire ${one.wire.toFixed(2)}), 6 workers ${total(six).toFixed(2)} s (launch ${six.launch.toFixed(2)}, wire ${six.wire.toFixed(2)})`,
    );
  }
  const oneWorker = phases.filter((p) => p.workers === 1).map(total);
  const sixWorkers = phases.filter((p) => p.workers === 6).map(total);
  const oneMedian = median(oneWorker);
  const sixMedian = median(sixWorkers);
  return { repetitions, oneWorker, sixWorkers, phases, oneMedian, sixMedian, ratio: sixMedian / oneMedian };
}

// ---------------------------------------------------------------- recovery

export interface LossMeasurement {
  clusterId: string;
  storedCheckpoint: string;
  /** The kill → the new training job's first `step` line on the master. */
  seconds: number;
  /** Last step the lost job logged. */
  lastStepBefore: number | null;
  /** The step the new job resumed from (its `start` line). */
  resumedStep: number | null;
  stepsRepeated: number | null;
  /** Seconds after the kill, per phase. */
  phases: Record<string, number>;
}

export interface RecoveryResult {
  /** The boot delay every local node of both sides had (0: a local node's own start, ~0.1-0.3 s). */
  bootDelayMs: number;
  tuneforge: LossMeasurement & {
    recoveries: number;
    globalStep: number;
    nodesLaunched: number;
    /** The path the run's own record says it took (standby, replacement, shrink). */
    path: string | null;
    scores: EvalScores | null;
  };
  relaunch: LossMeasurement;
  ratio: number;
}

const WAIT_MS = 8 * 60_000;

/**
 * Waits until the first checkpoint is in the store, then until the lost job is half a save interval past
 * it, so the kill lands mid-interval: a resume repeats about half an interval, a restart from scratch
 * repeats more than a whole one (and fails the steps-repeated row).
 */
async function waitMidInterval(lab: BenchLab, clusterId: string, spec: RunSpec, signal: AbortSignal): Promise<string> {
  const stored = await waitStoredCheckpoint(lab, benchContext(lab, clusterId, spec), signal);
  const storedStep = Number(/(\d+)$/.exec(stored)?.[1] ?? '0');
  const target = storedStep + Math.ceil(spec.training.saveSteps / 2);
  await watchProgress(jobLogPaths(lab, clusterId, 'master', 'train-0'), (e) => e.event === 'step' && e.step >= target, signal);
  return stored;
}

async function resumedFrom(lab: BenchLab, clusterId: string): Promise<number | null> {
  const start = (await progressEvents(jobLogPaths(lab, clusterId, 'master', 'train-1'))).find((e) => e.event === 'start');
  return start?.event === 'start' ? start.resumed_step : null;
}

/** tuneforge's own recovery, through Temporal: the run replaces the lost worker, rewires SSH and resumes. */
/** How the lost node's place is filled: a replacement booted from the image, a warm standby, or none (shrink). */
export type RecoveryVariant = 'replacement' | 'standby' | 'shrink';

const VARIANT_SPECS: Record<RecoveryVariant, RunSpecInput> = {
  replacement: RECOVERY_SPEC,
  standby: { ...RECOVERY_SPEC, recovery: { standbyNodes: 1 } },
  shrink: RECOVERY_SPEC,
};

async function tuneforgeRecovery(
  lab: BenchLab,
  client: Client,
  taskQueue: string,
  variant: RecoveryVariant = 'replacement',
): Promise<RecoveryResult['tuneforge']> {
  const clusterId = uniqueId(`bench-recovery-${variant}`);
  const spec = VARIANT_SPECS[variant];
  let m: (LossMeasurement & { killedAt: number }) | undefined;
  const run = await temporalRun(client, taskQueue, clusterId, spec, async (_startedAt, ended) => {
    const signal = anySignal(ended, AbortSignal.timeout(WAIT_MS));
    const storedCheckpoint = await waitMidInterval(lab, clusterId, normalized(spec), signal);
    // The local provider's capacity switch: no new node for this cluster, as when spot capacity is gone.
    if (variant === 'shrink') await writeFile(join(lab.root, 'clusters', clusterId, 'no-capacity'), 'bench: no capacity\n');
    const killedAt = await killNode(lab, clusterId, 'worker-1');
    log(`  killed worker-1 mid-interval, after ${storedCheckpoint} reached the store`);
    const logs = jobLogPaths(lab, clusterId, 'master', 'train-1');
    const [started, resumed] = await Promise.all([
      watchProgress(logs, (e) => e.event === 'start', signal),
      watchProgress(logs, (e) => e.event === 'step', signal),
    ]);
    const lastStepBefore = lastStep(await progressEvents(jobLogPaths(lab, clusterId, 'master', 'train-0')));
    const resumedStep = await resumedFrom(lab, clusterId);
    const relaunched = (await launches(lab, clusterId)).filter((l) => l.name === 'worker-1' && l.at >= killedAt - 1000);
    m = {
      clusterId,
      killedAt,
      storedCheckpoint,
      seconds: (resumed.at - killedAt) / 1000,
      lastStepBefore,
      resumedStep,
      stepsRepeated: lastStepBefore !== null && resumedStep !== null ? lastStepBefore - resumedStep : null,
      phases: {
        ...(relaunched[0] ? { 'replacement node started': (relaunched[0].at - killedAt) / 1000 } : {}),
        'trainer up (start line: Python, imports, model, data, checkpoint loaded)': (started.at - killedAt) / 1000,
        'first step of the resumed job': (resumed.at - killedAt) / 1000,
      },
    };
  });
  if (!m) throw new Error('recovery not measured');
  // The workflow's own record of the recovery, from its history: when each step after the kill ended.
  const killedAt = m.killedAt;
  const after = (await activityTimeline(client, clusterId)).filter((e) => e.at >= killedAt);
  const at = (name: string, kind: string) => after.find((e) => e.name === name && e.kind === kind)?.at;
  const history: Array<[string, number | undefined]> = [
    ['loss reported (training step failed)', at('distributedTrain', 'failed')],
    ['lost node replaced (replaceNodes done)', at('replaceNodes', 'completed')],
    ['SSH rewired (wireSsh done)', at('wireSsh', 'completed')],
    ['training step restarted', at('distributedTrain', 'started')],
  ];
  for (const [name, time] of history) if (time !== undefined) m.phases[name] = (time - killedAt) / 1000;
  m.phases = Object.fromEntries(Object.entries(m.phases).sort((a, b) => a[1] - b[1]));
  const s = run.summary;
  if (s.recoveries !== 1 || s.training.globalStep !== normalized(RECOVERY_SPEC).training.maxSteps) {
    throw new Error(`recovery run ended oddly: ${s.recoveries} recoveries, step ${s.training.globalStep}`);
  }
  const { killedAt: _k, ...measured } = m;
  return {
    ...measured,
    recoveries: s.recoveries,
    globalStep: s.training.globalStep,
    nodesLaunched: s.nodesLaunched,
    path: s.recoveryLog?.[0]?.path ?? null,
    scores: s.training.eval,
  };
}

/**
 * The peers' strategy (SkyPilot, dstack) with tuneforge's own activities, in process: on the loss of
 * one node, terminate every node, provision a master from the image, put the stored checkpoint on it,
 * launch all workers, wire SSH, and start training from the checkpoint. The loss is detected the same
 * way (the training activity's node watch); no Temporal server is involved, which only favours it.
 */
async function wholeClusterRelaunch(lab: BenchLab): Promise<LossMeasurement> {
  const acts = inProcessActivities(lab.deps);
  const spec = normalized(withNodes(RECOVERY_SPEC, RECOVERY_SPEC.nodes ?? 3, 'bench-relaunch'));
  const clusterId = uniqueId('bench-relaunch');
  const ctx = benchContext(lab, clusterId, spec);
  const ref = { clusterId, runName: spec.name };
  const signal = AbortSignal.timeout(WAIT_MS);
  try {
    const p = await runActivity(acts, clusterId, 'provisionMaster', ctx);
    const image = await lab.provider.findImage(p.fingerprint);
    if (!image) throw new Error('relaunch needs the baked image');
    const names = workerNames(spec.nodes - 1);
    const workers = await runActivity(acts, clusterId, 'launchWorkers', { ...ctx, image, names });
    let nodes = [p.master, ...workers];
    await runActivity(acts, clusterId, 'wireSsh', { ...ctx, sshUser: p.cluster.sshUser, nodes });
    const first = startActivity(acts, clusterId, 'distributedTrain', {
      ...ctx,
      cluster: p.cluster,
      nodes,
      cpu: p.cpu,
      jobId: 'train-0',
    });
    first.result.catch(() => undefined);
    const storedCheckpoint = await Promise.race([
      waitMidInterval(lab, clusterId, spec, signal),
      first.result.then(() => Promise.reject(new Error('training ended before the kill point'))),
    ]);
    const killedAt = await killNode(lab, clusterId, 'worker-1');
    log(`  killed worker-1 mid-interval, after ${storedCheckpoint} reached the store`);
    const phases: Record<string, number> = {};
    const phase = (name: string) => (phases[name] = (Date.now() - killedAt) / 1000);
    const outcome = await first.result.then(
      () => 'completed',
      (err: unknown) => `${(err as { type?: string }).type ?? ''} ${String(err)}`,
    );
    phase('loss detected (training step failed)');
    if (!/NodeLost/.test(outcome)) throw new Error(`the training step did not report the loss: ${outcome}`);
    const lastStepBefore = lastStep(await progressEvents(jobLogPaths(lab, clusterId, 'master', 'train-0')));
    await lab.provider.terminateNodes(ref);
    phase('every node terminated');
    // The peers launch a whole cluster at once: the master (then the checkpoint onto it) and the workers together.
    const [p2, workers2] = await Promise.all([
      (async () => {
        const provisioned = await runActivity(acts, clusterId, 'provisionMaster', ctx);
        phase('master provisioned from the image');
        const node = {
          remote: lab.deps.remote,
          target: sshTarget(provisioned.master, await lab.provider.sshIdentity({ provider: 'local' })),
        };
        const stored = await restoreNewestCheckpoint(
          lab.deps.openStore(ctx.artifacts ?? '', 'us-east-1'),
          node,
          REMOTE.trainOutput,
        );
        if (!stored) throw new Error('no stored checkpoint to relaunch from');
        log(`  restored ${stored.name}`);
        phase('checkpoint restored on the master');
        return provisioned;
      })(),
      (async () => {
        const launched = await runActivity(acts, clusterId, 'launchWorkers', { ...ctx, image, names });
        phase('workers launched');
        return launched;
      })(),
    ]);
    nodes = [p2.master, ...workers2];
    await runActivity(acts, clusterId, 'wireSsh', { ...ctx, sshUser: p2.cluster.sshUser, nodes });
    phase('SSH wired');
    phase('training step restarted');
    const second = startActivity(acts, clusterId, 'distributedTrain', {
      ...ctx,
      cluster: p2.cluster,
      nodes,
      cpu: p2.cpu,
      jobId: 'train-1',
    });
    second.result.catch(() => undefined);
    const logs = jobLogPaths(lab, clusterId, 'master', 'train-1');
    void watchProgress(logs, (e) => e.event === 'start', signal).then(
      (seen) =>
        (phases['trainer up (start line: Python, imports, model, data, checkpoint loaded)'] = (seen.at - killedAt) / 1000),
      () => undefined,
    );
    const resumed = await Promise.race([
      watchProgress(logs, (e) => e.event === 'step', signal),
      second.result.then(() => Promise.reject(new Error('the relaunched training ended before a step was seen'))),
    ]);
    phases['first step of the resumed job'] = (resumed.at - killedAt) / 1000;
    const ordered = Object.fromEntries(Object.entries(phases).sort((a, b) => a[1] - b[1]));
    const resumedStep = await resumedFrom(lab, clusterId);
    second.cancel();
    await second.result.catch(() => undefined);
    return {
      clusterId,
      storedCheckpoint,
      seconds: (resumed.at - killedAt) / 1000,
      lastStepBefore,
      resumedStep,
      stepsRepeated: lastStepBefore !== null && resumedStep !== null ? lastStepBefore - resumedStep : null,
      phases: ordered,
    };
  } finally {
    await runActivity(acts, clusterId, 'teardown', { ...ctx, keepCluster: false, succeeded: true }).catch(() => undefined);
  }
}

/**
 * The same loss answered another way (a warm standby, or shrinking onto the nodes left), against a relaunch
 * already measured on the same lab: the relaunch does not depend on how tuneforge fills the place.
 */
export async function recoveryVariant(
  lab: BenchLab,
  client: Client,
  taskQueue: string,
  variant: RecoveryVariant,
  relaunch: LossMeasurement,
): Promise<RecoveryResult> {
  log(`recovery (${variant}), boot delay ${lab.bootDelayMs} ms per node: kill worker-1 mid-interval`);
  const tuneforge = await tuneforgeRecovery(lab, client, taskQueue, variant);
  if (tuneforge.path !== variant) throw new Error(`the ${variant} run took the ${tuneforge.path} path`);
  log(`  resumed ${tuneforge.seconds.toFixed(1)} s after the kill, ${tuneforge.stepsRepeated} step(s) repeated`);
  return { bootDelayMs: lab.bootDelayMs, tuneforge, relaunch, ratio: tuneforge.seconds / relaunch.seconds };
}

export async function recovery(lab: BenchLab, client: Client, taskQueue: string): Promise<RecoveryResult> {
  log(`recovery, boot delay ${lab.bootDelayMs} ms per node: tuneforge (Temporal run; kill worker-1 mid-interval)`);
  const tuneforge = await tuneforgeRecovery(lab, client, taskQueue);
  log(`  resumed ${tuneforge.seconds.toFixed(1)} s after the kill, ${tuneforge.stepsRepeated} step(s) repeated`);
  log("recovery: whole-cluster relaunch (the peers' strategy), same kill");
  const relaunch = await wholeClusterRelaunch(lab);
  log(`  resumed ${relaunch.seconds.toFixed(1)} s after the kill, ${relaunch.stepsRepeated} step(s) repeated`);
  return { bootDelayMs: lab.bootDelayMs, tuneforge, relaunch, ratio: tuneforge.seconds / relaunch.seconds };
}

export type { RunSpecInput };
