// A moto_server for EC2 tests: MOTO_ENDPOINT if set, else one started on a free loopback port.
// Each test gets its own moto account (x-moto-account-id), so tests never see each other's state,
// and faults are injected by SDK middleware on the real client, not by a fake.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomInt, randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DescribeInstancesCommand,
  DescribeKeyPairsCommand,
  DescribeSecurityGroupsCommand,
  DescribeSubnetsCommand,
  EC2ServiceException,
  type EC2Client,
  type Instance,
  type ServiceOutputTypes,
} from '@aws-sdk/client-ec2';
import { packageRoot } from '../../src/common/package-root';
import { createEc2Client, type Ec2ClientFactory } from '../../src/providers/aws/client';
import { createAwsProvider } from '../../src/providers/aws';
import { deriveHostKey } from '../../src/providers/aws/ssh-keys';
import type { ClusterRef, Provider } from '../../src/providers/provider';
import { bindRun, type RunProvider } from '../../src/providers/run-provider';
import type { AwsSettings } from '../../src/run-spec/schema';

const MOTO_BIN = process.env.MOTO_SERVER_BIN ?? join(packageRoot(), '.tools', 'venv', 'bin', 'moto_server');
const START_TIMEOUT_MS = 30_000;

export interface MotoServer {
  endpoint: string;
  stop(): Promise<void>;
}

/**
 * Why moto tests cannot run here, or undefined when they can. Under CI a missing moto is an error, not a
 * skip: 13 files would otherwise pass by running nothing.
 */
export function motoUnavailableReason(): string | undefined {
  if (process.env.MOTO_ENDPOINT !== undefined) return undefined;
  if (existsSync(MOTO_BIN)) return undefined;
  const reason = `no moto_server at ${MOTO_BIN} and MOTO_ENDPOINT is not set`;
  if (process.env.CI === 'true') throw new Error(`${reason}: CI must run the moto tests (scripts/setup.sh installs moto)`);
  return reason;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function waitUntilAnswering(endpoint: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`moto_server exited with ${child.exitCode}`);
    const answered = await fetch(`${endpoint}/moto-api/`).then(
      () => true,
      () => false,
    );
    if (answered) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`moto_server did not answer at ${endpoint} within ${START_TIMEOUT_MS} ms`);
}

