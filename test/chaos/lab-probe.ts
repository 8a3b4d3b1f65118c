// What the chaos suite does to and reads from local nodes without going through the product: find a
// node's processes, kill or freeze them, and watch the training jobs' logs on the master.
//
// Logs are read from the host through /proc/<node init pid>/root (the node's own mount namespace, as
// the local provider's bake does), not over SSH: reading is instant, needs no key, and works whatever
// state the node's sshd is in.
import { readdir, readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { NODE_HOME } from '../../src/providers/local/lab';
import { isNodeProcessAlive, processStartTime, type NodeProcess } from '../../src/providers/local/node-process';
import { scanNodeProcesses } from '../../src/providers/local/node-scan';
import { REMOTE } from '../../src/recipes/remote-paths';
import { parseProgressLine } from '../../src/recipes/progress';

/** The node's unshare parent (killing it ends the node), with its start time so a recycled pid is never hit. */
export async function findNode(clusterId: string, name: string): Promise<NodeProcess | undefined> {
  const marker = `/clusters/${clusterId}/nodes/${name}/`;
  const [node] = (await scanNodeProcesses()).filter((p) => p.etcDir.includes(marker));
  if (!node) return undefined;
  const startTime = await processStartTime(node.pid).catch(() => undefined);
  return startTime === undefined ? undefined : { pid: node.pid, startTime };
}

/** SIGKILL of the unshare parent: every process of the node ends at once (an instance that vanished). */
export async function killNode(clusterId: string, name: string): Promise<NodeProcess> {
  const node = await findNode(clusterId, name);
  if (!node) throw new Error(`no live process for node ${name} of ${clusterId}`);
  process.kill(node.pid, 'SIGKILL');
  return node;
}

export async function killNodeProcess(node: NodeProcess): Promise<boolean> {
  if (!(await isNodeProcessAlive(node))) return false;
  process.kill(node.pid, 'SIGKILL');
  return true;
}

async function initPid(pid: number): Promise<number | undefined> {
  const children = await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8').catch(() => '');
  const first = children.trim().split(/\s+/)[0];
  return first ? Number(first) : undefined;
}

/** SIGSTOPs every process of a node (its whole pid namespace): a frozen instance. Returns how many. */
export async function freezeNode(clusterId: string, name: string): Promise<number> {
  const node = await findNode(clusterId, name);
  if (!node) throw new Error(`no live process for node ${name} of ${clusterId}`);
  const inner = await initPid(node.pid);
  if (inner === undefined) throw new Error(`node ${name} has no init process`);
  const namespace = await readlink(`/proc/${inner}/ns/pid`);
  let stopped = 0;
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const ns = await readlink(`/proc/${entry}/ns/pid`).catch(() => '');
    if (ns !== namespace) continue;
    try {
      process.kill(Number(entry), 'SIGSTOP');
      stopped++;
    } catch {
      // exited meanwhile
    }
  }
  return stopped;
}

/** What one training job logged, as seen by the watcher. */
export interface JobView {
  jobId: string;
  /** Epoch ms when the watcher first saw the job's folder / its first step line. */
  seenAt: number;
  firstStepAt: number | null;
  /** resumed_step of the job's start line, if it printed one. */
  resumedStep: number | null;
  firstStep: number | null;
  lastStep: number;
  /** Checkpoint steps the job logged as written. */
  checkpoints: number[];
  /** Steps went down inside one job's log (a restart from scratch inside the same job). */
  wentBack: boolean;
  /** (time, last step) as sampled, to know the step at a given moment. */
  samples: Array<{ at: number; step: number }>;
}

/**
 * Samples the master's `tuneforge/jobs/train-*` logs every few hundred ms. A replaced master is found
 * again by name; what the lost one logged is kept.
 */
export class TrainingWatcher {
  private readonly jobs = new Map<string, JobView>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private master: { pid: number; init: number } | undefined;

  constructor(
    private readonly clusterId: string,
    private readonly everyMs = 200,
  ) {}

  start(): this {
    const tick = () => {
      this.running = this.sample()
        .catch(() => undefined)
        .finally(() => {
          if (this.timer !== undefined) this.timer = setTimeout(tick, this.everyMs);
        });
    };
    this.timer = setTimeout(tick, 0);
    return this;
  }

  async stop(): Promise<void> {
    const timer = this.timer;
    this.timer = undefined;
    if (timer) clearTimeout(timer);
    await this.running;
  }

  job(jobId: string): JobView | undefined {
    return this.jobs.get(jobId);
  }

  allJobs(): string[] {
    return [...this.jobs.keys()].sort();
  }

  /** The last step job `jobId` had logged at time `at` (as sampled), or null. */
  stepAt(jobId: string, at: number): number | null {
    const samples = this.jobs.get(jobId)?.samples ?? [];
    let step: number | null = null;
    for (const s of samples) if (s.at <= at) step = s.step;
    return step;
  }

  /** Reads the logs once now. */
  async sample(): Promise<void> {
    const master = await this.findMaster();
    if (!master) return;
    const jobsDir = join(`/proc/${master.init}/root${NODE_HOME}`, REMOTE.jobs);
    const entries = await readdir(jobsDir).catch(() => [] as string[]);
    const now = Date.now();
    for (const entry of entries) {
      if (!/^train-\d+(\.old-\d+)?$/.test(entry)) continue;
      const text = await readFile(join(jobsDir, entry, 'log'), 'utf8').catch(() => undefined);
      if (text === undefined) continue;
      this.update(entry, text, now);
    }
  }

  private update(jobId: string, text: string, now: number): void {
    const view: JobView = this.jobs.get(jobId) ?? {
      jobId,
      seenAt: now,
      firstStepAt: null,
      resumedStep: null,
      firstStep: null,
      lastStep: 0,
      checkpoints: [],
      wentBack: false,
      samples: [],
    };
    let last = 0;
    let first: number | null = null;
    let resumed: number | null = null;
    let back = false;
    const checkpoints: number[] = [];
    for (const line of text.split('\n')) {
      const event = parseProgressLine(line);
      if (!event) continue;
      if (event.event === 'start') resumed = event.resumed_step;
      if (event.event === 'checkpoint') checkpoints.push(event.step);
      if (event.event === 'step') {
        if (first === null) first = event.step;
        if (event.step < last) back = true;
        last = event.step;
      }
    }
    // A job log only grows; a shorter read (the master was replaced and logs this job afresh) is kept apart.
    if (first !== null && view.firstStepAt === null) view.firstStepAt = now;
    view.firstStep = view.firstStep ?? first;
    view.resumedStep = resumed ?? view.resumedStep;
    if (first !== null) view.lastStep = last;
    view.checkpoints = checkpoints.length >= view.checkpoints.length ? checkpoints : view.checkpoints;
    view.wentBack = view.wentBack || back;
    if (first !== null && view.samples.at(-1)?.step !== last) view.samples.push({ at: now, step: last });
    this.jobs.set(jobId, view);
  }

  private async findMaster(): Promise<{ pid: number; init: number } | undefined> {
    if (this.master) {
      const stat = await readFile(`/proc/${this.master.init}/stat`, 'utf8').catch(() => undefined);
      if (stat !== undefined && stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z') return this.master;
      this.master = undefined;
    }
    const node = await findNode(this.clusterId, 'master');
    if (!node) return undefined;
    const init = await initPid(node.pid);
    if (init === undefined) return undefined;
    this.master = { pid: node.pid, init };
    return this.master;
  }
}
