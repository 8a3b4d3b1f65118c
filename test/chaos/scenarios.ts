// The chaos scenarios: each starts one fineTune run (local provider, tiny-qa, 3 nodes) on a fresh task
// queue with its own chaos worker process, does one fault, and returns a row. A scenario never throws:
// a failure is a row with passed=false and what failed in `detail`.
//
// Measurements (the same for every row):
//   nodes launched  countLaunches(workflowId, lab): lines of the lab's launch log for this cluster
//   nodes needed    3 (master + 2 workers) plus one per node the fault took; for cancel rows, the nodes the
//                   run had asked for by the cancelled step (1 up to bake-image, else 3): launched must not exceed it
//   nodes left      liveNodeProcesses(workflowId): node processes of the cluster still alive, after the run ended
//   steps repeated  (last step the first training job logged before the loss) - RunSummary.training.resumedStep;
//                   the last step is read from the master's tuneforge/jobs/train-0/log (for a lost master: read
//                   the instant before the kill). 0 when the job was re-attached (resumedStep 0, no new job).
//   recovery s      node loss rows: fault -> the first step line logged by the next training job (train-1) on the
//                   master (training productive again; sampled every 200 ms);
//                   worker-killed rows: kill -> the restarted worker starts the killed step again;
//                   temporal-killed: kill -9 -> the first progress query the (reconnected) worker answers;
//                   cancel rows: cancel -> the run has closed and no node of it is alive.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { localArtifactsUri } from '../../src/providers/local/lab';
import { storedCheckpoints } from '../helpers/local-lab';
import { sendInterruptionNotice } from '../helpers/local-lab';
import { liveNodeProcesses } from '../helpers/local-lab';
import { findNode, freezeNode, killNode, killNodeProcess, type TrainingWatcher } from './lab-probe';
import type { KillRecord } from './protocol';
import type { RunSummary } from '../../src/workflows/definitions';
import {
  messageChain,
  NODES,
  RUN_TIMEOUT_MS,
  seconds,
  type Scenario,
  type ScenarioRun,
  type TrainingSpec,
  RUN_NAME,
} from './scenario-run';

export type { ChaosEnv, ChaosRow } from './scenario-run';
export { runScenario } from './scenario-run';

export const STEP_ACTIVITIES = [
  'provisionMaster',
  'installDeps',
  'bakeImage',
  'launchWorkers',
  'wireSsh',
  'sanityRun',
  'distributedTrain',
  'teardown',
] as const;
export type StepActivity = (typeof STEP_ACTIVITIES)[number];

/** Enough for steps before training; the run stays short. */
const SHORT_TRAINING: TrainingSpec = { maxSteps: 40, saveSteps: 20 };
/** ~15 steps/s on 3 ranks here: a checkpoint every ~3 s and ~13 s of training, so a fault lands mid-run. */
export const RECOVERY_TRAINING: TrainingSpec = { maxSteps: 200, saveSteps: 40 };
/** Longer, so training is still running when the dev server is back. */
const TEMPORAL_TRAINING: TrainingSpec = { maxSteps: 400, saveSteps: 40 };
/** With the image baked these steps are near no-ops: their scenarios use a lab with no image yet. */
const FRESH_IMAGE_STEPS: ReadonlySet<StepActivity> = new Set(['installDeps', 'bakeImage']);
/**
 * How far into each step the worker kills itself (or when its work ends, if sooner). distributed-train
 * is killed by a trigger file instead, once training is past its first checkpoint.
 */
const KILL_AFTER_MS: Record<StepActivity, number> = {
  provisionMaster: 300,
  installDeps: 15_000,
  bakeImage: 1_500,
  launchWorkers: 150,
  wireSsh: 500,
  sanityRun: 3_000,
  distributedTrain: 10_000,
  teardown: 100,
};
/** The fault lands this many steps after the first checkpoint the job logged. */
const STEPS_PAST_CHECKPOINT = 12;
const NOTICE_TO_KILL_MS = 5_000;
const FROZEN_DETECTION_LIMIT_S = 15;
const CANCEL_LIMIT_S = 60;

