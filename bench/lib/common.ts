// Shared bits of the benchmark: where things live, the specs every scenario runs, timing and logging.
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../../src/common/package-root';
import type { RunSpec, RunSpecInput } from '../../src/run-spec/schema';
import { validateRunSpec } from '../../src/run-spec/validate';

export const ROOT = packageRoot();
export const ARTIFACTS = join(ROOT, 'artifacts');
export const LOG_DIR = join(ARTIFACTS, 'bench-logs');
export const TEMPORAL_ADDRESS = process.env.TEMPORAL_ADDRESS ?? 'localhost:7233';
export const NAMESPACE = process.env.TEMPORAL_NAMESPACE ?? 'default';

/**
 * The poll interval of the worker and of every in-process activity: the production default (what
 * `npm run worker` uses) unless BENCH_POLL_MS says otherwise.
 */
export const POLL_MS = Number(process.env.BENCH_POLL_MS ?? '2000');

/** The whole-run spec of overhead and image reuse: examples/local-tiny.yaml (the demo's run), inlined. */
export const RUN_SPEC: RunSpecInput = {
  name: 'bench-run',
  provider: 'local',
  recipe: 'tiny-qa',
  nodes: 3,
  training: { maxSteps: 40, perDeviceBatchSize: 8, saveSteps: 10, saveTotalLimit: 2, seed: 42 },
  sanity: { maxSteps: 10 },
};

/** Recovery: long enough that a worker can be killed after the first checkpoint (as test/recovery.test.ts). */
export const RECOVERY_SPEC: RunSpecInput = {
  name: 'bench-recovery',
  provider: 'local',
  recipe: 'tiny-qa',
  nodes: 3,
  training: { maxSteps: 200, saveSteps: 50, saveTotalLimit: 2, seed: 42 },
  sanity: { maxSteps: 3 },
};

export function normalized(input: RunSpecInput): RunSpec {
  const result = validateRunSpec(input);
  if (!result.ok) throw new Error(`bench spec invalid: ${JSON.stringify(result.problems)}`);
  return result.spec;
}

export function withNodes(input: RunSpecInput, nodes: number, name: string): RunSpecInput {
  return { ...input, nodes, name };
}

