// One chaos scenario's run: its own chaos worker process(es), task queue, workflow id and lab; the checks
// it records (a failed check does not stop the scenario) and what it measures; and the cleanup after it,
// which counts what the product left behind before removing it.
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { CancelledFailure, TerminatedFailure, TimeoutFailure } from '@temporalio/common';
import { optionalTsToMs } from '@temporalio/common/lib/time';
import { WORKFLOW_TYPE } from '../../src/common/names';
import { createLocalProvider } from '../../src/providers/local/local-provider';
import { scanNodeProcesses } from '../../src/providers/local/node-scan';
import { progressQuery, type RunProgress, type RunSummary } from '../../src/workflows/definitions';
import { liveNodeProcesses, processesPerNode, sampleNodeProcesses, type NodeProcessSampler } from '../helpers/local-lab';
import type { DevServer, TemporalAccess } from './dev-server';
import { TrainingWatcher } from './lab-probe';
import type { StartRecord } from './protocol';
import { ChaosWorker } from './worker-process';

export const RUN_NAME = 'chaos';
export const NODES = 3;
export const RUN_TIMEOUT_MS = 10 * 60_000;

export interface TrainingSpec {
  maxSteps: number;
  saveSteps: number;
}

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

export type Outcome =
  | { kind: 'completed'; summary: RunSummary }
  | { kind: 'cancelled' | 'terminated' | 'timed-out' | 'failed' | 'no-result'; message: string };

function spec(training: TrainingSpec) {
  return { name: RUN_NAME, provider: 'local', recipe: 'tiny-qa', nodes: NODES, training, sanity: { maxSteps: 3 } };
}

function slug(name: string): string {
  return name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');
}

function uniqueId(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(16).slice(2, 8)}`;
}

export function seconds(ms: number): number {
  return Math.round(ms / 100) / 10;
}

export function messageChain(err: unknown): string {
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
  /** Node processes as the machine shows them (pid + start time), from the run's start: a node started twice counts twice. */
  private sampler: NodeProcessSampler | undefined;
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

  async startRun(training: TrainingSpec): Promise<void> {
    this.sampler ??= sampleNodeProcesses(this.workflowId);
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
        if (Date.now() >= deadline)
          return { kind: 'no-result', message: `no result within ${timeoutMs / 1000} s (${messageChain(err)})` };
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

  /**
   * The run's activities that were still open at `sinceMs` or began after it, from its history, with times
   * relative to `sinceMs`: where recovery time went.
   */
  async timeline(sinceMs: number): Promise<string> {
    const history = await this.handle.fetchHistory();
    const steps = new Map<number, { name: string; scheduled: number; closed?: number; outcome?: string }>();
    for (const e of history.events ?? []) {
      const at = optionalTsToMs(e.eventTime) ?? 0;
      const scheduled = e.activityTaskScheduledEventAttributes;
      if (scheduled) steps.set(Number(e.eventId), { name: scheduled.activityType?.name ?? '?', scheduled: at });
      const closes: Array<[string, { scheduledEventId?: unknown } | null | undefined]> = [
        ['ok', e.activityTaskCompletedEventAttributes],
        ['failed', e.activityTaskFailedEventAttributes],
        ['timed out', e.activityTaskTimedOutEventAttributes],
        ['cancelled', e.activityTaskCanceledEventAttributes],
      ];
      for (const [outcome, attrs] of closes) {
        const step = attrs ? steps.get(Number(attrs.scheduledEventId)) : undefined;
        if (step) Object.assign(step, { closed: at, outcome });
      }
    }
    const rel = (ms: number | undefined) => (ms === undefined ? '?' : `${ms >= sinceMs ? '+' : ''}${seconds(ms - sinceMs)}`);
    return [...steps.values()]
      .filter((st) => st.closed === undefined || st.closed >= sinceMs)
      .map((st) => `${st.name} ${rel(st.scheduled)}..${rel(st.closed)} s ${st.outcome ?? 'open'}`)
      .join(', ');
  }

  async measureNodes(): Promise<void> {
    const seen = this.sampler ? await this.sampler.stop() : new Map<string, Set<string>>();
    this.nodesLaunched = Object.values(processesPerNode(seen)).reduce((sum, n) => sum + n, 0);
    this.nodesLeft = await liveNodeProcesses(this.workflowId);
  }

  /** The checks every completed run must pass. */
  checkCompleted(outcome: Outcome, maxSteps: number): RunSummary | undefined {
    if (
      !this.check(
        outcome.kind === 'completed',
        `the run did not complete: ${outcome.kind}${'message' in outcome ? `: ${outcome.message}` : ''}`,
      )
    )
      return undefined;
    const summary = (outcome as { summary: RunSummary }).summary;
    this.note(`step seconds: ${summary.steps.map((st) => `${st.name} ${st.seconds.toFixed(1)}`).join(', ')}`);
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
      const staging = (await readdir(join(this.lab, 'images')).catch(() => [] as string[])).filter((e) =>
        e.startsWith('.staging-'),
      );
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
