// The chaos suite's own Temporal dev server (so killing it hurts nobody), and a client connection to it
// that can be renewed after the server was killed and restarted on the same database file.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, openSync } from 'node:fs';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client, Connection } from '@temporalio/client';
import { DEFAULT_NAMESPACE } from '../../src/common/names';

export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  await once(server, 'close');
  if (address === null || typeof address === 'string') throw new Error('no free port');
  return address.port;
}

export interface DevServerOptions {
  binary: string;
  dbFile: string;
  port: number;
  uiPort: number;
  logFile: string;
}

export class DevServer {
  private child: ChildProcess | undefined;

  constructor(readonly options: DevServerOptions) {}

  get address(): string {
    return `127.0.0.1:${this.options.port}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Starts the server on the database file and waits until it answers. */
  async start(timeoutMs = 60_000): Promise<void> {
    const { binary, dbFile, port, uiPort, logFile } = this.options;
    const log = openSync(logFile, 'a');
    try {
      this.child = spawn(
        binary,
        [
          'server',
          'start-dev',
          '--ip',
          '127.0.0.1',
          '--port',
          String(port),
          '--ui-port',
          String(uiPort),
          '--headless',
          '--db-filename',
          dbFile,
          '--log-level',
          'error',
        ],
        { stdio: ['ignore', log, log] },
      );
    } finally {
      closeSync(log);
    }
    const child = this.child;
    const deadline = Date.now() + timeoutMs;
    while (!(await this.healthy())) {
      if (child.exitCode !== null || child.signalCode !== null)
        throw new Error(`the Temporal dev server exited at start (see ${logFile})`);
      if (Date.now() > deadline)
        throw new Error(`the Temporal dev server did not answer within ${timeoutMs} ms (see ${logFile})`);
      await sleep(200);
    }
  }

  healthy(): Promise<boolean> {
    return new Promise((resolve) => {
      execFile(
        this.options.binary,
        ['operator', 'cluster', 'health', '--address', this.address],
        { timeout: 5000 },
        (err, stdout) => resolve(!err && stdout.includes('SERVING')),
      );
    });
  }

  /** kill -9: no shutdown, whatever was in flight is lost except what reached the database file. */
  async kill9(): Promise<void> {
    await this.signal('SIGKILL');
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    const stopped = await Promise.race([exited.then(() => true), sleep(15_000).then(() => false)]);
    if (!stopped) await this.signal('SIGKILL');
  }

  private async signal(signal: NodeJS.Signals): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill(signal);
    await exited;
  }
}

/** A client of the dev server; `renew()` after the server was restarted. */
export class TemporalAccess {
  private current: { connection: Connection; client: Client } | undefined;

  constructor(readonly address: string) {}

  async connect(): Promise<void> {
    const connection = await Connection.connect({ address: this.address });
    this.current = { connection, client: new Client({ connection, namespace: DEFAULT_NAMESPACE }) };
  }

  get client(): Client {
    if (!this.current) throw new Error('not connected');
    return this.current.client;
  }

  get connection(): Connection {
    if (!this.current) throw new Error('not connected');
    return this.current.connection;
  }

  async renew(): Promise<void> {
    const old = this.current;
    await this.connect();
    await old?.connection.close().catch(() => undefined);
  }

  async close(): Promise<void> {
    await this.current?.connection.close().catch(() => undefined);
    this.current = undefined;
  }
}