export function uniqueId(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(2).toString('hex')}`;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function secs(ms: number): number {
  return Math.round(ms) / 1000;
}

const benchStart = Date.now();
export function log(message: string): void {
  const elapsed = ((Date.now() - benchStart) / 1000).toFixed(1).padStart(6);
  console.log(`[bench +${elapsed}s] ${message}`);
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  if (sorted.length === 0) return NaN;
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

export function mean(values: number[]): number {
  return values.length === 0 ? NaN : values.reduce((a, b) => a + b, 0) / values.length;
}

/**
 * Samples the machine's load while the bench runs: it shares 2 cores with whatever else runs. Besides
 * the load average (which counts the bench's own nodes too), it measures the CPU that processes outside
 * the bench used: everything but this process, its children and the bench lab's node processes.
 */
export class LoadSampler {
  private samples: Array<{ at: number; load1: number; busy: number; otherCores: number }> = [];
  private timer: NodeJS.Timeout | undefined;
  private lastCpu = readCpu();
  private lastTicks = new Map<number, number>();
  private lastAt = Date.now();
  private busy = false;

  constructor(private readonly labRoot: string) {}

  start(everyMs = 5000): void {
    this.lastTicks = processTicks(this.labRoot).others;
    this.lastAt = Date.now();
    this.timer = setInterval(() => this.sample(), everyMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.sample();
  }

  private sample(): void {
    if (this.busy) return;
    this.busy = true;
    try {
      const cpu = readCpu();
      const total = cpu.total - this.lastCpu.total;
      const busy = total > 0 ? 1 - (cpu.idle - this.lastCpu.idle) / total : 0;
      this.lastCpu = cpu;
      const now = Date.now();
      const { others } = processTicks(this.labRoot);
      let ticks = 0;
      for (const [pid, t] of others) ticks += t - (this.lastTicks.get(pid) ?? 0);
      const otherCores = ticks / CLOCK_TICKS / Math.max(0.001, (now - this.lastAt) / 1000);
      this.lastTicks = others;
      this.lastAt = now;
      const load1 = Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);
      this.samples.push({ at: now, load1, busy, otherCores });
    } finally {
      this.busy = false;
    }
  }

  summary() {
    const pick = <K extends 'load1' | 'busy' | 'otherCores'>(k: K) => this.samples.map((s) => s[k]);
    const round = (n: number) => Number(n.toFixed(2));
    return {
      samples: this.samples.length,
      load1Min: Math.min(...pick('load1')),
      load1Mean: round(mean(pick('load1'))),
      load1Max: Math.max(...pick('load1')),
      cpuBusyMean: round(mean(pick('busy'))),
      /** Cores used by processes outside the bench (mean and max of 5-second windows). */
      otherCoresMean: round(mean(pick('otherCores'))),
      otherCoresMax: round(Math.max(...pick('otherCores'))),
    };
  }
}

const CLOCK_TICKS = 100;

/** utime+stime of every process outside the bench (this process's tree and the lab's node processes). */
function processTicks(labRoot: string): { others: Map<number, number> } {
  const procs = new Map<number, { ppid: number; ticks: number; comm: string }>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      procs.set(Number(entry), { ppid: Number(fields[1]), ticks: Number(fields[11]) + Number(fields[12]), comm });
    } catch {
      // exited meanwhile
    }
  }
  const roots = new Set<number>([process.pid]);
  for (const [pid, p] of procs) {
    if (p.comm !== 'unshare') continue;
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(`${labRoot}/`)) roots.add(pid);
    } catch {
      // exited meanwhile
    }
  }
  const isBench = (pid: number): boolean => {
    for (let cur: number | undefined = pid, hops = 0; cur !== undefined && cur > 1 && hops < 64; hops++) {
      if (roots.has(cur)) return true;
      cur = procs.get(cur)?.ppid;
    }
    return false;
  };
  const others = new Map<number, number>();
  for (const [pid, p] of procs) if (!isBench(pid)) others.set(pid, p.ticks);
  return { others };
}

function readCpu(): { idle: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
  const fields = line.trim().split(/\s+/).slice(1).map(Number);
  const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
  return { idle, total: fields.reduce((a, b) => a + b, 0) };
}

/**
 * The processes that used the most CPU over a short window (percent of one core), the bench's own
 * process left out: what else shares the machine at that moment.
 */
export async function busiestProcesses(windowMs = 2000, top = 6): Promise<string[]> {
  const { readdir, readFile } = await import('node:fs/promises');
  const ticks = async (): Promise<Map<number, { cpu: number; args: string }>> => {
    const found = new Map<number, { cpu: number; args: string }>();
    for (const entry of await readdir('/proc')) {
      if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
      try {
        const stat = await readFile(`/proc/${entry}/stat`, 'utf8');
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        const cpu = Number(fields[11]) + Number(fields[12]);
        const args = (await readFile(`/proc/${entry}/cmdline`, 'utf8')).split('\0').join(' ').trim();
        found.set(Number(entry), { cpu, args: args || stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')) });
      } catch {
        // gone meanwhile
      }
    }
    return found;
  };
  const before = await ticks();
  await sleep(windowMs);
  const after = await ticks();
  const hz = 100;
  return [...after.entries()]
    .map(([pid, a]) => ({ pid, args: a.args, pct: ((a.cpu - (before.get(pid)?.cpu ?? a.cpu)) / hz / (windowMs / 1000)) * 100 }))
    .filter((p) => p.pct >= 1)
    .sort((x, y) => y.pct - x.pct)
    .slice(0, top)
    .map((p) => `${p.pct.toFixed(0).padStart(3)}% ${p.args.slice(0, 120)}`);
}
