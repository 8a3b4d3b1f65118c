// notify.webhook in the spec (which URLs are refused, and that no message repeats one), what plan and
// run.json show of it, the notice's text, and the notify-run activity's answers to what a receiver does.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { inspect } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { createNotifyActivities, type NotifyInput, type NotifyResult } from '../src/activities/notify';
import { FailureType } from '../src/common/errors';
import { noticeText, webhookBody, type RunNotice } from '../src/common/run-notice';
import { formatPlan } from '../src/client/render/plan-text';
import { buildRunPlan } from '../src/recipes/run-plan';
import { withRedactedNotify } from '../src/run-spec/notify';
import { validateRunSpec } from '../src/run-spec/validate';
import { parseRunSpec } from '../src/run-spec/load';
import { packageRoot } from '../src/common/package-root';

const SECRET = 'xoxbS3CR3Ttoken';
const base = { name: 'tiny', provider: 'local', recipe: 'tiny-qa', training: { maxSteps: 10 } };

function withWebhook(webhook: unknown): unknown {
  return { ...base, notify: { webhook } };
}

/** The spec's problems, each as "path: message"; fails when the spec is accepted. */
function refused(input: unknown): string[] {
  const result = validateRunSpec(input);
  assert.equal(result.ok, false, `expected ${JSON.stringify(input)} to be refused`);
  return result.ok ? [] : result.problems.map((p) => `${p.path}: ${p.message}`);
}

