// A team's own Temporal, for real: a TLS endpoint on loopback that requires client certificates (or an API key)
// in front of the dev server. A whole tiny run goes through it (worker and CLI); a wrong CA, a missing client
// certificate and a wrong API key each give the CLI one clear line and exit 3.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { EXIT } from '../src/client/exit-codes';
import { liveNodeProcesses } from './helpers/local-lab';
import { TEMPORAL_ADDRESS, uniqueId } from './helpers/temporal';
import { makeTestCertificates, startTlsFront, type TestCertificates, type TlsFront } from './helpers/tls-front';
import { startWorkerProcess, type WorkerProcess } from './helpers/worker-process';

const CLI = resolve(__dirname, '../src/client/main.js');
const WORKER = resolve(__dirname, '../src/worker/main.js');

interface Outcome {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** The CLI as a user runs it, with only the given Temporal settings (none inherited from this process). */
function tuneforge(env: NodeJS.ProcessEnv, ...args: string[]): Promise<Outcome> {
  return run(CLI, env, ...args);
}

/** Never spawnSync: the TLS front lives in this process and must keep answering handshakes. */
function run(entry: string, env: NodeJS.ProcessEnv, ...args: string[]): Promise<Outcome> {
  const base = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('TEMPORAL_')));
  return new Promise((done) => {
    const child = spawn(process.execPath, [entry, ...args], { env: { ...base, NO_COLOR: '1', ...env }, timeout: 120_000 });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (status) => done({ status, stdout, stderr }));
  });
}

/** One line on stderr that names the front, says what to check, and carries no stack trace. */
function assertOneClearLine(outcome: Outcome, front: TlsFront): void {
  assert.equal(outcome.status, EXIT.temporalUnreachable, `${outcome.stdout}\n${outcome.stderr}`);
  const lines = outcome.stderr.split('\n').filter((l) => l.trim() !== '');
  assert.equal(lines.length, 1, outcome.stderr);
  assert.match(
    lines[0] ?? '',
    new RegExp(`^tuneforge: cannot reach the Temporal server at ${front.address} \\(.+\\); check the TLS`),
  );
  assert.doesNotMatch(outcome.stderr, /^\s+at /m);
}