// ---------------------------------------------------------------------------------------------------
// worker-killed@<step>: the worker process is SIGKILLed in the middle of the step, then started again.

function workerKilled(activity: StepActivity): Scenario {
  return {
    name: `worker-killed@${activity}`,
    async run(s) {
      if (FRESH_IMAGE_STEPS.has(activity)) await s.useFreshLab();
      const training = activity === 'distributedTrain' ? RECOVERY_TRAINING : SHORT_TRAINING;
      const flag = join(s.dir, 'kill.flag');
      await mkdir(s.dir, { recursive: true });
      await writeFile(flag, '');
      // distributed-train: the kill waits for training past its first checkpoint (job start-up time varies).
      const trigger = activity === 'distributedTrain' ? join(s.dir, 'kill.now') : undefined;
      const doomed = await s.startWorker({
        CHAOS_KILL_ACTIVITY: activity,
        CHAOS_FLAG: flag,
        CHAOS_KILL_AFTER_MS: String(KILL_AFTER_MS[activity]),
        ...(trigger ? { CHAOS_KILL_TRIGGER: trigger } : {}),
      });
      const watcher = trigger ? s.watch() : undefined;
      const runStarted = Date.now();
      await s.startRun(training);
      if (trigger && watcher) {
        await s.until('training past its first checkpoint', () => doomed.exited || pastFirstCheckpoint(watcher), RUN_TIMEOUT_MS);
        await writeFile(trigger, '');
      }
      await s.until(`the worker to be killed during ${activity}`, () => doomed.exited, RUN_TIMEOUT_MS);
      const killed = JSON.parse(await readFile(`${flag}.killed`, 'utf8').catch(() => 'null')) as KillRecord | null;
      if (
        !s.check(killed?.activity === activity, `the worker died, but not by the chaos kill in ${activity} (see its log)`) ||
        !killed
      )
        return;
      s.note(
        killed.mode === 'work-done'
          ? `killed as ${activity}'s work ended, before its result was reported (${killed.afterMs} ms in, attempt ${killed.attempt})`
          : `killed ${killed.afterMs} ms into ${activity} (attempt ${killed.attempt}), ${seconds(killed.at - runStarted)} s after the run started`,
      );
      await s.startWorker();
      const outcome = await s.outcome();
      const retried = (await s.starts(activity)).find((r) => r.at > killed.at);
      s.check(retried !== undefined, `the restarted worker never ran ${activity} again`);
      if (retried) s.recoverySeconds = seconds(retried.at - killed.at);
      const summary = s.checkCompleted(outcome, training.maxSteps);
      if (summary && watcher) {
        const stepAtKill = watcher.stepAt('train-0', killed.at);
        const restarted = watcher.allJobs().some((j) => j !== 'train-0');
        s.stepsRepeated = summary.training.resumedStep === 0 && !restarted ? 0 : (stepAtKill ?? 0) - summary.training.resumedStep;
        s.note(`training at step ${stepAtKill ?? 'none yet'} when killed; jobs ${watcher.allJobs().join(', ') || 'none seen'}`);
        s.check(summary.training.resumedStep === 0 && !restarted, 'the training job was restarted instead of re-attached');
        s.check(summary.recoveries === 0, `${summary.recoveries} node recoveries, expected none`);
      }
      await s.checkNodes();
    },
  };
}

// ---------------------------------------------------------------------------------------------------
// temporal-killed@distributed-train: kill -9 the dev server, restart it on the same database file.

