// The AWS provider's pure parts: error classification, backoff, SSH key handling, client tokens,
// placements and settings validation. No moto needed.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { EC2ServiceException, type Instance } from '@aws-sdk/client-ec2';
import { placementProblems, sshCidrProblems } from '../src/providers/aws';
import { classifyEc2Error, type Ec2ErrorKind } from '../src/providers/aws/errors';
import { API_RETRY, backoffDelayMs, withRetry } from '../src/providers/aws/retry';
import { clientToken, placementCandidates, type NodeLaunch, type Placement } from '../src/providers/aws/run-instance';
import { deriveHostKey, normalizePublicKey, OPENSSH_BEGIN, publicKeyFromPrivateKey } from '../src/providers/aws/ssh-keys';
import { imageName } from '../src/providers/aws/tags';
import { hostKeyUserData } from '../src/providers/aws/user-data';
import { awsTestSettings, writeTestKey } from './helpers/moto';

const HAS_SSH_KEYGEN = spawnSync('sh', ['-c', 'command -v ssh-keygen']).status === 0;

function ec2Error(code: string, httpStatus: number): EC2ServiceException {
  return new EC2ServiceException({
    name: code,
    $fault: httpStatus >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode: httpStatus },
    message: code,
  });
}

function networkError(code: string): Error {
  return Object.assign(new Error(`connect ${code}`), { code });
}

test('EC2 errors are classified by code, capacity before the 5xx rule', () => {
  const cases: [unknown, Ec2ErrorKind][] = [
    [ec2Error('InsufficientInstanceCapacity', 500), 'capacity'],
    [ec2Error('InsufficientHostCapacity', 500), 'capacity'],
    [ec2Error('InsufficientCapacity', 500), 'capacity'],
    [ec2Error('MaxSpotInstanceCountExceeded', 400), 'quota'],
    [ec2Error('VcpuLimitExceeded', 400), 'quota'],
    [ec2Error('InstanceLimitExceeded', 400), 'quota'],
    [ec2Error('SpotMaxPriceTooLow', 400), 'capacity'],
    [ec2Error('Unsupported', 400), 'capacity'],
    [ec2Error('RequestLimitExceeded', 503), 'retryable'],
    [ec2Error('InternalError', 500), 'retryable'],
    [ec2Error('SomethingNew', 502), 'retryable'],
    [networkError('ECONNRESET'), 'retryable'],
    [ec2Error('InvalidAMIID.NotFound', 400), 'image-missing'],
    [ec2Error('InvalidAMIID.Malformed', 400), 'image-missing'],
    [ec2Error('AuthFailure', 401), 'auth'],
    [ec2Error('UnauthorizedOperation', 403), 'auth'],
    [ec2Error('InvalidGroup.Duplicate', 400), 'duplicate'],
    [ec2Error('InvalidKeyPair.Duplicate', 400), 'duplicate'],
    [ec2Error('InvalidGroup.NotFound', 400), 'not-found'],
    [ec2Error('InvalidInstanceID.NotFound', 400), 'not-found'],
    [ec2Error('DependencyViolation', 400), 'dependency'],
    [ec2Error('IdempotentParameterMismatch', 400), 'idempotency-mismatch'],
    [ec2Error('InvalidParameterValue', 400), 'fatal'],
    [new TypeError('bug'), 'fatal'],
    ['not an error', 'fatal'],
  ];
  for (const [error, kind] of cases) assert.equal(classifyEc2Error(error), kind, String(error));
});

test('backoff grows exponentially with full jitter under a ceiling', () => {
  assert.equal(
    backoffDelayMs(1, API_RETRY, () => 0),
    0,
  );
  assert.equal(
    backoffDelayMs(1, API_RETRY, () => 0.999999),
    999,
  );
  assert.equal(
    backoffDelayMs(3, API_RETRY, () => 0.5),
    2000,
  );
  assert.equal(
    backoffDelayMs(20, API_RETRY, () => 0.5),
    API_RETRY.maxDelayMs / 2,
  );
});

test('withRetry retries only retryable errors, a bounded number of times', async () => {
  const sleeps: number[] = [];
  const deps = { sleep: async (ms: number) => void sleeps.push(ms), random: () => 0.5 };
  let calls = 0;
  const result = await withRetry(
    async () => {
      calls += 1;
      if (calls < 3) throw ec2Error('RequestLimitExceeded', 503);
      return 'done';
    },
    API_RETRY,
    deps,
  );
  assert.equal(result, 'done');
  assert.equal(sleeps.length, 2);

  calls = 0;
  await assert.rejects(
    withRetry(
      async () => {
        calls += 1;
        throw ec2Error('InsufficientInstanceCapacity', 500);
      },
      API_RETRY,
      deps,
    ),
    (error) => error instanceof Error && error.name === 'InsufficientInstanceCapacity',
  );
  assert.equal(calls, 1);
});

