// Preflight against moto: each check fails on its own cause with the numbers and the fix, a failing run
// creates nothing (asserted from moto's records), `plan --check` shows every result, and an S3 endpoint that
// cannot be reached is named at once instead of after 35 s of retries.
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import {
  DescribeKeyPairsCommand,
  DescribeSecurityGroupsCommand,
  RunInstancesCommand,
  TerminateInstancesCommand,
} from '@aws-sdk/client-ec2';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { SignatureV4 } from '@smithy/signature-v4';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { createS3Store } from '../src/artifacts/s3-store';
import { formatPlanCheck, planCheck } from '../src/client/commands/plan-check';
import { FailureType, type PreflightProblem } from '../src/common/errors';
import { rootCause } from '../src/common/failure-summary';
import { WORKFLOW_TYPE } from '../src/common/names';
import { packageRoot } from '../src/common/package-root';
import { createAwsProvider } from '../src/providers/aws';
import { preflightReport } from '../src/providers/aws/preflight-report';
import { serviceQuotasReader, signPost, type QuotaReader } from '../src/providers/aws/service-quotas';
import { createEc2Client } from '../src/providers/aws/client';
import type { PreflightCheck, Provider } from '../src/providers/provider';
import type { AwsSettings, RunSpec } from '../src/run-spec/schema';
import { validateRunSpec } from '../src/run-spec/validate';
import { testDeps } from './helpers/local-lab';
import {
  awsTestSettings,
  callsOf,
  clusterInstances,
  MOTO_UBUNTU_IMAGE_ID,
  motoClientFactory,
  motoInspector,
  motoUnavailableReason,
  newAccountId,
  newFaults,
  startMoto,
  writeTestKey,
  type Ec2Faults,
  type MotoServer,
} from './helpers/moto';
import { realActivities, uniqueId, withWorker } from './helpers/temporal';

const run = promisify(execFile);

interface Setup {
  provider: Provider;
  faults: Ec2Faults;
  accountId: string;
  settings: AwsSettings;
  quotaAsked: string[];
}

function setup(moto: MotoServer, quota: number, overrides: Partial<AwsSettings> = {}): Setup {
  const accountId = newAccountId();
  const faults = newFaults();
  const quotaAsked: string[] = [];
  // moto 5.2.5 answers GetServiceQuota for service code vpc only: the quota is injected, as the provider allows.
  const readQuota: QuotaReader = async (_region, code) => {
    quotaAsked.push(code);
    return { value: quota };
  };
  const provider = createAwsProvider(
    { region: 'us-east-1' },
    { createClient: motoClientFactory(moto.endpoint, accountId, faults), readQuota, sleep: async () => undefined },
  );
  return { provider, faults, accountId, settings: awsTestSettings(writeTestKey(), overrides), quotaAsked };
}

function spec(settings: AwsSettings, bucket: string, nodes = 3) {
  return {
    name: 'preflight-test',
    provider: 'aws' as const,
    recipe: 'tiny-qa',
    nodes,
    artifacts: { uri: `s3://${bucket}/runs`, keepCheckpoints: 1 },
    training: { maxSteps: 2 },
    aws: settings,
  };
}

function validSpec(settings: AwsSettings, bucket: string): RunSpec {
  const parsed = validateRunSpec(spec(settings, bucket));
  assert.ok(parsed.ok, JSON.stringify(parsed));
  return parsed.spec;
}

function byCheck(checks: PreflightCheck[], name: string): PreflightCheck[] {
  return checks.filter((c) => c.check === name);
}