describe('a Temporal behind mTLS and API keys', { timeout: 15 * 60_000 }, () => {
  let certs: TestCertificates;
  let mtls: TlsFront;
  let mtlsEnv: NodeJS.ProcessEnv;

  before(async () => {
    certs = await makeTestCertificates();
    mtls = await startTlsFront({ certs, upstream: TEMPORAL_ADDRESS, mode: 'mtls' });
    mtlsEnv = {
      TEMPORAL_ADDRESS: mtls.address,
      TEMPORAL_TLS_CLIENT_CERT_PATH: certs.clientCert,
      TEMPORAL_TLS_CLIENT_KEY_PATH: certs.clientKey,
      TEMPORAL_TLS_SERVER_CA_CERT_PATH: certs.caCert,
    };
  });
  after(async () => {
    await mtls.close();
    await certs.remove();
  });

  it('a whole tiny run: worker and CLI both connect through the mTLS front only', async () => {
    const taskQueue = uniqueId('tls-queue');
    const workflowId = uniqueId('tls-run');
    const scratch = await mkdtemp(join(tmpdir(), 'tf-tls-spec-'));
    const spec = join(scratch, 'tiny.yaml');
    await writeFile(
      spec,
      'name: tls-run\nprovider: local\nrecipe: tiny-qa\nnodes: 2\ntraining:\n  maxSteps: 6\n  saveSteps: 3\nsanity:\n  maxSteps: 2\n',
    );
    let worker: WorkerProcess | undefined;
    try {
      // The operator step through the front too (idempotent: the namespace may have them already).
      const setup = await tuneforge(mtlsEnv, 'setup-namespace', '--json');
      assert.equal(setup.status, EXIT.ok, setup.stderr);
      assert.equal((JSON.parse(setup.stdout) as { namespace: string }).namespace, 'default');
      worker = await startWorkerProcess(taskQueue, undefined, mtlsEnv);
      assert.match(
        worker.output(),
        new RegExp(`polling task queue "${taskQueue}" on ${mtls.address} \\(namespace default, mTLS\\)`),
      );
      const env = { ...mtlsEnv, TUNEFORGE_TASK_QUEUE: taskQueue };
      const started = await tuneforge(env, 'start', spec, '--id', workflowId, '--follow');
      assert.equal(started.status, EXIT.ok, `${started.stdout}\n${started.stderr}\n${worker.output()}`);
      assert.match(started.stdout, /distributed-train done/);
      const status = await tuneforge(env, 'status', workflowId, '--json');
      assert.equal(status.status, EXIT.ok, status.stderr);
      assert.equal((JSON.parse(status.stdout) as { status: string }).status, 'COMPLETED');
      // The front saw the client certificate: the connections were mutual TLS, not a plaintext side door.
      assert.deepEqual([...mtls.clientSubjects], ['tuneforge-client']);
      assert.equal(await liveNodeProcesses(workflowId), 0, 'teardown ran');
    } finally {
      await worker?.kill('SIGTERM');
      await rm(scratch, { recursive: true, force: true });
    }
  });

  it('a CA that did not sign the server certificate: one line, exit 3 (CLI and worker)', async () => {
    const env = { ...mtlsEnv, TEMPORAL_TLS_SERVER_CA_CERT_PATH: certs.otherCaCert };
    assertOneClearLine(await tuneforge(env, 'list'), mtls);
    const worker = await run(WORKER, { ...env, TUNEFORGE_REAPER: 'off' });
    assert.equal(worker.status, 3, worker.stderr);
    assert.match(
      worker.stderr,
      new RegExp(`^tuneforge worker: cannot reach the Temporal server at ${mtls.address} \\(.+\\); check the TLS[^\\n]*\\n$`),
    );
  });

  it('no client certificate, or one of another CA: the front refuses it; one line, exit 3', async () => {
    const noCert = { TEMPORAL_ADDRESS: mtls.address, TEMPORAL_TLS_SERVER_CA_CERT_PATH: certs.caCert };
    assertOneClearLine(await tuneforge(noCert, 'list'), mtls);
    const stranger = {
      ...mtlsEnv,
      TEMPORAL_TLS_CLIENT_CERT_PATH: certs.strangerCert,
      TEMPORAL_TLS_CLIENT_KEY_PATH: certs.strangerKey,
    };
    assertOneClearLine(await tuneforge(stranger, 'list'), mtls);
    assert.ok(!mtls.clientSubjects.has('stranger'), 'the front never accepted the stranger');
  });

  it('an API key: the right one lists runs; a wrong or missing one gives one line and exit 3', async () => {
    const front = await startTlsFront({ certs, upstream: TEMPORAL_ADDRESS, mode: 'api-key', apiKey: 'team-key-1' });
    try {
      const env = { TEMPORAL_ADDRESS: front.address, TEMPORAL_TLS_SERVER_CA_CERT_PATH: certs.caCert };
      const right = await tuneforge({ ...env, TEMPORAL_API_KEY: 'team-key-1' }, 'list', '--json');
      assert.equal(right.status, EXIT.ok, right.stderr);
      assert.ok(Array.isArray(JSON.parse(right.stdout)));
      const wrong = await tuneforge({ ...env, TEMPORAL_API_KEY: 'team-key-2' }, 'list');
      assertOneClearLine(wrong, front);
      assert.doesNotMatch(wrong.stderr, /team-key/, 'the key is never printed');
      assertOneClearLine(await tuneforge(env, 'list'), front);
      assert.ok(front.refusedCalls() >= 2, 'the front refused the calls, not something before it');
    } finally {
      await front.close();
    }
  });
});