test(
  'the public key of an encrypted OpenSSH private key is read without its passphrase',
  { skip: HAS_SSH_KEYGEN ? false : 'no ssh-keygen' },
  () => {
    const folder = mkdtempSync(join(tmpdir(), 'tuneforge-keys-'));
    for (const type of ['ed25519', 'rsa']) {
      const path = join(folder, `id_${type}`);
      execFileSync('ssh-keygen', ['-q', '-t', type, '-N', 'secret passphrase', '-C', 'me@host', '-f', path]);
      const expected = normalizePublicKey(readFileSync(`${path}.pub`, 'utf8'));
      assert.ok(expected !== undefined);
      assert.equal(publicKeyFromPrivateKey(readFileSync(path, 'utf8')), expected);
    }
  },
);

test(
  'the public key of a PEM RSA key matches what ssh-keygen derives',
  { skip: HAS_SSH_KEYGEN ? false : 'no ssh-keygen' },
  () => {
    const folder = mkdtempSync(join(tmpdir(), 'tuneforge-keys-'));
    const pem = generateKeyPairSync('rsa', { modulusLength: 2048 })
      .privateKey.export({ format: 'pem', type: 'pkcs1' })
      .toString();
    const path = join(folder, 'rsa.pem');
    writeFileSync(path, pem, { mode: 0o600 });
    const expected = normalizePublicKey(execFileSync('ssh-keygen', ['-y', '-f', path], { encoding: 'utf8' }));
    assert.equal(publicKeyFromPrivateKey(pem), expected);
  },
);

test('the public key of a PKCS#8 Ed25519 key is its raw key in the OpenSSH blob', () => {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const raw = Buffer.from(publicKey.export({ format: 'jwk' }).x ?? '', 'base64url');
  const blob = Buffer.concat([Buffer.from([0, 0, 0, 11]), Buffer.from('ssh-ed25519'), Buffer.from([0, 0, 0, 32]), raw]);
  const pem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
  assert.equal(publicKeyFromPrivateKey(pem), `ssh-ed25519 ${blob.toString('base64')}`);
});

test('keys that cannot be read are reported as undefined, not guessed', () => {
  assert.equal(publicKeyFromPrivateKey('not a key'), undefined);
  const encrypted = generateKeyPairSync('ed25519')
    .privateKey.export({ format: 'pem', type: 'pkcs8', cipher: 'aes-256-cbc', passphrase: 'x' })
    .toString();
  assert.equal(publicKeyFromPrivateKey(encrypted), undefined);
  assert.equal(normalizePublicKey('ssh-ed25519 not-base64!'), undefined);
  assert.equal(normalizePublicKey('ssh-rsa AAAAC3NzaC1lZDI1NTE5AAAAIBsZ'), undefined, 'type must match the blob');
});

test('host keys are deterministic per cluster and node, and their private part encodes the same key', () => {
  const secret = randomBytes(64);
  const a = deriveHostKey(secret, 'cluster-1', 'master');
  assert.deepEqual(deriveHostKey(secret, 'cluster-1', 'master'), a);
  assert.notEqual(deriveHostKey(secret, 'cluster-1', 'worker-1').publicKey, a.publicKey);
  assert.notEqual(deriveHostKey(secret, 'cluster-2', 'master').publicKey, a.publicKey);
  assert.notEqual(deriveHostKey(randomBytes(64), 'cluster-1', 'master').publicKey, a.publicKey);
  assert.match(a.publicKey, /^ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI[A-Za-z0-9+/]{43}$/);
  assert.equal(publicKeyFromPrivateKey(a.privateKey), a.publicKey);

  const cloudConfig = Buffer.from(hostKeyUserData(a), 'base64').toString('utf8');
  assert.ok(cloudConfig.startsWith('#cloud-config\n'));
  assert.ok(cloudConfig.includes(`  ed25519_public: ${a.publicKey}\n`));
  assert.ok(cloudConfig.includes(`    ${OPENSSH_BEGIN}\n`));
});

test(
  'ssh-keygen reads the derived host private key and finds the same public key',
  { skip: HAS_SSH_KEYGEN ? false : 'no ssh-keygen' },
  () => {
    const hostKey = deriveHostKey(randomBytes(32), 'cluster-1', 'master');
    const path = join(mkdtempSync(join(tmpdir(), 'tuneforge-keys-')), 'ssh_host_ed25519_key');
    writeFileSync(path, hostKey.privateKey, { mode: 0o600 });
    assert.equal(normalizePublicKey(execFileSync('ssh-keygen', ['-y', '-f', path], { encoding: 'utf8' })), hostKey.publicKey);
  },
);

