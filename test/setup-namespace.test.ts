// Namespace setup as an operator step: on a fresh namespace the worker refuses to start and names each missing
// search attribute and the command; `tuneforge setup-namespace` registers them (idempotently); then it starts.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { msToTs } from '@temporalio/common/lib/time';
import { temporal } from '@temporalio/proto';
import { EXIT } from '../src/client/exit-codes';
import { SEARCH_ATTRIBUTES } from '../src/common/search-attributes';
import { TEMPORAL_ADDRESS, testClient, uniqueId } from './helpers/temporal';
import { startWorkerProcess } from './helpers/worker-process';

const CLI = resolve(__dirname, '../src/client/main.js');
const WORKER = resolve(__dirname, '../src/worker/main.js');
const NAMES = Object.values(SEARCH_ATTRIBUTES).map((key) => key.name);

function run(
  entry: string,
  env: NodeJS.ProcessEnv,
  ...args: string[]
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [entry, ...args], {
      env: { ...process.env, TEMPORAL_ADDRESS, TUNEFORGE_REAPER: 'off', ...env },
      timeout: 120_000,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (status) => done({ status, stdout, stderr }));
  });
}

/** A namespace of its own: registered here, usable once the server's namespace cache has it. */
async function freshNamespace(): Promise<string> {
  const namespace = uniqueId('tf-setup');
  const { connection, close } = await testClient();
  try {
    await connection.workflowService.registerNamespace({ namespace, workflowExecutionRetentionPeriod: msToTs('1 day') });
    for (let i = 0; ; i++) {
      try {
        await connection.operatorService.listSearchAttributes({ namespace });
        return namespace;
      } catch (err) {
        if (i > 120) throw err;
        await sleep(500);
      }
    }
  } finally {
    await close();
  }
}

describe('tuneforge setup-namespace', { timeout: 5 * 60_000 }, () => {
  it('the worker names what is missing and the command; setup-namespace adds them once; then the worker starts', async () => {
    const namespace = await freshNamespace();
    const env = { TEMPORAL_NAMESPACE: namespace };

    const refused = await run(WORKER, env);
    assert.equal(refused.status, 2, refused.stderr);
    const lines = refused.stderr.trim().split('\n');
    assert.equal(lines.length, 1, refused.stderr);
    for (const name of NAMES) assert.match(lines[0] ?? '', new RegExp(`\\b${name}\\b`));
    assert.match(lines[0] ?? '', new RegExp(`TEMPORAL_NAMESPACE=${namespace} tuneforge setup-namespace$`));

    const setup = await run(CLI, env, 'setup-namespace', '--json');
    assert.equal(setup.status, EXIT.ok, setup.stderr);
    const first = JSON.parse(setup.stdout) as { namespace: string; added: string[] };
    assert.equal(first.namespace, namespace);
    assert.deepEqual([...first.added].sort(), [...NAMES].sort());

    // On the server, with the types the workflows upsert.
    const { connection, close } = await testClient();
    try {
      const listed = await connection.operatorService.listSearchAttributes({ namespace });
      const IndexedValueType = temporal.api.enums.v1.IndexedValueType;
      for (const key of Object.values(SEARCH_ATTRIBUTES))
        assert.equal(
          listed.customAttributes?.[key.name],
          IndexedValueType[`INDEXED_VALUE_TYPE_${key.type}` as keyof typeof IndexedValueType],
        );
    } finally {
      await close();
    }

    const again = await run(CLI, env, 'setup-namespace');
    assert.equal(again.status, EXIT.ok, again.stderr);
    assert.match(
      again.stdout,
      new RegExp(`^Namespace ${namespace} has all ${NAMES.length} tuneforge search attributes; nothing to do`),
    );

    const worker = await startWorkerProcess(uniqueId('setup-queue'), undefined, env);
    assert.match(worker.output(), new RegExp(`namespace ${namespace}, plaintext`));
    await worker.kill('SIGTERM');
  });
});
