// One SSH connection over ssh2 with a pinned host key: exec with streamed, size-bounded output and stdin.
import { Readable, type Writable } from 'node:stream';
import { Client, type ClientChannel, type ConnectConfig } from 'ssh2';
import { authFailed, hostKeyMismatch } from '../common/errors';
import { fingerprint, parseHostKey } from './host-key';

export interface SshTarget {
  /** Node name, for messages. */
  name: string;
  host: string;
  port: number;
  username: string;
  /** Pinned OpenSSH public key line of the node. */
  hostKey: string;
  privateKey: Buffer;
}

export interface ExecOptions {
  stdin?: string | Buffer | Readable;
  /** Receives stdout as raw bytes (then it is not captured; the caller ends it): for streaming files off a node. */
  stdoutTo?: Writable;
  onOutput?: (text: string, stream: 'stdout' | 'stderr') => void;
  /** Captured output keeps this many trailing bytes per stream. */
  maxOutputBytes?: number;
  signal?: AbortSignal;
}

export interface ExecResult {
  exitCode: number | null;
  exitSignal?: string;
  stdout: string;
  stderr: string;
  truncated: boolean;
}

/** The connection dropped before the command reported an exit status (node vanished or froze). */
export class ConnectionLost extends Error {
  override readonly name = 'ConnectionLost';
  constructor(
    message: string,
    /** The command never started: running it on another connection cannot run it twice. */
    readonly beforeStart = false,
  ) {
    super(message);
  }
}

const DEFAULT_MAX_OUTPUT_BYTES = 256 * 1024;
const KEEPALIVE_INTERVAL_MS = 2000;
const KEEPALIVE_COUNT_MAX = 3;
const READY_TIMEOUT_MS = 15_000;

export class SshSession {
  private constructor(
    private readonly client: Client,
    readonly target: SshTarget,
  ) {}

  /** Connects and checks the pinned host key; an aborted signal ends the handshake at once (rejects with its reason). */
  static connect(target: SshTarget, readyTimeoutMs = READY_TIMEOUT_MS, signal?: AbortSignal): Promise<SshSession> {
    const pinned = parseHostKey(target.hostKey);
    let presented: Buffer | undefined;
    const client = new Client();
    const config: ConnectConfig = {
      host: target.host,
      port: target.port,
      username: target.username,
      privateKey: target.privateKey,
      readyTimeout: readyTimeoutMs,
      keepaliveInterval: KEEPALIVE_INTERVAL_MS,
      keepaliveCountMax: KEEPALIVE_COUNT_MAX,
      hostVerifier: (key: Buffer) => {
        presented = key;
        return key.equals(pinned.blob);
      },
    };
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const onAbort = () => {
        client.destroy();
        reject(signal?.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      // ssh2 can emit more errors after the first (e.g. a socket closing after a handshake timeout): every
      // one needs a listener, or it becomes an uncaught exception; only the first decides the outcome.
      client.on('error', () => undefined);
      const onError = (err: Error & { level?: string }) => {
        signal?.removeEventListener('abort', onAbort);
        client.destroy();
        if (presented && !presented.equals(pinned.blob)) {
          reject(hostKeyMismatch(target.name, fingerprint(pinned.blob), fingerprint(presented)));
        } else if (err.level === 'client-authentication') {
          reject(authFailed(target.name, err.message));
        } else {
          reject(err);
        }
      };
      client.once('error', onError);
      // A peer that sends its banner and then closes ends the socket with no error: reject on close too.
      const onClose = () => {
        signal?.removeEventListener('abort', onAbort);
        reject(new ConnectionLost(`connection to ${target.name} closed during the SSH handshake`));
      };
      client.once('close', onClose);
      client.once('ready', () => {
        signal?.removeEventListener('abort', onAbort);
        client.removeListener('error', onError);
        client.removeListener('close', onClose);
        client.on('error', () => undefined); // later errors surface through the channel's close
        // Each pending exec on a shared connection listens for its close.
        client.setMaxListeners(64);
        resolve(new SshSession(client, target));
      });
      client.connect(config);
    });
  }

