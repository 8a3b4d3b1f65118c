// Runs a command in a pseudo-terminal through util-linux `script` (no native module), or with plain pipes,
// collecting its output so tests can wait for text and read its exit code.
import { spawn, type ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { shellJoin } from '../../src/remote/shell-quote';

export interface Spawned {
  /** Everything written so far (stdout, and stderr: in a pty both go to the terminal). */
  output(): string;
  stderr(): string;
  /** Resolves with the output once it matches; rejects after timeoutMs. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** The exit code (the child's own, through `script -e`); null if killed by a signal. */
  exited: Promise<number | null>;
  kill(): void;
}

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  /** Terminal size; a pty that `script` opens without a terminal around it has none. */
  columns?: number;
  rows?: number;
}

const WAIT_STEP_MS = 50;
const running = new Set<ChildProcess>();

/** Ends every child still running (for an `after` hook: a failed test must not leave a watcher polling). */
export function killAll(): void {
  for (const child of running) child.kill('SIGTERM');
}

/** `script -q -e -E never -c CMD /dev/null`: CMD's stdout is a tty; the transcript goes nowhere. */
export function runInPty(argv: string[], options: RunOptions = {}): Spawned {
  const size = `stty cols ${options.columns ?? 100} rows ${options.rows ?? 30} 2>/dev/null`;
  const command = `${size}; exec ${shellJoin(argv)}`;
  return collect('script', ['-q', '-e', '-E', 'never', '-c', command, '/dev/null'], options.env);
}

export function runPiped(argv: string[], options: RunOptions = {}): Spawned {
  const [file, ...args] = argv;
  if (file === undefined) throw new Error('runPiped needs a command');
  return collect(file, args, options.env);
}

function collect(file: string, args: string[], env: NodeJS.ProcessEnv | undefined): Spawned {
  const child = spawn(file, args, { env: env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
  const exited = new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => {
      running.delete(child);
      resolve(code);
    });
  });
  let done = false;
  void exited.finally(() => (done = true)).catch(() => undefined);
  return {
    output: () => out,
    stderr: () => err,
    exited,
    kill: () => void child.kill('SIGTERM'),
    async waitFor(pattern: RegExp, timeoutMs = 20_000): Promise<string> {
      const deadline = Date.now() + timeoutMs;
      while (!pattern.test(out)) {
        if (done || Date.now() > deadline) {
          throw new Error(`${done ? 'exited' : 'timed out'} before output matched ${pattern}; output:\n${out}\nstderr:\n${err}`);
        }
        await sleep(WAIT_STEP_MS);
      }
      return out;
    },
  };
}