function temporalKilled(): Scenario {
  return {
    name: 'temporal-killed@distributed-train',
    async run(s) {
      const training = TEMPORAL_TRAINING;
      await s.startWorker();
      const watcher = s.watch();
      await s.startRun(training);
      await s.until('training past its first checkpoint', () => pastFirstCheckpoint(watcher), RUN_TIMEOUT_MS);
      const stepAtKill = watcher.job('train-0')?.lastStep ?? null;
      const killedAt = Date.now();
      await s.env.server.kill9();
      await sleep(3000);
      await s.env.server.start();
      const upAt = Date.now();
      await s.env.temporal.renew();
      s.note(`dev server killed at step ${stepAtKill}, answering again after ${seconds(upAt - killedAt)} s`);
      // The worker must reconnect by itself: nobody restarts workers after a server outage.
      const answeredAt = await firstAnsweredQuery(s, 60_000);
      s.check(answeredAt !== undefined, 'the worker process did not reconnect by itself within 60 s');
      if (answeredAt !== undefined) s.recoverySeconds = seconds(answeredAt - killedAt);
      const outcome = await s.outcome();
      const summary = s.checkCompleted(outcome, training.maxSteps);
      if (summary) {
        s.stepsRepeated = summary.training.resumedStep === 0 ? 0 : (stepAtKill ?? 0) - summary.training.resumedStep;
        s.check(summary.recoveries === 0, `${summary.recoveries} node recoveries, expected none`);
      }
      await s.checkNodes();
    },
  };
}

async function firstAnsweredQuery(s: ScenarioRun, timeoutMs: number): Promise<number | undefined> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      await s.query(3000);
      return Date.now();
    } catch {
      await sleep(250);
    }
  }
  return undefined;
}

function pastFirstCheckpoint(watcher: TrainingWatcher, jobId = 'train-0'): boolean {
  const job = watcher.job(jobId);
  const first = job?.checkpoints[0];
  return job !== undefined && first !== undefined && job.lastStep >= first + STEPS_PAST_CHECKPOINT;
}

// ---------------------------------------------------------------------------------------------------
// Node losses during distributed-train.

type NodeFault = 'kill-worker' | 'notice' | 'kill-master' | 'freeze';
type CheckpointStore = ReturnType<typeof storedCheckpoints>;

interface FaultRecord {
  at: number;
  /** Only for a lost master: the last step train-0 had logged the instant before the kill. */
  lastStepBefore: number | null;
  /** Only for a lost master: the newest checkpoint in the store at the kill. */
  storedAtKill: number | null;
}

function nodeLoss(name: string, fault: NodeFault): Scenario {
  return {
    name,
    async run(s) {
      const training = RECOVERY_TRAINING;
      const store = storedCheckpoints(RUN_NAME, localArtifactsUri(s.lab));
      s.nodesNeeded = NODES + 1;
      await s.startWorker();
      const watcher = s.watch();
      await s.startRun(training);
      await s.until('training past its first checkpoint', () => pastFirstCheckpoint(watcher), RUN_TIMEOUT_MS);
      const done = await applyNodeFault(s, fault, watcher, store);
      await checkDetection(s, fault, done.at);
      const outcome = await s.outcome();
      await watcher.stop();
      s.note(`steps after the fault: ${await s.timeline(done.at).catch((err: unknown) => messageChain(err))}`);
      const next = watcher.job('train-1');
      if (next?.firstStepAt) s.recoverySeconds = seconds(next.firstStepAt - done.at);
      else s.fail('no step of a resumed training job (train-1) was seen on the master');
      const summary = s.checkCompleted(outcome, training.maxSteps);
      if (summary) await checkResume(s, fault, done, summary, watcher, store);
      await s.checkNodes();
    },
  };
}