  exec(command: string, options: ExecOptions = {}): Promise<ExecResult> {
    return new Promise((resolve, reject) => {
      if (options.signal?.aborted) return reject(options.signal.reason);
      // Until the channel opens, only the connection can tell us it died (ssh2 may never call back).
      if (!this.open) return reject(new ConnectionLost(`connection to ${this.target.name} had ended`, true));
      // Once the channel is asked for, the command may start on the node even if we never hear of it.
      const onClose = () => reject(new ConnectionLost(`connection to ${this.target.name} closed before the command started`));
      // The connection may carry other calls' channels: an abort here ends only this call (and its channel
      // once the server opens it).
      let aborted = false;
      const onAbort = () => {
        aborted = true;
        this.client.removeListener('close', onClose);
        reject(options.signal?.reason);
      };
      this.client.once('close', onClose);
      options.signal?.addEventListener('abort', onAbort, { once: true });
      this.client.exec(command, (err, channel) => {
        this.client.removeListener('close', onClose);
        options.signal?.removeEventListener('abort', onAbort);
        if (aborted) {
          if (!err) channel.close();
          return;
        }
        if (err) return reject(err);
        collect(channel, options, this.target.name).then(resolve, reject);
        if (options.stdin instanceof Readable) options.stdin.pipe(channel);
        else if (options.stdin !== undefined) channel.end(options.stdin);
        else channel.end();
      });
    });
  }

  /** Calls back once when the connection ends, however it ends. */
  onClose(listener: () => void): void {
    this.client.once('close', listener);
  }

  /** False once the connection has ended or started to (ssh2 would throw "Not connected" on exec). */
  get open(): boolean {
    const socket = (this.client as unknown as { _sock?: { writable?: boolean } })._sock;
    return socket?.writable === true;
  }

  close(): void {
    this.client.end();
  }
}

function collect(channel: ClientChannel, options: ExecOptions, node: string): Promise<ExecResult> {
  const limit = options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES;
  const stdout = new TailBuffer(limit);
  const stderr = new TailBuffer(limit);
  return new Promise((resolve, reject) => {
    let exitCode: number | null = null;
    let exitSignal: string | undefined;
    const onAbort = () => {
      // Reaches the command only while its input is open (ssh2 sends no signal after EOF); else the close does.
      channel.signal('KILL');
      channel.close();
      reject(options.signal?.reason);
    };
    options.signal?.addEventListener('abort', onAbort, { once: true });
    if (options.stdoutTo) channel.pipe(options.stdoutTo, { end: false });
    else
      channel.on('data', (chunk: Buffer) => {
        stdout.push(chunk);
        options.onOutput?.(chunk.toString('utf8'), 'stdout');
      });
    channel.stderr.on('data', (chunk: Buffer) => {
      stderr.push(chunk);
      options.onOutput?.(chunk.toString('utf8'), 'stderr');
    });
    channel.on('exit', (code: number | null, signal?: string) => {
      exitCode = code;
      exitSignal = signal ?? undefined;
    });
    channel.on('close', () => {
      options.signal?.removeEventListener('abort', onAbort);
      if (exitCode === null && exitSignal === undefined) {
        reject(new ConnectionLost(`connection to ${node} closed before the command exited`));
        return;
      }
      resolve({
        exitCode,
        exitSignal,
        stdout: stdout.text(),
        stderr: stderr.text(),
        truncated: stdout.truncated || stderr.truncated,
      });
    });
  });
}

/** Keeps the last `limit` bytes written to it. */
class TailBuffer {
  private chunks: Buffer[] = [];
  private size = 0;
  truncated = false;

  constructor(private readonly limit: number) {}

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.size += chunk.length;
    if (this.size > this.limit * 2) this.compact();
  }

  text(): string {
    this.compact();
    return Buffer.concat(this.chunks).toString('utf8');
  }

  private compact(): void {
    if (this.size <= this.limit) return;
    const all = Buffer.concat(this.chunks);
    this.chunks = [all.subarray(all.length - this.limit)];
    this.size = this.limit;
    this.truncated = true;
  }
}
