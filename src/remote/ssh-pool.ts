// One kept SSH connection per node (per worker process): every exec shares it as a channel, at most
// MAX_CHANNELS at once (sshd's MaxSessions is 10 by default), the rest queued. A connection that drops
// is forgotten (the next call connects again) and reported to listeners; one idle for IDLE_CLOSE_MS is
// closed, so a worker that finishes its runs holds no connection.
import { createHash } from 'node:crypto';
import { ConnectionLost, SshSession, type ExecOptions, type ExecResult, type SshTarget } from './ssh-session';

export interface PoolOptions {
  maxChannels?: number;
  idleCloseMs?: number;
}

/** Below sshd's default MaxSessions (10), leaving room for a person's own `ssh` into a kept node. */
export const MAX_CHANNELS = 8;
export const IDLE_CLOSE_MS = 30_000;

type DropListener = (target: SshTarget) => void;

interface Waiter {
  grant: () => void;
}

class KeptConnection {
  active = 0;
  private readonly queue: Waiter[] = [];
  private idleTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly session: SshSession,
    private readonly maxChannels: number,
    private readonly idleCloseMs: number,
    private readonly onIdle: () => void,
  ) {
    this.armIdle();
  }

  /** Resolves when a channel slot is free; an aborted signal takes the caller out of the queue. */
  acquire(signal?: AbortSignal): Promise<void> {
    this.disarmIdle();
    if (this.active < this.maxChannels) {
      this.active++;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        grant: () => {
          signal?.removeEventListener('abort', onAbort);
          this.active++;
          resolve();
        },
      };
      const onAbort = () => {
        const at = this.queue.indexOf(waiter);
        if (at >= 0) this.queue.splice(at, 1);
        if (this.active === 0 && this.queue.length === 0) this.armIdle();
        reject(signal?.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.queue.push(waiter);
    });
  }

  release(): void {
    this.active--;
    const next = this.queue.shift();
    if (next) next.grant();
    else if (this.active === 0) this.armIdle();
  }

  dispose(): void {
    this.disarmIdle();
    this.session.close();
  }

  private armIdle(): void {
    this.disarmIdle();
    this.idleTimer = setTimeout(this.onIdle, this.idleCloseMs);
    this.idleTimer.unref();
  }

  private disarmIdle(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
  }
}

export class SshPool {
  private readonly kept = new Map<string, KeptConnection>();
  private readonly connecting = new Map<string, Promise<KeptConnection>>();
  private readonly listeners = new Set<DropListener>();
  private readonly maxChannels: number;
  private readonly idleCloseMs: number;

  constructor(options: PoolOptions = {}) {
    this.maxChannels = options.maxChannels ?? MAX_CHANNELS;
    this.idleCloseMs = options.idleCloseMs ?? IDLE_CLOSE_MS;
  }

  /** Runs a command on the node's kept connection (connecting first if there is none). */
  async exec(target: SshTarget, command: string, options: ExecOptions, connectTimeoutMs?: number): Promise<ExecResult> {
    try {
      return await this.execOnce(target, command, options, connectTimeoutMs);
    } catch (err) {
      // A kept connection can end between our last look and this channel (the server's idle limit, a
      // restarted sshd): the command never started, so it runs once on a fresh connection.
      if (!(err instanceof ConnectionLost && err.beforeStart)) throw err;
      return this.execOnce(target, command, options, connectTimeoutMs);
    }
  }

  private async execOnce(target: SshTarget, command: string, options: ExecOptions, connectTimeoutMs?: number) {
    const connection = await this.connection(target, connectTimeoutMs, options.signal);
    await connection.acquire(options.signal);
    try {
      return await connection.session.exec(command, options);
    } finally {
      connection.release();
    }
  }

  /** The node's kept connection; one handshake however many callers ask at once. */
  async connection(target: SshTarget, connectTimeoutMs?: number, signal?: AbortSignal): Promise<KeptConnection> {
    signal?.throwIfAborted();
    const key = connectionKey(target);
    const kept = this.kept.get(key);
    if (kept?.session.open) return kept;
    if (kept) this.dropped(key, kept);
    let pending = this.connecting.get(key);
    if (!pending) {
      pending = this.open(key, target, connectTimeoutMs);
      this.connecting.set(key, pending);
      const settled = () => this.connecting.delete(key);
      pending.then(settled, settled);
    }
    return abortable(pending, signal);
  }

  /** Calls back whenever a kept connection drops (not when the pool closes it); returns the unsubscribe. */
  onDrop(listener: DropListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Closes the kept connections to nodes the predicate picks (a torn-down cluster's), or all of them. */
  close(which: (target: SshTarget) => boolean = () => true): void {
    for (const [key, connection] of this.kept) {
      if (!which(connection.session.target)) continue;
      this.kept.delete(key);
      connection.dispose();
    }
  }

  /** A kept connection ended without the pool closing it. */
  private dropped(key: string, connection: KeptConnection): void {
    if (this.kept.get(key) !== connection) return; // closed by the pool, or already reported
    this.kept.delete(key);
    connection.dispose();
    for (const listener of this.listeners) listener(connection.session.target);
  }

  private async open(key: string, target: SshTarget, connectTimeoutMs?: number): Promise<KeptConnection> {
    // A handshake is shared by every caller, so no single caller's signal may end it: each stops waiting
    // on its own (abortable), and the handshake ends by its timeout.
    const session = await SshSession.connect(target, connectTimeoutMs);
    const connection = new KeptConnection(session, this.maxChannels, this.idleCloseMs, () => {
      if (this.kept.get(key) === connection && connection.active === 0) {
        this.kept.delete(key);
        connection.dispose();
      }
    });
    session.onClose(() => this.dropped(key, connection));
    this.kept.set(key, connection);
    return connection;
  }
}

/** A connection is only shared by calls that would have made the same one: same node, key and identity. */
function connectionKey(target: SshTarget): string {
  const identity = createHash('sha256').update(target.privateKey).digest('hex').slice(0, 16);
  return [target.name, target.username, target.host, String(target.port), target.hostKey.trim(), identity].join('\n');
}

function abortable<T>(promise: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (!signal) return promise;
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}
