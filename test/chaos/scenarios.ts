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
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { CancelledFailure, TerminatedFailure, TimeoutFailure } from '@temporalio/common';
import { createFolderCheckpointStore } from '../../src/checkpoints/checkpoint-store';
import { WORKFLOW_TYPE } from '../../src/common/names';
import { sendInterruptionNotice } from '../../src/providers/local/interruption';
import { countLaunches } from '../../src/providers/local/launch-log';
import { createLocalProvider } from '../../src/providers/local/local-provider';
import { scanNodeProcesses } from '../../src/providers/local/node-scan';
import { progressQuery, type RunProgress, type RunSummary } from '../../src/workflows/definitions';
import { liveNodeProcesses } from '../helpers/local-lab';
import type { DevServer, TemporalAccess } from './dev-server';
import { findNode, freezeNode, killNode, killNodeProcess, TrainingWatcher } from './lab-probe';
import type { KillRecord, StartRecord } from './protocol';
import { ChaosWorker } from './worker-process';

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

const RUN_NAME = 'chaos';
const NODES = 3;
/** Enough for steps before training; the run stays short. */
const SHORT_TRAINING = { maxSteps: 40, saveSteps: 20 };
/** ~15 steps/s on 3 ranks here: a checkpoint every ~3 s and ~13 s of training, so a fault lands mid-run. */
export const RECOVERY_TRAINING = { maxSteps: 200, saveSteps: 40 };
/** Longer, so training is still running when the dev server is back. */
const TEMPORAL_TRAINING = { maxSteps: 400, saveSteps: 40 };
/** With the image baked these steps are near no-ops: their scenarios use a lab with no image yet. */
const FRESH_IMAGE_STEPS: ReadonlySet<StepActivity> = new Set(['installDeps', 'bakeImage']);
/** How far into each step the worker kills itself (or when its work ends, if sooner). */
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
const RUN_TIMEOUT_MS = 10 * 60_000;

export interface ChaosRow {
  scenario: string;
  passed: boolean;
  stepsRepeated: number | null;
  recoverySeconds: number | null;
  nodesLaunched: number | null;
  nodesNeeded: number | null;
  nodesLeft: number | null;
  durationSeconds: number;
  detail: string;
}

export interface ChaosEnv {
  server: DevServer;
  temporal: TemporalAccess;
  bundlePath: string;
  /** Lab root for runs that reuse the baked image (TEST_LAB_ROOT). */
  mainLab: string;
  /** Lab root emptied before and after each scenario that needs a lab with no image. */
  freshLab: string;
  /** Per-scenario scratch files (flags, start records). */
  workDir: string;
  /** Worker logs. */
  logDir: string;
}

export interface Scenario {
  name: string;
  run(s: ScenarioRun): Promise<void>;
}

type Outcome =
  | { kind: 'completed'; summary: RunSummary }
  | { kind: 'cancelled' | 'terminated' | 'timed-out' | 'failed' | 'no-result'; message: string };

function spec(training: { maxSteps: number; saveSteps: number }) {
  return { name: RUN_NAME, provider: 'local', recipe: 'tiny-qa', nodes: NODES, training, sanity: { maxSteps: 3 } };
}

function slug(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
}

