// A loopback SSH server that every instant node of the scale bench points at. distributed-train's node
// watch (src/activities/node-watch.ts) proves a node alive by opening an SSH session with SshSession
// itself, not through ActivityDeps.remote, so a fake RemoteShell cannot answer it: this server does
// (accepts any client key, runs nothing). It lives in the bench process, not in the measured worker.
import { writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { Server, utils } from 'ssh2';

export interface ProbeServer {
  host: string;
  port: number;
  hostKey: string;
  connections: () => number;
  close: () => Promise<void>;
}

export async function startProbeServer(): Promise<ProbeServer> {
  const keys = utils.generateKeyPairSync('ed25519');
  let connections = 0;
  const server = new Server({ hostKeys: [keys.private] }, (client) => {
    connections++;
    client.on('error', () => undefined);
    client.on('authentication', (ctx) => ctx.accept());
    client.on('ready', () => {
      client.on('session', (accept) => {
        const session = accept();
        session.on('exec', (acceptExec) => {
          const channel = acceptExec();
          channel.exit(0);
          channel.end();
        });
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    host: '127.0.0.1',
    port,
    hostKey: keys.public,
    connections: () => connections,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** A client key pair for the instant nodes' SSH identity; the private key goes to a 0600 file. */
export function writeClientKey(path: string): { publicKey: string } {
  const keys = utils.generateKeyPairSync('ed25519');
  writeFileSync(path, keys.private, { mode: 0o600 });
  return { publicKey: keys.public };
}
