// notify.webhook end to end on the dev server: fake step activities, the real notify-run activity, and an
// HTTP server on loopback that receives (or refuses, or never answers) the POST.
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { Client, WorkflowFailedError } from '@temporalio/client';
import { bundleWorkflowCode, DefaultLogger, NativeConnection, Worker } from '@temporalio/worker';
import type { Activities } from '../src/activities';
import { createNotifyActivities } from '../src/activities/notify';
import { dataConverterFor } from '../src/codec/encryption-codec';
import { formatKeyEntry, generateKey, parseKeyList } from '../src/codec/keys';
import { FailureType } from '../src/common/errors';
import { DEFAULT_NAMESPACE, WORKFLOW_TYPE } from '../src/common/names';
import type { WebhookBody } from '../src/common/run-notice';
import { progressQuery, type RunSummary } from '../src/workflows/definitions';
import { NOTIFY_PATCH } from '../src/workflows/notify-run';
import { failingWith, fakeActivities, untilCancelled, type CallLog } from './helpers/fake-activities';
import { pathsOf } from './helpers/secret-scan';
import { TEMPORAL_ADDRESS, testClient, uniqueId, withWorker, workflowBundle } from './helpers/temporal';

/** What a Slack hook's path looks like: the token is the secret part of the URL. */
const TOKEN = 'T0NOTIFY/B0SECRET/xoxb4d9f2c7e1a8b6';
const ENV_NAME = 'TUNEFORGE_TEST_WEBHOOK';
/** Per attempt in these tests (10 s in production), so a server that never answers costs seconds. */
const TEST_TIMEOUT_MS = 500;

const baseSpec = { name: 'notify-test', provider: 'local', recipe: 'tiny-qa', nodes: 2, training: { maxSteps: 10 } };

type Behaviour = 'ok' | 500 | 'hang';

interface Receiver {
  url: string;
  bodies: WebhookBody[];
  /** Every request, answered or not. */
  requests: number;
  close(): Promise<void>;
}