async function applyNodeFault(
  s: ScenarioRun,
  fault: NodeFault,
  watcher: TrainingWatcher,
  store: CheckpointStore,
): Promise<FaultRecord> {
  const record: FaultRecord = { at: 0, lastStepBefore: null, storedAtKill: null };
  switch (fault) {
    case 'kill-worker':
      await killNode(s.workflowId, 'worker-1');
      record.at = Date.now();
      s.note('SIGKILLed worker-1');
      break;
    case 'notice': {
      // Like EC2: the notice first, the instance gone a little later (unless the run replaced it already).
      const noticed = await findNode(s.workflowId, 'worker-1');
      if (!noticed) throw new Error('worker-1 is not running');
      await sendInterruptionNotice(s.workflowId, 'worker-1', s.lab);
      record.at = Date.now();
      await sleep(NOTICE_TO_KILL_MS);
      const killed = await killNodeProcess(noticed);
      const after = `${NOTICE_TO_KILL_MS / 1000} s`;
      s.note(
        killed ? `notice to worker-1, SIGKILLed ${after} later` : `notice to worker-1; the run had replaced it within ${after}`,
      );
      break;
    }
    case 'kill-master': {
      await s.until(
        'a checkpoint in the checkpoint store',
        async () => {
          const stored = await store.newest(s.workflowId);
          return stored !== undefined && (watcher.job('train-0')?.lastStep ?? 0) >= stored.step + STEPS_PAST_CHECKPOINT;
        },
        120_000,
        100,
      );
      record.storedAtKill = (await store.newest(s.workflowId))?.step ?? null;
      await watcher.sample();
      record.lastStepBefore = watcher.job('train-0')?.lastStep ?? null;
      await killNode(s.workflowId, 'master');
      record.at = Date.now();
      s.note(`SIGKILLed the master at step ${record.lastStepBefore}; newest stored checkpoint then: ${record.storedAtKill}`);
      break;
    }
    case 'freeze': {
      const stopped = await freezeNode(s.workflowId, 'worker-2');
      record.at = Date.now();
      s.note(`SIGSTOPped worker-2 (${stopped} processes)`);
      break;
    }
  }
  return record;
}

/** When the workflow recorded the loss, by its own clock (the workflow task that saw the failed step). */
async function checkDetection(s: ScenarioRun, fault: NodeFault, faultAt: number): Promise<void> {
  let detectedAt: number | undefined;
  await s
    .until(
      'the run to notice the lost node',
      async () => {
        const recovery = (await s.query().catch(() => undefined))?.recoveries[0];
        if (recovery) detectedAt = Date.parse(recovery.at);
        return recovery !== undefined;
      },
      180_000,
      100,
    )
    .catch((err: unknown) => s.fail(messageChain(err)));
  if (detectedAt === undefined) return;
  const detection = seconds(detectedAt - faultAt);
  s.note(`loss recorded by the workflow ${detection} s after the fault`);
  // Not a pass condition outside the frozen case; a loss noticed this late means the training step hung.
  if (fault !== 'freeze' && fault !== 'notice' && detection > FROZEN_DETECTION_LIMIT_S) {
    s.note(`SLOW: the loss took ${detection} s to reach the workflow (a killed node is usually seen within ~2 s)`);
  }
  if (fault === 'freeze') {
    s.check(
      detection <= FROZEN_DETECTION_LIMIT_S,
      `frozen node detected after ${detection} s (limit ${FROZEN_DETECTION_LIMIT_S} s)`,
    );
  }
}

async function checkResume(
  s: ScenarioRun,
  fault: NodeFault,
  done: FaultRecord,
  summary: RunSummary,
  watcher: TrainingWatcher,
  store: CheckpointStore,
): Promise<void> {
  const save = RECOVERY_TRAINING.saveSteps;
  const first = watcher.job('train-0');
  const lastStepBefore = fault === 'kill-master' ? done.lastStepBefore : (first?.lastStep ?? null);
  const resumed = summary.training.resumedStep;
  s.check(summary.recoveries === 1, `${summary.recoveries} recoveries, expected 1`);
  s.check(summary.nodesLaunched === NODES + 1, `the run counts ${summary.nodesLaunched} nodes launched, expected ${NODES + 1}`);
  if (lastStepBefore !== null) s.stepsRepeated = lastStepBefore - resumed;
  s.note(
    `train-0 last step ${lastStepBefore}, checkpoints logged ${first?.checkpoints.join('/') || 'none'}; resumed from ${resumed}`,
  );
  const repeated = s.stepsRepeated;
  if (fault === 'notice') {
    s.check(repeated !== null && repeated <= 1, `${repeated} steps repeated after a notice (limit 1)`);
  } else if (fault === 'kill-master') {
    s.check(
      resumed > 0 && resumed === done.storedAtKill,
      `resumed from step ${resumed}; the store's newest checkpoint at the kill was ${done.storedAtKill}`,
    );
    const kept = (await store.newest(s.workflowId))?.step;
    s.check(kept === summary.training.globalStep, `the store keeps the final checkpoint after success (newest: ${kept})`);
  } else {
    s.check(resumed > 0 && resumed % save === 0, `resumed from step ${resumed}, not a checkpoint`);
    const newest = first?.checkpoints.filter((c) => c <= (lastStepBefore ?? 0)).at(-1);
    s.check(newest === undefined || resumed === newest, `resumed from ${resumed}, the newest complete checkpoint was ${newest}`);
    if (fault === 'kill-worker')
      s.check(repeated !== null && repeated <= save, `${repeated} steps repeated (limit: the save interval, ${save})`);
  }
}

