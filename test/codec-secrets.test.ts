// The acceptance test: a marker secret in a spec (and in a failure message) never appears in
// `temporal workflow show/describe --output json` nor in the worker's logs, yet the codec can read it back.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { inspect, promisify } from 'node:util';
import { Client, Connection, WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure, type DataConverter, type LogLevel, type LogMetadata, type Logger } from '@temporalio/common';
import {
  bundleWorkflowCode,
  DefaultLogger,
  NativeConnection,
  Runtime,
  Worker,
  type WorkflowBundleWithSourceMap,
} from '@temporalio/worker';
import type { Activities } from '../src/activities';
import { startCodecServer, type RunningCodecServer } from '../src/codec/codec-server';
import { dataConverterFor, EncryptionCodec } from '../src/codec/encryption-codec';
import { formatKeyEntry, generateKey, parseKeyList } from '../src/codec/keys';
import { payloadsFromJson, payloadsToJson } from '../src/codec/payload-json';
import { redactingLogger } from '../src/codec/redacting-logger';
import { DEFAULT_NAMESPACE, WORKFLOW_TYPE } from '../src/common/names';
import { packageRoot } from '../src/common/package-root';
import { fakeActivities } from './helpers/fake-activities';
import { captureStreams, pathsOf } from './helpers/secret-scan';

const run = promisify(execFile);
const TEMPORAL_ADDRESS = process.env.TEMPORAL_ADDRESS ?? 'localhost:7233';
const TEMPORAL_CLI = process.env.TEMPORAL_CLI ?? join(packageRoot(), '.tools', 'venv', 'bin', 'temporal');
const MARKER = `hunter2-${randomBytes(8).toString('hex')}`;
const RUN_TIMEOUT_MS = 90_000;

// --- logs: everything the worker logs, before redaction (raw) and as the worker would print it (shown) ---
const rawLogs: string[] = [];
const shownLogs: string[] = [];
const recorder = (into: string[]) =>
  new DefaultLogger('DEBUG', (entry) => into.push(`${entry.level} ${entry.message} ${inspect(entry.meta, { depth: 12 })}`));
const tee = (a: Logger, b: Logger): Logger => {
  const log = (level: LogLevel, message: string, meta?: LogMetadata) => {
    a.log(level, message, meta);
    b.log(level, message, meta);
  };
  return {
    log,
    trace: (m, meta) => log('TRACE', m, meta),
    debug: (m, meta) => log('DEBUG', m, meta),
    info: (m, meta) => log('INFO', m, meta),
    warn: (m, meta) => log('WARN', m, meta),
    error: (m, meta) => log('ERROR', m, meta),
  };
};
Runtime.install({
  logger: tee(recorder(rawLogs), redactingLogger(recorder(shownLogs))),
  telemetryOptions: { logging: { filter: { core: 'INFO', other: 'INFO' }, forward: {} } },
});

const markerPaths = (node: unknown) => pathsOf(MARKER, node);

function isJsonPayload(node: object): node is { metadata: Record<string, string>; data?: string } {
  const metadata = (node as { metadata?: unknown }).metadata;
  return typeof metadata === 'object' && metadata !== null && typeof (metadata as { encoding?: unknown }).encoding === 'string';
}

/** The same JSON with every payload passed through the codec's decode. */
async function decodeTree(node: unknown, codec: EncryptionCodec): Promise<unknown> {
  if (Array.isArray(node)) return Promise.all(node.map((item) => decodeTree(item, codec)));
  if (typeof node !== 'object' || node === null) return node;
  if (isJsonPayload(node)) return payloadsToJson(await codec.decode(payloadsFromJson({ payloads: [node] }))).payloads[0];
  const entries = await Promise.all(Object.entries(node).map(async ([k, v]) => [k, await decodeTree(v, codec)] as const));
  return Object.fromEntries(entries);
}

async function cli(...args: string[]): Promise<unknown> {
  const { stdout } = await run(
    TEMPORAL_CLI,
    [...args, '--address', TEMPORAL_ADDRESS, '--namespace', DEFAULT_NAMESPACE, '--output', 'json'],
    {
      maxBuffer: 64 * 1024 * 1024,
    },
  );
  return JSON.parse(stdout);
}

const specWithMarker = () => ({
  name: 'secret-scan',
  provider: 'local',
  recipe: 'tiny-qa',
  nodes: 2,
  training: { maxSteps: 10, extraArgs: { hub_token: MARKER } },
});