async function receiver(behaviour: Behaviour): Promise<Receiver> {
  const state = { bodies: [] as WebhookBody[], requests: 0 };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    state.requests++;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.method === 'POST' && req.url === `/hooks/${TOKEN}` && req.headers['content-type'] === 'application/json')
        state.bodies.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as WebhookBody);
      if (behaviour === 'hang') return;
      res.writeHead(behaviour === 'ok' ? 200 : 500, { 'content-type': 'text/plain' }).end(behaviour === 'ok' ? 'ok' : 'down');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks/${TOKEN}`,
    bodies: state.bodies,
    get requests() {
      return state.requests;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The fake steps, with the real notify-run reading `env` for `{ fromEnv }`. */
function activitiesWith(overrides: Partial<Activities>, env: Record<string, string> = {}, log?: CallLog): Activities {
  const fake = fakeActivities(overrides);
  if (log) Object.assign(log, fake.log);
  return { ...fake.activities, ...createNotifyActivities({ env, timeoutMs: TEST_TIMEOUT_MS }) };
}

/** The run's history as the client fetches it, payload bytes as base64 (as the server's JSON has them). */
async function historyJson(client: Client, workflowId: string): Promise<unknown> {
  return plain(await client.workflow.getHandle(workflowId).fetchHistory());
}

function plain(value: unknown): unknown {
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  if (Array.isArray(value)) return value.map(plain);
  if (value !== null && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  return value;
}

async function withReceiver<T>(behaviour: Behaviour, fn: (r: Receiver) => Promise<T>): Promise<T> {
  const r = await receiver(behaviour);
  try {
    return await fn(r);
  } finally {
    await r.close();
  }
}

function rootCause(err: unknown): unknown {
  let current = err;
  while (current instanceof Error && current.cause) current = current.cause;
  return current;
}

/** A summary without what differs between two runs of the same fake steps (ids, times). */
function comparable(summary: RunSummary): unknown {
  const { workflowId: _id, steps, ...rest } = summary;
  return { ...rest, steps: steps.map((s) => s.name) };
}

describe('notify.webhook (fake activities, an HTTP server on loopback)', () => {
  it('a run that succeeds and becomes the current model POSTs one notice with its fields and a Slack text', async () => {
    await withReceiver('ok', async (r) => {
      const spec = { ...baseSpec, promote: { metric: 'f1', min: 50 }, notify: { webhook: r.url } };
      const workflowId = uniqueId('notify-ok');
      const log = { calls: [], teardownInputs: [], records: [] } as CallLog;
      const summary = (await withWorker(activitiesWith({}, {}, log), ({ client, taskQueue }) =>
        client.workflow.execute(WORKFLOW_TYPE, { taskQueue, workflowId, args: [{ spec }] }),
      )) as RunSummary;
      // run.json keeps the spec, its webhook reduced to scheme and host.
      const recorded = log.records[0] as { spec?: { notify?: { webhook?: unknown } } } | undefined;
      assert.equal(recorded?.spec?.notify?.webhook, `${new URL(r.url).origin}/[redacted]`);
      assert.equal(r.bodies.length, 1, `one notice (requests: ${r.requests})`);
      const [body] = r.bodies;
      assert.ok(body);
      assert.equal(body.event, 'run-ended');
      assert.equal(body.outcome, 'succeeded');
      assert.equal(body.runName, 'notify-test');
      assert.equal(body.workflowId, workflowId);
      assert.equal(body.noticeId, `${workflowId}/run-ended`);
      assert.equal(body.failure, null);
      assert.equal(body.modelUri, summary.artifacts.model);
      assert.equal(body.runRecord, summary.artifacts.runRecord);
      assert.equal(body.scores?.f1, 71.25);
      assert.equal(body.promotion?.promoted, true);
      assert.equal(body.currentModelChanged, true);
      assert.equal(body.costUsd, summary.efficiency.costUsd);
      assert.match(body.text, /^tuneforge run notify-test succeeded: .*f1 71\.25.*now the current model/);
      assert.ok(!body.text.includes(TOKEN));
    });
  });

  it("records the tuneforge-notify patch, and the run's history replays with today's code", async () => {
    await withReceiver('ok', async (r) => {
      const spec = { ...baseSpec, notify: { webhook: r.url } };
      const workflowId = uniqueId('notify-replay');
      const history = await withWorker(activitiesWith({}), async ({ client, taskQueue }) => {
        await client.workflow.execute(WORKFLOW_TYPE, { taskQueue, workflowId, args: [{ spec }] });
        return client.workflow.getHandle(workflowId).fetchHistory();
      });
      const markers = (history.events ?? []).filter((e) => e.markerRecordedEventAttributes);
      assert.ok(pathsOf(NOTIFY_PATCH, plain(markers)).length > 0, 'no patch marker for the notice');
      await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history, workflowId);
      assert.equal(r.bodies.length, 1);
    });
  });

  it('a failed run POSTs its failure type and one line, and still fails with its own error', async () => {
    await withReceiver('ok', async (r) => {
      const spec = { ...baseSpec, notify: { webhook: r.url } };
      const activities = activitiesWith({ distributedTrain: failingWith(FailureType.TrainingFailed) });
      await withWorker(activities, async ({ client, taskQueue }) => {
        await assert.rejects(
          client.workflow.execute(WORKFLOW_TYPE, { taskQueue, workflowId: uniqueId('notify-fail'), args: [{ spec }] }),
          (err: unknown) => {
            const cause = rootCause(err);
            return (
              err instanceof WorkflowFailedError &&
              cause instanceof ApplicationFailure &&
              cause.type === FailureType.TrainingFailed
            );
          },
        );
      });
      assert.equal(r.bodies.length, 1);
      const [body] = r.bodies;
      assert.equal(body?.outcome, 'failed');
      assert.deepEqual(body?.failure, { type: FailureType.TrainingFailed, message: `injected ${FailureType.TrainingFailed}` });
      assert.equal(body?.modelUri, null);
      assert.equal(body?.currentModelChanged, false);
      assert.match(body?.text ?? '', /^tuneforge run notify-test failed: TrainingFailed: injected TrainingFailed/);
    });
  });

  it('a cancelled run POSTs outcome cancelled after its teardown', async () => {
    await withReceiver('ok', async (r) => {
      const spec = { ...baseSpec, notify: { webhook: r.url } };
      const activities = activitiesWith({ sanityRun: () => untilCancelled() });
      await withWorker(activities, async ({ client, taskQueue }) => {
        const handle = await client.workflow.start(WORKFLOW_TYPE, {
          taskQueue,
          workflowId: uniqueId('notify-cancel'),
          args: [{ spec }],
        });
        await waitFor(async () => (await handle.query(progressQuery)).stage === 'sanity-run');
        await handle.cancel();
        await assert.rejects(handle.result());
      });
      assert.equal(r.bodies.length, 1);
      assert.equal(r.bodies[0]?.outcome, 'cancelled');
      assert.equal(r.bodies[0]?.failure?.type, 'CancelledFailure');
    });
  });

  it('a webhook that answers 500 every time is retried a bounded number of times; the run succeeds with the same result', async () => {
    const plain = (await withWorker(activitiesWith({}), ({ client, taskQueue }) =>
      client.workflow.execute(WORKFLOW_TYPE, { taskQueue, workflowId: uniqueId('notify-none'), args: [{ spec: baseSpec }] }),
    )) as RunSummary;
    await withReceiver(500, async (r) => {
      const spec = { ...baseSpec, notify: { webhook: r.url } };
      const summary = (await withWorker(activitiesWith({}), ({ client, taskQueue }) =>
        client.workflow.execute(WORKFLOW_TYPE, { taskQueue, workflowId: uniqueId('notify-500'), args: [{ spec }] }),
      )) as RunSummary;
      assert.deepEqual(comparable(summary), comparable(plain));
      assert.equal(r.requests, 4, 'four attempts (ACTIVITY_PROFILES.notify), then given up');
    });
  });

  it('a webhook that never answers costs the run seconds, not its result', async () => {
    await withReceiver('hang', async (r) => {
      const spec = { ...baseSpec, notify: { webhook: r.url } };
      const started = Date.now();
      const summary = (await withWorker(activitiesWith({}), ({ client, taskQueue }) =>
        client.workflow.execute(WORKFLOW_TYPE, { taskQueue, workflowId: uniqueId('notify-hang'), args: [{ spec }] }),
      )) as RunSummary;
      const seconds = (Date.now() - started) / 1000;
      assert.ok(summary.artifacts.model);
      assert.equal(r.requests, 4);
      // 4 attempts of 0.5 s and backoffs of 1, 2 and 4 s, plus the fake run itself.
      assert.ok(seconds < 30, `the run took ${seconds} s`);
    });
  });

  it('fromEnv: the URL reaches the server but never the history, not even in the failure of a 500', async () => {
    await withReceiver(500, async (r) => {
      const spec = { ...baseSpec, notify: { webhook: { fromEnv: ENV_NAME } } };
      const workflowId = uniqueId('notify-env');
      const history = await withWorker(activitiesWith({}, { [ENV_NAME]: r.url }), async ({ client, taskQueue }) => {
        await client.workflow.execute(WORKFLOW_TYPE, { taskQueue, workflowId, args: [{ spec }] });
        return historyJson(client, workflowId);
      });
      assert.equal(r.bodies.length, 4, 'the notice was sent to the URL from the environment');
      assert.deepEqual(pathsOf(TOKEN, history), [], 'the token is in the history');
      const failed = new Set(JSON.stringify(history).match(/the webhook did not take the notice: [^"\\]*/g));
      assert.deepEqual(
        [...failed],
        ['the webhook did not take the notice: HTTP 500'],
        'control: the activity failure is in the history',
      );
      assert.ok(pathsOf(ENV_NAME, history).length > 0, 'control: the scan reads the history (the variable name is there)');
    });
  });

  it('a URL in the spec: in the run input only, never in a summary, failure, search attribute or details', async () => {
    await withReceiver(500, async (r) => {
      const spec = { ...baseSpec, notify: { webhook: r.url } };
      const workflowId = uniqueId('notify-url');
      const [history, described] = await withWorker(activitiesWith({}), async ({ client, taskQueue }) => {
        await client.workflow.execute(WORKFLOW_TYPE, { taskQueue, workflowId, args: [{ spec }] });
        const handle = client.workflow.getHandle(workflowId);
        return [await historyJson(client, workflowId), JSON.stringify(await handle.describe(), bigints)] as const;
      });
      const where = pathsOf(TOKEN, history);
      assert.ok(where.length > 0, 'control: the URL is in the inputs (no codec keys in this test)');
      const outsideInputs = where.filter((p) => !/\.input\.payloads\[0\]\.data \(base64\)$/.test(p));
      assert.deepEqual(outsideInputs, [], 'the token shows outside the workflow and activity inputs');
      assert.ok(!described.includes(TOKEN), 'the token is in the description (search attributes, memo, details)');
    });
  });

  it('with codec keys set, a URL written in the spec is nowhere in the history as stored', async () => {
    const keys = parseKeyList(formatKeyEntry(generateKey('notify')));
    const dataConverter = dataConverterFor(keys) ?? assert.fail('keys give a data converter');
    const workflowBundle = await bundleWorkflowCode({
      workflowsPath: require.resolve('../src/workflows'),
      failureConverterPath: dataConverter.failureConverterPath,
      logger: new DefaultLogger('ERROR'),
    });
    const native = await NativeConnection.connect({ address: TEMPORAL_ADDRESS });
    const { client, close } = await testClient();
    try {
      await withReceiver(500, async (r) => {
        const taskQueue = uniqueId('notify-codec');
        const workflowId = uniqueId('notify-codec');
        const secure = new Client({ connection: client.connection, namespace: DEFAULT_NAMESPACE, dataConverter });
        const worker = await Worker.create({
          connection: native,
          namespace: DEFAULT_NAMESPACE,
          taskQueue,
          workflowBundle,
          activities: activitiesWith({}),
          dataConverter,
          shutdownGraceTime: '2 seconds',
        });
        const spec = { ...baseSpec, notify: { webhook: r.url } };
        await worker.runUntil(secure.workflow.execute(WORKFLOW_TYPE, { taskQueue, workflowId, args: [{ spec }] }));
        assert.equal(r.bodies.length, 4, 'the notice was sent (and failed: its failure is in the history too)');
        const stored = await historyJson(client, workflowId);
        assert.deepEqual(pathsOf(TOKEN, stored), [], 'the token is in the stored history');
        assert.ok(pathsOf('WebhookFailed', stored).length > 0, 'control: the scan reads the history (the failure type)');
      });
    } finally {
      await close();
      await native.close();
    }
  });
});

function bigints(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}

async function waitFor(check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