describe('notify.webhook in the spec', () => {
  it("the aws example's commented notify lines are a valid block once uncommented", () => {
    const text = readFileSync(join(packageRoot(), 'examples/distilbert-squad.yaml'), 'utf8');
    const uncommented = text.replace(/^# (notify:|  webhook:)/gm, '$1');
    assert.notEqual(uncommented, text, 'the example has the notify lines');
    assert.deepEqual(parseRunSpec(uncommented).notify, { webhook: { fromEnv: 'TUNEFORGE_WEBHOOK_URL' } });
  });

  it('accepts https anywhere, http to loopback only, and a variable name', () => {
    for (const webhook of [
      `https://hooks.slack.com/services/T0/B0/${SECRET}`,
      `https://example.com:8443/hook?token=${SECRET}`,
      `http://127.0.0.1:9000/${SECRET}`,
      `http://localhost/${SECRET}`,
      `http://[::1]:8080/${SECRET}`,
      { fromEnv: 'TUNEFORGE_WEBHOOK_URL' },
    ]) {
      const result = validateRunSpec(withWebhook(webhook));
      assert.ok(result.ok, `${JSON.stringify(webhook)}: ${JSON.stringify(!result.ok && result.problems)}`);
      assert.deepEqual(result.spec.notify?.webhook, webhook);
    }
  });

  it('refuses each bad URL with a clear message at notify.webhook that never repeats the URL', () => {
    const cases: Array<[unknown, RegExp]> = [
      [`file:///etc/${SECRET}`, /must be an https:\/\/ URL, not file:/],
      [`hooks.slack.com/services/${SECRET}`, /is not a URL: write https:\/\/host\/path/],
      [`//hooks.slack.com/${SECRET}`, /is not a URL/],
      [`http://hooks.slack.com/services/${SECRET}`, /must be https:\/\/ \(http:\/\/ is allowed only to localhost/],
      [`http://user:${SECRET}@example.com/hook`, /must not hold credentials/],
      [`https://user:${SECRET}@example.com/hook`, /must not hold credentials/],
      [`http://user:${SECRET}@127.0.0.1/hook`, /must not hold credentials/],
      [`http://127.0.0.1.evil.example/${SECRET}`, /must be https:\/\//],
      [`http://localhost.evil.example/${SECRET}`, /must be https:\/\//],
      [`ftp://example.com/${SECRET}`, /not ftp:/],
      [`javascript:alert('${SECRET}')`, /not javascript:/],
      [`https://example.com/${SECRET}${'a'.repeat(2100)}`, /longer than 2048/],
      ['', /is not a URL/],
      [{ fromEnv: `BAD-${SECRET}` }, /fromEnv must name an environment variable/],
      [{ fromEnv: `1${SECRET}` }, /fromEnv must name an environment variable/],
    ];
    for (const [webhook, message] of cases) {
      const lines = refused(withWebhook(webhook));
      const line = lines.find((l) => l.startsWith('notify.webhook: '));
      assert.ok(line, `${JSON.stringify(webhook).slice(0, 80)}: ${JSON.stringify(lines)}`);
      assert.match(line, message);
      assert.ok(!lines.join('\n').includes(SECRET), `the problem repeats the URL: ${JSON.stringify(lines)}`);
    }
  });

  it('never quotes the URL in any other kind of problem (wrong type, extra field, control character, whole spec)', () => {
    const url = `https://hooks.slack.com/services/${SECRET}`;
    for (const input of [
      withWebhook([url]),
      withWebhook({ fromEnv: 'A', url }),
      { ...base, notify: { webhook: url, extra: url } },
      withWebhook(`${url}\u0007`),
      { notify: { webhook: url }, ...base, provider: 'nowhere' },
    ]) {
      const lines = refused(input);
      assert.ok(!lines.join('\n').includes(SECRET), `the problem repeats the URL: ${JSON.stringify(lines)}`);
    }
  });

  it('plan shows the webhook as scheme and host only, or the variable; run.json gets the redacted spec', () => {
    const result = validateRunSpec(withWebhook(`https://hooks.slack.com/services/T0/B0/${SECRET}`));
    assert.ok(result.ok);
    const plan = buildRunPlan(result.spec, null);
    const text = formatPlan(plan);
    assert.match(text, /^Notify: +webhook https:\/\/hooks\.slack\.com\/\[redacted\], when the run ends$/m);
    assert.ok(!JSON.stringify(plan).includes(SECRET) && !text.includes(SECRET));
    const redacted = withRedactedNotify(result.spec);
    assert.equal(redacted.notify?.webhook, 'https://hooks.slack.com/[redacted]');
    assert.ok(validateRunSpec(redacted).ok, 'a redacted spec (run.json) still reads as a spec');

    const fromEnv = validateRunSpec(withWebhook({ fromEnv: 'TUNEFORGE_WEBHOOK_URL' }));
    assert.ok(fromEnv.ok);
    assert.match(
      formatPlan(buildRunPlan(fromEnv.spec, null)),
      /^Notify: +webhook \$TUNEFORGE_WEBHOOK_URL \(from the worker's environment\)/m,
    );
    assert.deepEqual(withRedactedNotify(fromEnv.spec), fromEnv.spec);
  });
});

const NOTICE: RunNotice = {
  event: 'run-ended',
  noticeId: 'wf-1/run-ended',
  runName: 'weekly-qa',
  workflowId: 'wf-1',
  outcome: 'failed',
  failure: { type: 'TrainingFailed', message: 'training exited with code 1; last output:' },
  modelUri: null,
  scores: null,
  promotion: null,
  currentModelChanged: false,
  costUsd: 1.234,
  runRecord: 's3://b/runs/weekly-qa/wf-1/run.json',
  startedAt: '2026-12-07T00:00:00.000Z',
  endedAt: '2026-12-07T01:00:00.000Z',
};

describe('the notice', () => {
  it('a Slack text line and every structured field', () => {
    assert.equal(
      noticeText(NOTICE),
      'tuneforge run weekly-qa failed: TrainingFailed: training exited with code 1; last output:; cost $1.23; workflow wf-1',
    );
    const promoted: RunNotice = {
      ...NOTICE,
      outcome: 'succeeded',
      failure: null,
      modelUri: 's3://b/runs/weekly-qa/wf-1/model/',
      scores: { exact_match: 62.5, f1: 71.25 },
      promotion: { metric: 'f1', value: 71.25, min: 50, promoted: true, reason: 'f1 71.25 >= 50' },
      currentModelChanged: true,
    };
    assert.equal(
      noticeText(promoted),
      'tuneforge run weekly-qa succeeded: exact_match 62.50, f1 71.25; now the current model; model s3://b/runs/weekly-qa/wf-1/model/; cost $1.23; workflow wf-1',
    );
    assert.deepEqual(webhookBody(promoted), { text: noticeText(promoted), ...promoted });
  });
});

describe('notify-run against a receiver', () => {
  let server: Server;
  let url = '';
  const seen: string[] = [];
  before(async () => {
    server = createServer((req, res) => {
      seen.push(req.url ?? '');
      const status = Number(/^\/status\/(\d{3})/.exec(req.url ?? '')?.[1] ?? 200);
      res.writeHead(status, status === 302 ? { location: `${url}/status/200/redirected` } : {}).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const logs: string[] = [];
  const logger = new DefaultLogger('DEBUG', (entry) => logs.push(`${entry.message} ${inspect(entry.meta, { depth: 8 })}`));
  after(() => {
    assert.ok(
      logs.some((l) => l.includes('the run notice was sent')),
      'control: the logs were captured',
    );
    assert.deepEqual(
      logs.filter((l) => l.includes(SECRET)),
      [],
      'a log line holds the URL',
    );
  });

  const run = async (input: NotifyInput, env: Record<string, string> = {}): Promise<NotifyResult> =>
    (await new MockActivityEnvironment({}, { logger }).run(
      createNotifyActivities({ env, timeoutMs: 2000 }).notifyRun,
      input,
    )) as NotifyResult;

  async function failureOf(input: NotifyInput): Promise<ApplicationFailure> {
    try {
      await run(input);
    } catch (err) {
      assert.ok(err instanceof ApplicationFailure, String(err));
      return err;
    }
    assert.fail('expected the activity to fail');
  }

  it('2xx is sent; 404 is final, 500 and 429 are retried; a redirect is not followed; no failure names the URL', async () => {
    assert.deepEqual(await run({ webhook: `${url}/status/204/${SECRET}`, notice: NOTICE }), { sent: true, status: 204 });
    for (const [status, retryable] of [
      [404, false],
      [500, true],
      [429, true],
      [302, false],
    ] as const) {
      const failure = await failureOf({ webhook: `${url}/status/${status}/${SECRET}`, notice: NOTICE });
      assert.equal(failure.type, FailureType.WebhookFailed);
      assert.equal(failure.nonRetryable, !retryable, `HTTP ${status}`);
      assert.equal(failure.message, `the webhook did not take the notice: HTTP ${status}`);
    }
    assert.ok(!seen.some((p) => p.includes('redirected')), 'the redirect was followed');
  });

  it('a receiver that is not there fails retryable with its error code only', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const failure = await failureOf({ webhook: `http://127.0.0.1:${port}/${SECRET}`, notice: NOTICE });
    assert.equal(failure.message, 'the webhook did not take the notice: ECONNREFUSED');
    assert.equal(failure.nonRetryable, false);
  });

  it('fromEnv: an unset or unusable variable sends nothing and says why without the value', async () => {
    const before = seen.length;
    const webhook = { fromEnv: 'TUNEFORGE_WEBHOOK_URL' };
    assert.deepEqual(await run({ webhook, notice: NOTICE }), {
      sent: false,
      status: null,
      reason: '$TUNEFORGE_WEBHOOK_URL is not set on the worker',
    });
    const bad = await run({ webhook, notice: NOTICE }, { TUNEFORGE_WEBHOOK_URL: `http://example.com/${SECRET}` });
    assert.equal(bad.sent, false);
    assert.match(bad.reason ?? '', /^\$TUNEFORGE_WEBHOOK_URL must be https:\/\//);
    assert.ok(!(bad.reason ?? '').includes(SECRET));
    assert.equal(seen.length, before, 'nothing was sent');
    const good = await run({ webhook, notice: NOTICE }, { TUNEFORGE_WEBHOOK_URL: `${url}/status/200/${SECRET}` });
    assert.deepEqual(good, { sent: true, status: 200 });
    assert.equal(seen.at(-1), `/status/200/${SECRET}`);
  });
});