export async function startMoto(): Promise<MotoServer> {
  // Dummy credentials: requests go to moto only, and the SDK must not look for real ones.
  process.env.AWS_ACCESS_KEY_ID = 'testing';
  process.env.AWS_SECRET_ACCESS_KEY = 'testing';
  delete process.env.AWS_SESSION_TOKEN;
  delete process.env.AWS_PROFILE;
  const shared = process.env.MOTO_ENDPOINT;
  if (shared !== undefined) return { endpoint: shared, stop: async () => undefined };
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const child = spawn(MOTO_BIN, ['-H', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
  await waitUntilAnswering(endpoint, child);
  return {
    endpoint,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

export function newAccountId(): string {
  return String(randomInt(100_000_000_000, 999_999_999_999));
}

export interface FaultRule {
  /** SDK command name without the "Command" suffix, e.g. "RunInstances". */
  command: string;
  code: string;
  httpStatus: number;
  /** Only calls whose input matches fail; all calls when omitted. */
  when?: (input: Record<string, unknown>) => boolean;
  /** How many matching calls fail; every one when omitted. */
  times?: number;
}

/** Edits a response before the provider sees it (moto models no spot reclaim, for example). */
export type OutputRewrite = (command: string, output: ServiceOutputTypes) => void;

export interface Ec2Faults {
  rules: FaultRule[];
  rewrites: OutputRewrite[];
  /** Every command sent, in order, with its input. */
  calls: { command: string; input: Record<string, unknown> }[];
}

export function newFaults(): Ec2Faults {
  return { rules: [], rewrites: [], calls: [] };
}

export function callsOf(faults: Ec2Faults, command: string): Record<string, unknown>[] {
  return faults.calls.filter((call) => call.command === command).map((call) => call.input);
}

function matchingRule(faults: Ec2Faults, command: string, input: Record<string, unknown>): FaultRule | undefined {
  const rule = faults.rules.find((candidate) => candidate.command === command && (candidate.when?.(input) ?? true));
  if (rule === undefined) return undefined;
  if (rule.times !== undefined) {
    rule.times -= 1;
    if (rule.times <= 0) faults.rules.splice(faults.rules.indexOf(rule), 1);
  }
  return rule;
}

function addMiddleware(client: EC2Client, accountId: string, faults: Ec2Faults): void {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const command = (context.commandName ?? '').replace(/Command$/, '');
      const input = args.input as Record<string, unknown>;
      faults.calls.push({ command, input });
      const rule = matchingRule(faults, command, input);
      if (rule !== undefined) {
        throw new EC2ServiceException({
          name: rule.code,
          $fault: rule.httpStatus >= 500 ? 'server' : 'client',
          $metadata: { httpStatusCode: rule.httpStatus, attempts: 1 },
          message: `injected ${rule.code}`,
        });
      }
      const result = await next(args);
      for (const rewrite of faults.rewrites) rewrite(command, result.output);
      return result;
    },
    { step: 'initialize', name: 'tuneforgeTestFaults' },
  );
  client.middlewareStack.add(
    (next) => async (args) => {
      const request = args.request as { headers?: Record<string, string> };
      if (request.headers !== undefined) request.headers['x-moto-account-id'] = accountId;
      return next(args);
    },
    { step: 'build', name: 'tuneforgeTestMotoAccount' },
  );
}

/** A client factory for the provider: the real client, in its own moto account, with the faults attached. */
export function motoClientFactory(endpoint: string, accountId: string, faults: Ec2Faults): Ec2ClientFactory {
  return (config) => {
    const client = createEc2Client({ ...config, endpoint });
    addMiddleware(client, accountId, faults);
    return client;
  };
}

/** A client for assertions, outside the provider, in the same account. */
export function motoInspector(endpoint: string, accountId: string): EC2Client {
  return motoClientFactory(endpoint, accountId, newFaults())({ region: 'us-east-1' });
}

export interface TestKey {
  privateKeyPath: string;
  publicKeyPath: string;
  /** "ssh-ed25519 AAAA..." */
  publicKey: string;
}

/**
 * A fresh ed25519 operator key in OpenSSH format (what ssh-keygen writes) and its .pub file, in a
 * temporary folder. The provider's own encoder writes it, so tests need no ssh-keygen.
 */
export function writeTestKey(): TestKey {
  const folder = mkdtempSync(join(tmpdir(), 'tuneforge-aws-test-'));
  const { privateKey, publicKey } = deriveHostKey(randomBytes(32), 'test', 'operator');
  const privateKeyPath = join(folder, 'id_ed25519');
  const publicKeyPath = `${privateKeyPath}.pub`;
  writeFileSync(privateKeyPath, privateKey, { mode: 0o600 });
  writeFileSync(publicKeyPath, `${publicKey} operator@test\n`);
  return { privateKeyPath, publicKeyPath, publicKey };
}

export const TEST_REGION = 'us-east-1';
/** moto's built-in Ubuntu 16.04 image owned by Canonical. */
export const MOTO_UBUNTU_IMAGE = { name: 'ubuntu/images/hvm-ssd/ubuntu-xenial-16.04-amd64-server-*', owner: '099720109477' };
export const MOTO_UBUNTU_IMAGE_ID = 'ami-785db401';
export const TEST_SSH_CIDR = '203.0.113.7/32';

export function awsTestSettings(key: TestKey, overrides: Partial<AwsSettings> = {}): AwsSettings {
  return {
    region: TEST_REGION,
    instanceTypes: ['r7iz.metal-16xl', 'm7i.48xlarge'],
    availabilityZones: ['us-east-1a', 'us-east-1b'],
    market: 'on-demand',
    spotFailuresBeforeOnDemand: 3,
    sshCidr: TEST_SSH_CIDR,
    baseImage: MOTO_UBUNTU_IMAGE,
    requireAmx: true,
    privateKeyPath: key.privateKeyPath,
    rootVolumeGiB: 100,
    keepImage: true,
    pricePerHourUsd: {},
    ...overrides,
  };
}

export interface MotoHarness {
  /** The region's provider bound to this harness's run settings, as an activity binds it. */
  provider: RunProvider;
  /** The region's provider itself: one per region, settings passed per call. */
  regionProvider: Provider;
  /** The moto account the provider uses (x-moto-account-id). */
  accountId: string;
  settings: AwsSettings;
  key: TestKey;
  faults: Ec2Faults;
  /** Backoff delays the provider asked for (the injected sleep returns at once). */
  sleeps: number[];
  /** Client for assertions, in the provider's moto account. */
  ec2: EC2Client;
  cluster: ClusterRef;
  /** Another provider on the same account, as a second worker process would have. */
  secondProvider(): RunProvider;
}

export function createHarness(moto: MotoServer, overrides: Partial<AwsSettings> = {}): MotoHarness {
  const accountId = newAccountId();
  const faults = newFaults();
  const key = writeTestKey();
  const settings = awsTestSettings(key, overrides);
  const sleeps: number[] = [];
  const makeRegionProvider = (): Provider =>
    createAwsProvider(
      { region: settings.region },
      {
        createClient: motoClientFactory(moto.endpoint, accountId, faults),
        sleep: async (ms) => {
          sleeps.push(ms);
        },
        random: () => 0.5,
      },
    );
  const makeProvider = (): RunProvider => bindRun(makeRegionProvider(), { provider: 'aws', aws: settings });
  const regionProvider = makeRegionProvider();
  return {
    provider: bindRun(regionProvider, { provider: 'aws', aws: settings }),
    regionProvider,
    accountId,
    settings,
    key,
    faults,
    sleeps,
    ec2: motoInspector(moto.endpoint, accountId),
    cluster: { clusterId: `tf-${randomUUID().slice(0, 8)}`, runName: 'run-test' },
    secondProvider: makeProvider,
  };
}

/** Instances of the cluster in the given states (all states when omitted). */
export async function clusterInstances(ec2: EC2Client, clusterId: string, states?: string[]): Promise<Instance[]> {
  const filters = [{ Name: 'tag:tuneforge:cluster', Values: [clusterId] }];
  if (states !== undefined) filters.push({ Name: 'instance-state-name', Values: states });
  const output = await ec2.send(new DescribeInstancesCommand({ Filters: filters }));
  return (output.Reservations ?? []).flatMap((reservation) => reservation.Instances ?? []);
}

export const ALIVE = ['pending', 'running', 'stopping', 'stopped', 'shutting-down'];

/** What a cluster still owns in EC2: instances not terminated, security groups, key pairs. */
export async function clusterLeftovers(
  ec2: EC2Client,
  clusterId: string,
): Promise<{ instances: number; groups: number; keyPairs: number }> {
  const tag = [{ Name: 'tag:tuneforge:cluster', Values: [clusterId] }];
  const [instances, groups, keyPairs] = await Promise.all([
    clusterInstances(ec2, clusterId, ALIVE),
    ec2.send(new DescribeSecurityGroupsCommand({ Filters: tag })),
    ec2.send(new DescribeKeyPairsCommand({ Filters: tag })),
  ]);
  return { instances: instances.length, groups: groups.SecurityGroups?.length ?? 0, keyPairs: keyPairs.KeyPairs?.length ?? 0 };
}

/** The default subnets' zones, by subnet id. */
export async function subnetZones(ec2: EC2Client): Promise<Map<string, string>> {
  const { Subnets: subnets = [] } = await ec2.send(
    new DescribeSubnetsCommand({ Filters: [{ Name: 'default-for-az', Values: ['true'] }] }),
  );
  return new Map(subnets.map((subnet) => [subnet.SubnetId ?? '', subnet.AvailabilityZone ?? '']));
}

/** The RunInstances calls made, as "type@zone". */
export async function launchAttempts(h: MotoHarness): Promise<string[]> {
  const zones = await subnetZones(h.ec2);
  return callsOf(h.faults, 'RunInstances').map(
    (input) => `${String(input.InstanceType)}@${zones.get(String(input.SubnetId)) ?? '?'}`,
  );
}