function uniqueId(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(16).slice(2, 8)}`;
}

function seconds(ms: number): number {
  return Math.round(ms / 100) / 10;
}

function messageChain(err: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = err; e instanceof Error && parts.length < 5; e = (e as { cause?: unknown }).cause) parts.push(e.message);
  return parts.join(' <- ');
}

/** Everything one scenario run holds: its ids, lab, worker processes, checks and measurements. */
export class ScenarioRun {
  readonly workflowId: string;
  readonly taskQueue: string;
  readonly dir: string;
  readonly startedDir: string;
  lab: string;
  stepsRepeated: number | null = null;
  recoverySeconds: number | null = null;
  nodesLaunched: number | null = null;
  nodesNeeded: number | null = NODES;
  nodesLeft: number | null = null;
  watcher: TrainingWatcher | undefined;
  private readonly failures: string[] = [];
  private readonly notes: string[] = [];
  private readonly workers: ChaosWorker[] = [];
  private started = false;
  private usesFreshLab = false;

  constructor(
    readonly name: string,
    readonly env: ChaosEnv,
  ) {
    this.workflowId = uniqueId(`chaos-${slug(name)}`.slice(0, 60));
    this.taskQueue = uniqueId(`chaos-q-${slug(name)}`);
    this.dir = join(env.workDir, slug(name));
    this.startedDir = join(this.dir, 'started');
    this.lab = env.mainLab;
  }

  /** A pass condition: false records the message as a failure (the scenario goes on). */
  check(ok: boolean, message: string): boolean {
    if (!ok) this.failures.push(message);
    return ok;
  }

  note(message: string): void {
    this.notes.push(message);
  }

  fail(message: string): void {
    this.failures.push(message);
  }

  /** Runs this scenario in the fresh lab: no image, so install-deps and bake-image do their real work. */
  async useFreshLab(): Promise<void> {
    await wipeLab(this.env.freshLab);
    this.lab = this.env.freshLab;
    this.usesFreshLab = true;
    this.note(`fresh lab ${this.lab} (no baked image)`);
  }

  async startWorker(extraEnv: NodeJS.ProcessEnv = {}): Promise<ChaosWorker> {
    await mkdir(this.dir, { recursive: true });
    const worker = await ChaosWorker.start({
      address: this.env.server.address,
      taskQueue: this.taskQueue,
      labRoot: this.lab,
      bundlePath: this.env.bundlePath,
      logFile: join(this.env.logDir, `${slug(this.name)}.worker-${this.workers.length + 1}.log`),
      env: { CHAOS_STARTED_DIR: this.startedDir, ...extraEnv },
    });
    this.workers.push(worker);
    return worker;
  }

  async stopWorkers(): Promise<void> {
    for (const worker of this.workers) await worker.stop().catch(() => undefined);
  }

  watch(): TrainingWatcher {
    this.watcher = new TrainingWatcher(this.workflowId).start();
    return this.watcher;
  }

  /** Always through the current client: the connection is renewed after the dev server restarts. */
  get handle(): WorkflowHandle {
    return this.env.temporal.client.workflow.getHandle(this.workflowId);
  }

  async startRun(training: { maxSteps: number; saveSteps: number }): Promise<void> {
    await this.env.temporal.client.workflow.start(WORKFLOW_TYPE, {
      taskQueue: this.taskQueue,
      workflowId: this.workflowId,
      args: [{ spec: spec(training) }],
    });
    this.started = true;
  }

  /** Waits for the run's end, riding out a dev server that is down for a while. */
  async outcome(timeoutMs = RUN_TIMEOUT_MS): Promise<Outcome> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        const summary = (await this.env.temporal.connection.withDeadline(deadline, () => this.handle.result())) as RunSummary;
        return { kind: 'completed', summary };
      } catch (err) {
        if (err instanceof WorkflowFailedError) {
          const kind =
            err.cause instanceof CancelledFailure
              ? 'cancelled'
              : err.cause instanceof TerminatedFailure
                ? 'terminated'
                : err.cause instanceof TimeoutFailure
                  ? 'timed-out'
                  : 'failed';
          return { kind, message: messageChain(err) };
        }
        if (Date.now() >= deadline) return { kind: 'no-result', message: `no result within ${timeoutMs / 1000} s (${messageChain(err)})` };
        await sleep(1000);
      }
    }
  }

  async isClosed(): Promise<boolean> {
    try {
      return (await this.handle.describe()).status.name !== 'RUNNING';
    } catch {
      return false;
    }
  }

  /** Polls `ready` until it holds; throws when the run closed first or the time is up. */
  async until(what: string, ready: () => Promise<boolean> | boolean, timeoutMs: number, everyMs = 200): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let nextClosedCheck = Date.now() + 2000;
    for (;;) {
      if (await ready()) return;
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
      if (Date.now() > nextClosedCheck) {
        nextClosedCheck = Date.now() + 2000;
        if (this.started && (await this.isClosed())) {
          const outcome = await this.outcome(5000);
          throw new Error(`the run ended (${outcome.kind}${'message' in outcome ? `: ${outcome.message}` : ''}) before ${what}`);
        }
      }
      await sleep(everyMs);
    }
  }

  async query(timeoutMs = 5000): Promise<RunProgress> {
    return this.env.temporal.connection.withDeadline(Date.now() + timeoutMs, () => this.handle.query(progressQuery));
  }

  /** Start records the chaos worker wrote for an activity (every attempt, every worker process). */
  async starts(activity: string): Promise<StartRecord[]> {
    const text = await readFile(join(this.startedDir, activity), 'utf8').catch(() => '');
    return text
      .split('\n')
      .filter((l) => l.length > 0)
      .map((l) => JSON.parse(l) as StartRecord);
  }

  async measureNodes(): Promise<void> {
    this.nodesLaunched = await countLaunches(this.workflowId, this.lab);
    this.nodesLeft = await liveNodeProcesses(this.workflowId);
  }

  /** The checks every completed run must pass. */
  checkCompleted(outcome: Outcome, maxSteps: number): RunSummary | undefined {
    if (!this.check(outcome.kind === 'completed', `the run did not complete: ${outcome.kind}${'message' in outcome ? `: ${outcome.message}` : ''}`)) return undefined;
    const summary = (outcome as { summary: RunSummary }).summary;
    this.check(summary.training.globalStep === maxSteps, `final step ${summary.training.globalStep}, spec says ${maxSteps}`);
    this.check(summary.teardown.nodesLeft === 0, `teardown reported ${summary.teardown.nodesLeft} node(s) left`);
    return summary;
  }

  async checkNodes(): Promise<void> {
    await this.measureNodes();
    this.check(this.nodesLaunched === this.nodesNeeded, `nodes launched ${this.nodesLaunched}, needed ${this.nodesNeeded}`);
    this.check(this.nodesLeft === 0, `${this.nodesLeft} node(s) left`);
  }

  /** Stops what the scenario started; whatever the product left behind is counted first, then removed. */
  async finish(): Promise<void> {
    await this.watcher?.stop();
    if (this.started && !(await this.isClosed())) {
      await this.handle.terminate('chaos harness: the scenario ended').catch(() => undefined);
      this.note('harness terminated the still-running run');
    }
    await this.stopWorkers();
    if (this.nodesLeft === null || this.nodesLaunched === null) await this.measureNodes().catch(() => undefined);
    const live = await liveNodeProcesses(this.workflowId);
    if (live > 0) {
      await createLocalProvider({ labRoot: this.lab, tmpSizeMiB: 512 })
        .cleanup({ clusterId: this.workflowId, runName: RUN_NAME })
        .catch((err: unknown) => this.note(`harness cleanup failed: ${messageChain(err)}`));
      this.note(`harness removed ${live} node(s) the run left behind`);
    }
    if (this.usesFreshLab) {
      const staging = (await readdir(join(this.lab, 'images')).catch(() => [] as string[])).filter((e) => e.startsWith('.staging-'));
      if (staging.length > 0) this.note(`left in the lab's images folder: ${staging.join(', ')}`);
      await wipeLab(this.lab).catch((err: unknown) => this.note(`could not empty the fresh lab: ${messageChain(err)}`));
    }
  }

  row(startedAt: number): ChaosRow {
    return {
      scenario: this.name,
      passed: this.failures.length === 0,
      stepsRepeated: this.stepsRepeated,
      recoverySeconds: this.recoverySeconds,
      nodesLaunched: this.nodesLaunched,
      nodesNeeded: this.nodesNeeded,
      nodesLeft: this.nodesLeft,
      durationSeconds: seconds(Date.now() - startedAt),
      detail: [...this.failures.map((f) => `FAIL: ${f}`), ...this.notes].join('; '),
    };
  }
}

