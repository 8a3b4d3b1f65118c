// The remote layer activities use: run a command on a node, upload a file, wait until a node answers SSH.
// Calls to one node share one kept connection (ssh-pool.ts).
import { setTimeout as sleep } from 'node:timers/promises';
import { ApplicationFailure } from '@temporalio/common';
import { FailureType, remoteCommandFailed } from '../common/errors';
import type { NodeRecord, SshIdentity } from '../providers/provider';
import { sh } from './shell-quote';
import { SshPool, type PoolOptions } from './ssh-pool';
import type { ExecOptions, ExecResult, SshTarget } from './ssh-session';

export interface RunOptions extends ExecOptions {
  /** What the command does, for error messages ("install dependencies"). */
  label: string;
  /** How long the SSH handshake may take (default: the session's own, tens of seconds). */
  connectTimeoutMs?: number;
}

export interface UploadOptions {
  /** Octal file mode, e.g. '0600'. */
  mode?: string;
  signal?: AbortSignal;
}

/** Every verb takes an AbortSignal (RunOptions.signal, UploadOptions.signal): it ends the connect, the command and the waits. */
export interface RemoteShell {
  /** Runs a command; resolves with its exit status whatever it is. */
  run(target: SshTarget, command: string, options: RunOptions): Promise<ExecResult>;
  /** Runs a command; a non-zero exit becomes a RemoteCommandFailed failure. */
  check(target: SshTarget, command: string, options: RunOptions): Promise<ExecResult>;
  /** Writes content to a remote file atomically (temp file + rename). */
  upload(target: SshTarget, remotePath: string, content: string | Buffer, options?: UploadOptions): Promise<void>;
  /** Retries connecting until the node answers SSH with its pinned key, or the deadline passes. */
  waitReady(target: SshTarget, timeoutMs: number, signal?: AbortSignal): Promise<void>;
  /**
   * Closes the kept connections to the nodes the predicate picks (a torn-down cluster's), or all. Optional:
   * a shell that keeps no connection (a test's fake) has nothing to close.
   */
  release?(which?: (target: SshTarget) => boolean): void;
  /** Calls back when a kept connection to a node drops (evidence worth a probe); returns the unsubscribe. */
  onConnectionDrop?(listener: (target: SshTarget) => void): () => void;
}

const OUTPUT_TAIL_CHARS = 4000;

export function sshTarget(node: NodeRecord, identity: SshIdentity): SshTarget {
  return {
    name: node.name,
    host: node.address,
    port: node.sshPort,
    username: identity.username,
    hostKey: node.hostKey,
    privateKey: identity.privateKey,
  };
}

export function createRemoteShell(poolOptions: PoolOptions = {}): RemoteShell {
  const pool = new SshPool(poolOptions);
  const run = (target: SshTarget, command: string, options: RunOptions): Promise<ExecResult> =>
    pool.exec(target, command, options, options.connectTimeoutMs);

  const check = async (target: SshTarget, command: string, options: RunOptions): Promise<ExecResult> => {
    const result = await run(target, command, options);
    if (result.exitCode !== 0) {
      const output = `${result.stdout}\n${result.stderr}`.trim();
      throw remoteCommandFailed({
        node: target.name,
        label: options.label,
        exitCode: result.exitCode,
        outputTail: output.slice(-OUTPUT_TAIL_CHARS),
      });
    }
    return result;
  };

  const upload = async (target: SshTarget, remotePath: string, content: string | Buffer, options: UploadOptions = {}) => {
    const mode = options.mode ?? '0644';
    const temp = `${remotePath}.tuneforge-upload`;
    const command = sh`mkdir -p "$(dirname ${remotePath})" && cat > ${temp} && chmod ${mode} ${temp} && mv -f ${temp} ${remotePath}`;
    await check(target, command, {
      label: `upload ${remotePath}`,
      stdin: content,
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    });
  };

  return {
    run,
    check,
    upload,
    waitReady: (target, timeoutMs, signal) => waitReady(pool, target, timeoutMs, signal),
    release: (which) => pool.close(which),
    onConnectionDrop: (listener) => pool.onDrop(listener),
  };
}

const READY_BACKOFF_START_MS = 200;
const READY_BACKOFF_MAX_MS = 3000;

/** The connection that answered is kept: the node's next calls (wire-ssh, the job) reuse it. */
async function waitReady(pool: SshPool, target: SshTarget, timeoutMs: number, signal?: AbortSignal): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let delay = READY_BACKOFF_START_MS;
  for (;;) {
    try {
      await pool.connection(target, Math.min(10_000, Math.max(1000, deadline - Date.now())), signal);
      return;
    } catch (err) {
      signal?.throwIfAborted();
      if (err instanceof ApplicationFailure && err.type === FailureType.HostKeyMismatch) throw err;
      if (Date.now() + delay > deadline) {
        throw new Error(
          `${target.name} (${target.host}:${target.port}) did not answer SSH within ${timeoutMs} ms: ${String(err)}`,
        );
      }
    }
    await sleep(delay, undefined, { signal });
    delay = Math.min(delay * 2, READY_BACKOFF_MAX_MS);
  }
}