const uniqueId = (prefix: string) => `${prefix}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;

describe('payload encryption keeps secrets out of Temporal', () => {
  const keys = parseKeyList(formatKeyEntry(generateKey('scan')));
  const codec = new EncryptionCodec(keys);
  const dataConverter: DataConverter = dataConverterFor(keys) ?? assert.fail('keys give a data converter');
  const streamOutput: string[] = [];
  let bundle: WorkflowBundleWithSourceMap;
  let nativeConnection: NativeConnection;
  let connection: Connection;
  let secureClient: Client;
  let plainClient: Client;
  let codecServer: RunningCodecServer;

  before(async () => {
    bundle = await bundleWorkflowCode({
      workflowsPath: require.resolve('../src/workflows'),
      failureConverterPath: dataConverter.failureConverterPath,
      logger: new DefaultLogger('ERROR'),
    });
    nativeConnection = await NativeConnection.connect({ address: TEMPORAL_ADDRESS });
    connection = await Connection.connect({ address: TEMPORAL_ADDRESS });
    secureClient = new Client({ connection, namespace: DEFAULT_NAMESPACE, dataConverter });
    plainClient = new Client({ connection, namespace: DEFAULT_NAMESPACE });
    codecServer = await startCodecServer({ codec, allowedOrigins: [], host: '127.0.0.1', port: 0 });
  });

  after(async () => {
    await codecServer?.close();
    await connection?.close();
    await nativeConnection?.close();
  });

  async function withEncryptedWorker<T>(activities: Activities, fn: (taskQueue: string) => Promise<T>): Promise<T> {
    const taskQueue = uniqueId('codec-secrets');
    const worker = await Worker.create({
      connection: nativeConnection,
      namespace: DEFAULT_NAMESPACE,
      taskQueue,
      workflowBundle: bundle,
      activities,
      dataConverter,
      shutdownGraceTime: '2 seconds',
    });
    const stopCapture = captureStreams(streamOutput);
    try {
      return await worker.runUntil(fn(taskQueue));
    } finally {
      stopCapture();
    }
  }

  async function assertHistoryHidesMarker(workflowId: string): Promise<void> {
    const shown = await cli('workflow', 'show', '--workflow-id', workflowId);
    const described = await cli('workflow', 'describe', '--workflow-id', workflowId);
    assert.deepEqual(markerPaths(shown), [], 'workflow show leaks the marker');
    assert.deepEqual(markerPaths(described), [], 'workflow describe leaks the marker');
    assert.ok(markerPaths(await decodeTree(shown, codec)).length > 0, 'the codec reads the marker back from the same history');
    const viaServer = await cli(
      'workflow',
      'show',
      '--workflow-id',
      workflowId,
      '--codec-endpoint',
      `${codecServer.url}/{namespace}`,
    );
    assert.ok(markerPaths(viaServer).length > 0, 'the CLI decodes through the codec server');
  }

  it('control: without encryption the scan finds the marker in the history', { timeout: RUN_TIMEOUT_MS }, async () => {
    const workflowId = uniqueId('codec-plain');
    // No worker polls this queue: the start event alone holds the input.
    const handle = await plainClient.workflow.start(WORKFLOW_TYPE, {
      taskQueue: uniqueId('nobody'),
      workflowId,
      args: [{ spec: specWithMarker() }],
    });
    try {
      const paths = markerPaths(await cli('workflow', 'show', '--workflow-id', workflowId));
      assert.ok(
        paths.some((p) => p.includes('workflowExecutionStartedEventAttributes.input')),
        paths.join(', '),
      );
    } finally {
      await handle.terminate('codec secrets test control');
    }
  });

  it('a successful run keeps the spec secret encrypted', { timeout: RUN_TIMEOUT_MS }, async () => {
    const workflowId = uniqueId('codec-ok');
    const { activities, log } = fakeActivities();
    await withEncryptedWorker(activities, (taskQueue) =>
      secureClient.workflow.execute(WORKFLOW_TYPE, { taskQueue, workflowId, args: [{ spec: specWithMarker() }] }),
    );
    assert.deepEqual(log.calls.slice(-2), ['teardown', 'recordRun']);
    // run.json carries the spec: its activity input crossed the history, so it must be encrypted there too.
    assert.ok(JSON.stringify(log.records).includes(MARKER), 'the record holds the spec, marker included');
    await assertHistoryHidesMarker(workflowId);
  });

  it(
    'a failed run keeps the secret in its failure message encrypted and out of the logs',
    { timeout: RUN_TIMEOUT_MS },
    async () => {
      const workflowId = uniqueId('codec-fail');
      const { activities } = fakeActivities({
        sanityRun: async () => {
          throw ApplicationFailure.create({
            type: 'TrainingFailed',
            message: `the hub rejected token ${MARKER}`,
            nonRetryable: true,
          });
        },
      });
      const failure = await withEncryptedWorker(activities, (taskQueue) =>
        secureClient.workflow.execute(WORKFLOW_TYPE, { taskQueue, workflowId, args: [{ spec: specWithMarker() }] }).then(
          () => assert.fail('the run should fail'),
          (err: unknown) => err,
        ),
      );
      assert.ok(failure instanceof WorkflowFailedError);
      assert.ok(inspect(failure, { depth: 12 }).includes(MARKER), 'the client decodes the failure message');
      await assertHistoryHidesMarker(workflowId);

      assert.ok(
        rawLogs.some((line) => line.includes(MARKER)),
        'control: the SDK logs the failure, so redaction is what keeps it out',
      );
      assert.ok(
        shownLogs.some((line) => line.includes('Activity failed') && line.includes('TrainingFailed')),
        'the failure type is still logged',
      );
      assert.deepEqual(
        shownLogs.filter((line) => line.includes(MARKER)),
        [],
        'the worker log leaks the marker',
      );
      assert.deepEqual(
        streamOutput.filter((chunk) => chunk.includes(MARKER)),
        [],
        'stdout/stderr leak the marker',
      );
    },
  );
});