// ---------------------------------------------------------------------------------------------------
// cancel@<step>: cancel the run when the step starts; zero nodes within 60 s.

function cancelDuring(activity: StepActivity): Scenario {
  return {
    name: `cancel@${activity}`,
    async run(s) {
      if (FRESH_IMAGE_STEPS.has(activity)) await s.useFreshLab();
      const training = activity === 'distributedTrain' ? RECOVERY_TRAINING : SHORT_TRAINING;
      s.nodesNeeded = STEP_ACTIVITIES.indexOf(activity) < STEP_ACTIVITIES.indexOf('launchWorkers') ? 1 : NODES;
      await s.startWorker();
      await s.startRun(training);
      await s.until(`${activity} to start`, async () => (await s.starts(activity)).length > 0, RUN_TIMEOUT_MS, 50);
      const cancelledAt = Date.now();
      await s.handle.cancel();
      let closed = false;
      const outcomeP = s.outcome(5 * 60_000).finally(() => (closed = true));
      let cleanAt: number | undefined;
      while (Date.now() - cancelledAt < CANCEL_LIMIT_S * 1000) {
        if (closed && (await liveNodeProcesses(s.workflowId)) === 0) {
          cleanAt = Date.now();
          break;
        }
        await sleep(250);
      }
      const outcome = await outcomeP;
      if (cleanAt !== undefined) s.recoverySeconds = seconds(cleanAt - cancelledAt);
      s.check(
        cleanAt !== undefined,
        `the run had not closed with zero nodes ${CANCEL_LIMIT_S} s after the cancel (${outcome.kind}, ${await liveNodeProcesses(s.workflowId)} node(s) alive)`,
      );
      const expected = activity === 'teardown' ? ['cancelled', 'completed'] : ['cancelled'];
      s.check(
        expected.includes(outcome.kind),
        `the run ended ${outcome.kind}${'message' in outcome ? `: ${outcome.message}` : ''}, expected ${expected.join(' or ')}`,
      );
      s.note(`run ended ${outcome.kind}`);
      // Nothing launched late by a step still running after the run closed.
      await sleep(5000);
      await s.measureNodes();
      s.check(s.nodesLeft === 0, `${s.nodesLeft} node(s) alive 5 s after the run closed`);
      s.check(
        (s.nodesLaunched ?? 0) <= (s.nodesNeeded ?? 0),
        `nodes launched ${s.nodesLaunched}, more than the ${s.nodesNeeded} needed by ${activity}`,
      );
    },
  };
}

export function allScenarios(): Scenario[] {
  return [
    ...STEP_ACTIVITIES.map(workerKilled),
    temporalKilled(),
    nodeLoss('node-killed@distributed-train', 'kill-worker'),
    nodeLoss('node-notice@distributed-train', 'notice'),
    nodeLoss('master-killed@distributed-train', 'kill-master'),
    nodeLoss('node-frozen@distributed-train', 'freeze'),
    ...STEP_ACTIVITIES.map(cancelDuring),
  ];
}