function launchFor(overrides: Partial<NodeLaunch> = {}): NodeLaunch {
  return {
    cluster: { clusterId: 'c1', runName: 'r1' },
    role: 'worker',
    name: 'worker-1',
    market: 'on-demand',
    image: { imageId: 'ami-1', rootDeviceName: '/dev/sda1' },
    securityGroupId: 'sg-1',
    keyName: 'k',
    hostKeySecret: Buffer.from('secret'),
    retiredInstanceIds: [],
    ...overrides,
  };
}

const PLACEMENT_A: Placement = {
  instanceType: 'r7iz.metal-16xl',
  zone: { availabilityZone: 'us-east-1a', subnetId: 'subnet-a' },
};
const PLACEMENT_B: Placement = {
  instanceType: 'r7iz.metal-16xl',
  zone: { availabilityZone: 'us-east-1b', subnetId: 'subnet-b' },
};

test('client tokens are stable for the same launch and change with placement, image or generation', () => {
  const token = clientToken(launchFor(), PLACEMENT_A, []);
  assert.equal(token.length, 64);
  assert.equal(clientToken(launchFor(), PLACEMENT_A, []), token);
  assert.equal(
    clientToken(launchFor({ securityGroupId: 'sg-2' }), PLACEMENT_A, []),
    token,
    'ids of shared resources do not matter',
  );
  assert.notEqual(clientToken(launchFor(), PLACEMENT_B, []), token);
  assert.notEqual(clientToken(launchFor({ image: { imageId: 'ami-2', rootDeviceName: '/dev/sda1' } }), PLACEMENT_A, []), token);
  assert.notEqual(clientToken(launchFor(), PLACEMENT_A, ['i-dead']), token);
  assert.equal(clientToken(launchFor(), PLACEMENT_A, ['i-2', 'i-1']), clientToken(launchFor(), PLACEMENT_A, ['i-1', 'i-2']));
  assert.notEqual(clientToken(launchFor({ name: 'worker-2' }), PLACEMENT_A, []), token);
});

test('placements try every zone of a type before the next type, and start at a live node placement', () => {
  const zones = [PLACEMENT_A.zone, PLACEMENT_B.zone];
  assert.deepEqual(
    placementCandidates(['r7iz.metal-16xl', 'm7i.48xlarge'], zones, []).map(
      (p) => `${p.instanceType}@${p.zone.availabilityZone}`,
    ),
    ['r7iz.metal-16xl@us-east-1a', 'r7iz.metal-16xl@us-east-1b', 'm7i.48xlarge@us-east-1a', 'm7i.48xlarge@us-east-1b'],
  );
  const master: Instance = {
    InstanceId: 'i-1',
    InstanceType: 'm7i.48xlarge',
    Placement: { AvailabilityZone: 'us-east-1b' },
    SubnetId: 'subnet-b',
    LaunchTime: new Date(0),
  };
  assert.deepEqual(
    placementCandidates(['r7iz.metal-16xl', 'm7i.48xlarge'], zones, [master]).map(
      (p) => `${p.instanceType}@${p.zone.availabilityZone}`,
    ),
    ['m7i.48xlarge@us-east-1b', 'm7i.48xlarge@us-east-1a', 'r7iz.metal-16xl@us-east-1a', 'r7iz.metal-16xl@us-east-1b'],
  );
});

test('settings validation names the SSH CIDR, open SSH, unknown instance types and foreign zones', () => {
  const key = writeTestKey();
  const { sshCidr: _omitted, ...withoutCidr } = awsTestSettings(key);
  assert.deepEqual(
    sshCidrProblems(withoutCidr).map((problem) => problem.path),
    ['aws.sshCidr'],
  );
  assert.deepEqual(sshCidrProblems(withoutCidr, '198.51.100.4/32'), []);
  const bad = awsTestSettings(key, {
    sshCidr: '10.0.0.0/0',
    instanceTypes: ['r7iz.metal-16xl', 'r7iz.metal16xl'],
    availabilityZones: ['us-east-1a', 'eu-west-1a'],
  });
  const paths = [...sshCidrProblems(bad), ...placementProblems(bad)].map((problem) => problem.path);
  assert.deepEqual(paths, ['aws.sshCidr', 'aws.instanceTypes.1', 'aws.availabilityZones.1']);
});

test('image names keep only the characters EC2 allows', () => {
  assert.equal(imageName('abc123'), 'tuneforge-abc123');
  assert.equal(imageName('sha256:ab+cd'), 'tuneforge-sha256-ab-cd');
  assert.equal(imageName('x'.repeat(300)).length, 128);
});