/** Kills any node still running from a lab, then removes the lab and its checkpoint store. */
async function wipeLab(lab: string): Promise<void> {
  for (const node of await scanNodeProcesses()) {
    if (!node.etcDir.startsWith(`${lab}/`)) continue;
    try {
      process.kill(node.pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
  await sleep(200);
  await rm(lab, { recursive: true, force: true });
  await rm(`${lab}-checkpoints`, { recursive: true, force: true });
}

export async function runScenario(scenario: Scenario, env: ChaosEnv): Promise<ChaosRow> {
  const startedAt = Date.now();
  const run = new ScenarioRun(scenario.name, env);
  try {
    await scenario.run(run);
  } catch (err) {
    run.fail(`error: ${messageChain(err)}`);
  }
  try {
    await run.finish();
  } catch (err) {
    run.note(`harness cleanup error: ${messageChain(err)}`);
  }
  return run.row(startedAt);
}

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
      const doomed = await s.startWorker({ CHAOS_KILL_ACTIVITY: activity, CHAOS_FLAG: flag, CHAOS_KILL_AFTER_MS: String(KILL_AFTER_MS[activity]) });
      const watcher = activity === 'distributedTrain' ? s.watch() : undefined;
      await s.startRun(training);
      await s.until(`the worker to be killed during ${activity}`, () => doomed.exited, RUN_TIMEOUT_MS);
      const killed = JSON.parse(await readFile(`${flag}.killed`, 'utf8').catch(() => 'null')) as KillRecord | null;
      if (!s.check(killed?.activity === activity, `the worker died, but not by the chaos kill in ${activity} (see its log)`) || !killed) return;
      s.note(
        killed.mode === 'timer'
          ? `killed ${killed.afterMs} ms into ${activity} (attempt ${killed.attempt})`
          : `killed as ${activity}'s work ended, before its result was reported (${killed.afterMs} ms, attempt ${killed.attempt})`,
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
      let answeredAt = await firstAnsweredQuery(s, 60_000);
      if (answeredAt === undefined) {
        s.note('the worker process did not reconnect within 60 s: restarted it');
        await s.stopWorkers();
        await s.startWorker();
        answeredAt = await firstAnsweredQuery(s, 60_000);
      } else {
        s.note('the worker reconnected by itself');
      }
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

function nodeLoss(name: string, fault: NodeFault): Scenario {
  return {
    name,
    async run(s) {
      const training = RECOVERY_TRAINING;
      const save = training.saveSteps;
      const store = createFolderCheckpointStore(`${s.lab}-checkpoints`);
      s.nodesNeeded = NODES + 1;
      await s.startWorker();
      const watcher = s.watch();
      await s.startRun(training);
      await s.until('training past its first checkpoint', () => pastFirstCheckpoint(watcher), RUN_TIMEOUT_MS);
      let faultAt: number;
      let lastStepBefore: number | null = null;
      let storedAtKill: number | null = null;
      switch (fault) {
        case 'kill-worker': {
          await killNode(s.workflowId, 'worker-1');
          faultAt = Date.now();
          s.note('SIGKILLed worker-1');
          break;
        }
        case 'notice': {
          const noticed = await findNode(s.workflowId, 'worker-1');
          if (!noticed) throw new Error('worker-1 is not running');
          await sendInterruptionNotice(s.workflowId, 'worker-1', s.lab);
          faultAt = Date.now();
          await sleep(NOTICE_TO_KILL_MS);
          const killed = await killNodeProcess(noticed);
          s.note(killed ? `notice to worker-1, which was SIGKILLed ${NOTICE_TO_KILL_MS / 1000} s later` : `notice to worker-1; the run had already replaced it within ${NOTICE_TO_KILL_MS / 1000} s`);
          break;
        }
        case 'kill-master': {
          await s.until('a checkpoint in the checkpoint store', async () => {
            const stored = await store.newest(s.workflowId);
            return stored !== undefined && (watcher.job('train-0')?.lastStep ?? 0) >= stored.step + STEPS_PAST_CHECKPOINT;
          }, 120_000, 100);
          storedAtKill = (await store.newest(s.workflowId))?.step ?? null;
          await watcher.sample();
          lastStepBefore = watcher.job('train-0')?.lastStep ?? null;
          await killNode(s.workflowId, 'master');
          faultAt = Date.now();
          s.note(`SIGKILLed the master at step ${lastStepBefore}; newest stored checkpoint then: ${storedAtKill}`);
          break;
        }
        case 'freeze': {
          const stopped = await freezeNode(s.workflowId, 'worker-2');
          faultAt = Date.now();
          s.note(`SIGSTOPped worker-2 (${stopped} processes)`);
          break;
        }
      }
      // When the workflow recorded the loss (its own clock: the workflow task that saw the failed step).
      let detectedAt: number | undefined;
      await s
        .until('the run to notice the lost node', async () => {
          const recovery = (await s.query().catch(() => undefined))?.recoveries[0];
          if (recovery) detectedAt = Date.parse(recovery.at);
          return recovery !== undefined;
        }, 180_000, 100)
        .catch((err: unknown) => s.fail(err instanceof Error ? err.message : String(err)));
      if (detectedAt !== undefined) {
        const detection = seconds(detectedAt - faultAt);
        s.note(`loss recorded by the workflow ${detection} s after the fault`);
        if (fault === 'freeze') s.check(detection <= FROZEN_DETECTION_LIMIT_S, `frozen node detected after ${detection} s (limit ${FROZEN_DETECTION_LIMIT_S} s)`);
      }
      const outcome = await s.outcome();
      await watcher.stop();
      const summary = s.checkCompleted(outcome, training.maxSteps);
      const first = watcher.job('train-0');
      const next = watcher.job('train-1');
      if (next?.firstStepAt) s.recoverySeconds = seconds(next.firstStepAt - faultAt);
      else s.fail('no step of a resumed training job (train-1) was seen on the master');
      if (fault !== 'kill-master') lastStepBefore = first?.lastStep ?? null;
      if (summary) {
        const resumed = summary.training.resumedStep;
        s.check(summary.recoveries === 1, `${summary.recoveries} recoveries, expected 1`);
        s.check(summary.nodesLaunched === NODES + 1, `the run counts ${summary.nodesLaunched} nodes launched, expected ${NODES + 1}`);
        if (lastStepBefore !== null) s.stepsRepeated = lastStepBefore - resumed;
        s.note(`train-0 last step ${lastStepBefore}, checkpoints logged ${first?.checkpoints.join('/') || 'none'}; resumed from ${resumed}`);
        if (fault === 'notice') {
          s.check(s.stepsRepeated !== null && s.stepsRepeated <= 1, `${s.stepsRepeated} steps repeated after a notice (limit 1)`);
        } else if (fault === 'kill-master') {
          s.check(resumed > 0 && resumed === storedAtKill, `resumed from step ${resumed}, the store's newest checkpoint at the kill was ${storedAtKill}`);
          s.check((await store.newest(s.workflowId)) === undefined, 'teardown left checkpoints in the store');
        } else {
          s.check(resumed > 0 && resumed % save === 0, `resumed from step ${resumed}, not a checkpoint`);
          const newest = first?.checkpoints.filter((c) => c <= (lastStepBefore ?? 0)).at(-1);
          s.check(newest === undefined || resumed === newest, `resumed from ${resumed}, newest complete checkpoint was ${newest}`);
          if (fault === 'kill-worker') s.check(s.stepsRepeated !== null && s.stepsRepeated <= save, `${s.stepsRepeated} steps repeated (limit: the save interval, ${save})`);
        }
      }
      await s.checkNodes();
    },
  };
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
      s.check(cleanAt !== undefined, `the run had not closed with zero nodes ${CANCEL_LIMIT_S} s after the cancel (${outcome.kind}, ${await liveNodeProcesses(s.workflowId)} node(s) alive)`);
      const expected = activity === 'teardown' ? ['cancelled', 'completed'] : ['cancelled'];
      s.check(expected.includes(outcome.kind), `the run ended ${outcome.kind}${'message' in outcome ? `: ${outcome.message}` : ''}, expected ${expected.join(' or ')}`);
      s.note(`run ended ${outcome.kind}`);
      // Nothing launched late by a step still running after the run closed.
      await sleep(5000);
      await s.measureNodes();
      s.check(s.nodesLeft === 0, `${s.nodesLeft} node(s) alive 5 s after the run closed`);
      s.check((s.nodesLaunched ?? 0) <= (s.nodesNeeded ?? 0), `nodes launched ${s.nodesLaunched}, more than the ${s.nodesNeeded} needed by ${activity}`);
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
