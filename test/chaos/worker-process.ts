// The chaos worker as a child process: its output goes to a log file under artifacts/chaos/.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { READY_LINE } from './protocol';

const ENTRY = join(__dirname, 'chaos-worker-main.js');

export interface ChaosWorkerOptions {
  address: string;
  taskQueue: string;
  labRoot: string;
  bundlePath: string;
  logFile: string;
  env?: NodeJS.ProcessEnv;
}

export class ChaosWorker {
  private output = '';

  private constructor(
    readonly child: ChildProcess,
    readonly logFile: string,
  ) {}

  static async start(options: ChaosWorkerOptions, timeoutMs = 90_000): Promise<ChaosWorker> {
    const child = spawn(process.execPath, [ENTRY], {
      env: {
        ...process.env,
        TEMPORAL_ADDRESS: options.address,
        TUNEFORGE_TASK_QUEUE: options.taskQueue,
        TUNEFORGE_TEST_LAB: options.labRoot,
        CHAOS_WORKFLOW_BUNDLE: options.bundlePath,
        TUNEFORGE_REAPER: 'off',
        ...options.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const worker = new ChaosWorker(child, options.logFile);
    const log = createWriteStream(options.logFile, { flags: 'a' });
    const collect = (d: Buffer) => {
      log.write(d);
      if (worker.output.length < 64_000) worker.output += d.toString();
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    child.once('exit', () => log.end());
    const deadline = Date.now() + timeoutMs;
    while (!worker.output.includes(READY_LINE)) {
      if (worker.exited)
        throw new Error(`the chaos worker exited at start (see ${options.logFile}):\n${worker.output.slice(-2000)}`);
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`the chaos worker did not poll within ${timeoutMs} ms (see ${options.logFile})`);
      }
      await sleep(100);
    }
    return worker;
  }

  get exited(): boolean {
    return this.child.exitCode !== null || this.child.signalCode !== null;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Graceful stop (SIGTERM, the SDK's shutdown), SIGKILL if it takes over 15 s. */
  async stop(): Promise<void> {
    if (this.exited) return;
    const exited = once(this.child, 'exit');
    this.child.kill('SIGTERM');
    const stopped = await Promise.race([exited.then(() => true), sleep(15_000).then(() => false)]);
    if (!stopped && !this.exited) {
      const killed = once(this.child, 'exit');
      this.child.kill('SIGKILL');
      await killed;
    }
  }
}