describe('AWS preflight on moto', { skip: motoUnavailableReason() }, () => {
  let moto: MotoServer;
  let s3: S3Client;
  const bucket = uniqueId('preflight-bucket').slice(0, 60);

  before(async () => {
    moto = await startMoto();
    process.env.AWS_ENDPOINT_URL_S3 = moto.endpoint;
    s3 = new S3Client({ region: 'us-east-1', endpoint: moto.endpoint, forcePathStyle: true });
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  });
  after(async () => {
    await moto?.stop();
  });

  const s3Client = (): S3Client => s3;

  test('the vCPU quota counts running standard instances: 256 with 192 in use leaves 64 of the 192 needed', async () => {
    const s = setup(moto, 256);
    const ec2 = motoInspector(moto.endpoint, s.accountId);
    // Someone else's on-demand m7i.48xlarge (192 vCPUs) already runs in the account.
    const other = await ec2.send(
      new RunInstancesCommand({ ImageId: MOTO_UBUNTU_IMAGE_ID, InstanceType: 'm7i.48xlarge', MinCount: 1, MaxCount: 1 }),
    );
    try {
      const checks = await preflightReport(validSpec(s.settings, bucket), { provider: s.provider, s3Client });
      const [quota] = byCheck(checks, 'vcpu-quota');
      assert.equal(quota?.ok, false, JSON.stringify(quota));
      assert.equal(quota?.needed, 192, '3 x r7iz.metal-16xl (64 vCPUs each)');
      assert.equal(quota?.available, 64);
      assert.match(quota?.fix ?? '', /--service-code ec2 --quota-code L-1216C47A --desired-value 384/);
      assert.match(quota?.fix ?? '', /Service Quotas console/);
      assert.deepEqual(s.quotaAsked, ['L-1216C47A'], 'on-demand asks the on-demand standard quota');
      // The rest of the account is fine: only the quota stops the run.
      assert.deepEqual(
        checks.filter((c) => c.ok !== true).map((c) => c.check),
        ['vcpu-quota'],
      );
    } finally {
      const id = other.Instances?.[0]?.InstanceId;
      if (id) await ec2.send(new TerminateInstancesCommand({ InstanceIds: [id] }));
    }
    const enough = await preflightReport(validSpec(s.settings, bucket), { provider: s.provider, s3Client });
    assert.equal(byCheck(enough, 'vcpu-quota')[0]?.ok, true, 'with the other instance gone, 256 covers 192');
  });

  test('spot-then-on-demand workers need both the spot and the on-demand quota', async () => {
    const s = setup(moto, 100, { market: 'on-demand', workerMarket: 'spot-then-on-demand' });
    const checks = await preflightReport(validSpec(s.settings, bucket), { provider: s.provider, s3Client });
    const quotas = byCheck(checks, 'vcpu-quota');
    assert.deepEqual(quotas.map((q) => [q.message.match(/L-[0-9A-F]+/)?.[0], q.needed, q.ok]).sort(), [
      ['L-1216C47A', 192, false],
      ['L-34B43A08', 128, false],
    ]);
  });

  test('an instance type not offered in the chosen zone, a missing base image and a mismatched key each fail', async () => {
    const other = writeTestKey();
    const s = setup(moto, 10_000, {
      // moto's offerings (copied from AWS) have no r7iz.metal-16xl in us-east-1e.
      availabilityZones: ['us-east-1e'],
      instanceTypes: ['r7iz.metal-16xl'],
      baseImage: { id: 'ami-0123456789abcdef0' },
      publicKeyPath: other.publicKeyPath,
    });
    const checks = await preflightReport(validSpec(s.settings, bucket), { provider: s.provider, s3Client });
    const failed = Object.fromEntries(checks.filter((c) => c.ok === false).map((c) => [c.check, c]));
    assert.deepEqual(Object.keys(failed).sort(), ['base-image', 'instance-type', 'key-pair']);
    assert.match(failed['instance-type']?.message ?? '', /r7iz\.metal-16xl not offered in zone\(s\) us-east-1e/);
    assert.match(failed['base-image']?.message ?? '', /ami-0123456789abcdef0/);
    assert.equal(failed['key-pair']?.field, 'aws.publicKeyPath');
    assert.equal(callsOf(s.faults, 'RunInstances').length + callsOf(s.faults, 'CreateSecurityGroup').length, 0);
  });

  test('a run that fails preflight ends PreflightFailed at once and creates nothing', { timeout: 120_000 }, async () => {
    const s = setup(moto, 32);
    const workflowId = uniqueId('preflight-run');
    const activities = realActivities(testDeps({ providerFor: () => s.provider }));
    const started = Date.now();
    const error = await withWorker(activities, ({ client, taskQueue }) =>
      client.workflow.execute(WORKFLOW_TYPE, { taskQueue, workflowId, args: [{ spec: spec(s.settings, bucket) }] }).then(
        () => undefined,
        (err: unknown) => err,
      ),
    );
    assert.ok(error instanceof WorkflowFailedError, String(error));
    const cause = rootCause(error);
    assert.ok(cause instanceof ApplicationFailure && cause.type === FailureType.PreflightFailed, String(cause));
    const problems = (cause.details?.[0] as { problems: PreflightProblem[] }).problems;
    assert.deepEqual(
      problems.map((p) => [p.check, p.needed, p.available]),
      [['vcpu-quota', 192, 32]],
    );
    assert.ok(Date.now() - started < 60_000, 'not retried');
    const ec2 = motoInspector(moto.endpoint, s.accountId);
    assert.equal((await clusterInstances(ec2, workflowId)).length, 0, 'no instance');
    const groups = (await ec2.send(new DescribeSecurityGroupsCommand({}))).SecurityGroups ?? [];
    assert.deepEqual(
      groups.map((g) => g.GroupName),
      ['default'],
      'no security group besides the default VPC one',
    );
    assert.deepEqual((await ec2.send(new DescribeKeyPairsCommand({}))).KeyPairs ?? [], [], 'no key pair');
    for (const command of ['RunInstances', 'CreateSecurityGroup', 'ImportKeyPair', 'CreateImage'])
      assert.equal(callsOf(s.faults, command).length, 0, `${command} never called`);
  });

  test('an S3 endpoint that cannot be reached is named with artifacts.uri, the endpoint and the cause, at once', async () => {
    const unreachable = new S3Client({
      region: 'us-east-1',
      endpoint: 'http://tuneforge-no-such-host.invalid',
      forcePathStyle: true,
      maxAttempts: 4,
    });
    const s = setup(moto, 10_000);
    const started = Date.now();
    const checks = await preflightReport(validSpec(s.settings, bucket), { provider: s.provider, s3Client: () => unreachable });
    const [store] = byCheck(checks, 'artifact-store');
    assert.equal(store?.ok, false);
    assert.equal(store?.field, 'artifacts.uri');
    assert.match(store?.message ?? '', new RegExp(`s3://${bucket}/runs cannot be reached`));
    assert.match(store?.message ?? '', /tuneforge-no-such-host\.invalid/);
    assert.match(store?.message ?? '', /ENOTFOUND/);
    // prepare-artifacts' own check (a local run, or an aws run's second look) fails the same way, not retryable.
    const store2 = createS3Store({ client: unreachable, bucket, prefix: 'runs', region: 'us-east-1' });
    await assert.rejects(store2.checkWritable(), (err: unknown) => {
      assert.ok(err instanceof ApplicationFailure, String(err));
      assert.equal(err.type, FailureType.PreflightFailed);
      assert.equal(err.nonRetryable, true);
      assert.match(err.message, /artifacts\.uri.*tuneforge-no-such-host\.invalid.*ENOTFOUND/s);
      return true;
    });
    assert.ok(Date.now() - started < 10_000, `named within ${Date.now() - started} ms`);
  });

  test('plan --check prints each result, in text and JSON, and exits 1 when one fails', { timeout: 120_000 }, async () => {
    const key = writeTestKey();
    const settings = awsTestSettings(key);
    const specPath = join(key.privateKeyPath, '..', 'spec.json');
    writeFileSync(specPath, JSON.stringify(spec(settings, bucket)));
    const s = setup(moto, 64);
    const result = await planCheck(specPath, { provider: () => s.provider, s3Client });
    assert.equal(result.ok, false);
    assert.deepEqual(
      result.checks.map((c) => [c.check, c.result]),
      [
        ['vcpu-quota', 'failed'],
        ['instance-type', 'passed'],
        ['base-image', 'passed'],
        ['key-pair', 'passed'],
        ['artifact-store', 'passed'],
      ],
    );
    const text = formatPlanCheck(result);
    assert.match(text, /FAIL vcpu-quota .*192 vCPUs needed.*64 available/);
    assert.match(text, /fix: .*request-service-quota-increase/);

    // The real CLI, as an operator runs it, with moto as every endpoint (default account, no injected quota).
    const cli = join(packageRoot(), 'build-test', 'src', 'client', 'main.js');
    const env = {
      ...process.env,
      AWS_ENDPOINT_URL_EC2: moto.endpoint,
      AWS_ENDPOINT_URL_S3: moto.endpoint,
      AWS_ENDPOINT_URL_SERVICE_QUOTAS: moto.endpoint,
      AWS_REGION: 'us-east-1',
    };
    const json = await run(process.execPath, [cli, 'plan', '--check', '--json', specPath], { env });
    const preflight = (
      JSON.parse(json.stdout) as { preflight: { ok: boolean; checks: Array<{ check: string; result: string; message: string }> } }
    ).preflight;
    assert.equal(preflight.ok, true, json.stdout);
    const quota = preflight.checks.find((c) => c.check === 'vcpu-quota');
    // moto has no EC2 quotas: the real signed GetServiceQuota reaches it and gets NoSuchResource, shown as unchecked.
    assert.equal(quota?.result, 'unchecked');
    assert.match(quota?.message ?? '', /NoSuchResource/);
    const textRun = await run(process.execPath, [cli, 'plan', '--check', specPath], { env });
    assert.match(textRun.stdout, /Preflight\n/);
    assert.match(textRun.stdout, /ok {3}instance-type/);
    assert.match(textRun.stdout, /preflight passed/);

    const bad = join(key.privateKeyPath, '..', 'bad.json');
    writeFileSync(bad, JSON.stringify(spec({ ...settings, availabilityZones: ['us-east-1e'] }, bucket)));
    const failed = await run(process.execPath, [cli, 'plan', '--check', bad], { env }).then(
      () => undefined,
      (err: { code?: number; stdout?: string }) => err,
    );
    assert.equal(failed?.code, 1);
    assert.match(failed?.stdout ?? '', /FAIL instance-type/);
  });
});

function bytes(data: string | ArrayBuffer | ArrayBufferView): string | Buffer {
  if (typeof data === 'string') return data;
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.from(data);
}

test('signPost signs exactly as the SDK signer does', async () => {
  class NodeSha256 {
    private readonly hash;
    constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
      this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(secret));
    }
    update(data: string | ArrayBuffer | ArrayBufferView): void {
      this.hash.update(bytes(data));
    }
    async digest(): Promise<Uint8Array> {
      return new Uint8Array(this.hash.digest());
    }
  }
  const credentials = {
    accessKeyId: 'AKIDEXAMPLE',
    secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
    sessionToken: 'tok',
  };
  const now = new Date('2026-12-06T12:34:56Z');
  const url = new URL('https://servicequotas.us-east-1.amazonaws.com/');
  const body = '{"ServiceCode":"ec2","QuotaCode":"L-1216C47A"}';
  const headers = { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'ServiceQuotasV20190624.GetServiceQuota' };
  const ours = signPost(url, headers, body, { region: 'us-east-1', service: 'servicequotas', credentials, now });
  const sdk = await new SignatureV4({ service: 'servicequotas', region: 'us-east-1', credentials, sha256: NodeSha256 }).sign(
    { method: 'POST', protocol: 'https:', hostname: url.hostname, path: '/', headers: { ...headers, host: url.host }, body },
    { signingDate: now },
  );
  const signature = (auth: string | undefined): string | undefined => /Signature=([0-9a-f]+)/.exec(auth ?? '')?.[1];
  assert.ok(signature(ours.authorization));
  assert.equal(signature(ours.authorization), signature(sdk.headers.authorization));
  assert.equal(ours.authorization, sdk.headers.authorization);
});

test('the default quota reader reports an unreachable Service Quotas as unreadable, never as a number', async () => {
  process.env.AWS_ACCESS_KEY_ID ??= 'testing';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'testing';
  const ec2 = createEc2Client({ region: 'us-east-1', endpoint: 'http://127.0.0.1:9' });
  const reading = await serviceQuotasReader(ec2)('us-east-1', 'L-1216C47A');
  assert.ok('unreadable' in reading, JSON.stringify(reading));
});
