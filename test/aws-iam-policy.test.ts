// docs/iam-policy.json grants exactly the EC2 actions the AWS provider calls and the S3 actions the artifact
// store calls: no more, no less, S3 scoped to the artifact bucket.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { packageRoot } from '../src/common/package-root';

/** SDK waiters poll with a describe call the code never constructs itself. */
const WAITER_ACTIONS: Record<string, string> = {
  waitUntilInstanceRunning: 'DescribeInstances',
  waitUntilInstanceTerminated: 'DescribeInstances',
  waitUntilImageAvailable: 'DescribeImages',
};

function sourceFiles(folder: string): string[] {
  return readdirSync(folder, { withFileTypes: true }).flatMap((entry) => {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** S3 API calls and the IAM action that allows each (several calls share one action). */
const S3_ACTIONS: Record<string, string> = {
  PutObject: 's3:PutObject',
  CreateMultipartUpload: 's3:PutObject',
  UploadPart: 's3:PutObject',
  CompleteMultipartUpload: 's3:PutObject',
  AbortMultipartUpload: 's3:AbortMultipartUpload',
  GetObject: 's3:GetObject',
  DeleteObject: 's3:DeleteObject',
  DeleteObjects: 's3:DeleteObject',
  ListObjectsV2: 's3:ListBucket',
  HeadBucket: 's3:ListBucket',
};

function s3ActionsCalled(): Set<string> {
  const actions = new Set<string>();
  for (const file of sourceFiles(join(packageRoot(), 'src', 'artifacts'))) {
    for (const match of readFileSync(file, 'utf8').matchAll(/new ([A-Z][A-Za-z0-9]*)Command\(/g)) {
      const action = S3_ACTIONS[match[1] ?? ''];
      assert.ok(action !== undefined, `${file} calls ${match[1]}: add its IAM action to S3_ACTIONS`);
      actions.add(action);
    }
  }
  return actions;
}

function actionsCalled(): Set<string> {
  const actions = new Set<string>();
  for (const file of sourceFiles(join(packageRoot(), 'src', 'providers', 'aws'))) {
    const source = readFileSync(file, 'utf8');
    for (const match of source.matchAll(/new ([A-Z][A-Za-z0-9]*)Command\(/g)) actions.add(`ec2:${match[1]}`);
    const sdkImports = [...source.matchAll(/import\s*\{([^}]*)\}\s*from\s*'@aws-sdk\/client-ec2'/g)].map(
      (match) => match[1] ?? '',
    );
    const waiters = sdkImports
      .flatMap((names) => names.split(',').map((name) => name.trim()))
      .filter((name) => name.startsWith('waitUntil'));
    for (const waiter of waiters) {
      const action = WAITER_ACTIONS[waiter];
      assert.ok(action !== undefined, `${file} uses ${waiter}: add the action it polls with to WAITER_ACTIONS`);
      actions.add(`ec2:${action}`);
    }
  }
  return actions;
}

interface Statement {
  Effect: string;
  Action: string[];
  Resource: string | string[];
}

function statements(): Statement[] {
  const policy = JSON.parse(readFileSync(join(packageRoot(), 'docs', 'iam-policy.json'), 'utf8')) as { Statement: Statement[] };
  return policy.Statement.filter((statement) => statement.Effect === 'Allow');
}

function actionsGranted(service: string): Set<string> {
  return new Set(
    statements()
      .flatMap((s) => s.Action)
      .filter((a) => a.startsWith(`${service}:`)),
  );
}

test('the IAM policy grants exactly the EC2 actions the provider calls', () => {
  const called = actionsCalled();
  assert.ok(called.has('ec2:RunInstances'), 'the scan finds the provider calls');
  assert.deepEqual([...actionsGranted('ec2')].sort(), [...called].sort());
});

test('the IAM policy grants exactly the S3 actions the artifact store calls, on the artifact bucket only', () => {
  const called = s3ActionsCalled();
  assert.ok(called.has('s3:PutObject') && called.has('s3:ListBucket'), 'the scan finds the store calls');
  assert.deepEqual([...actionsGranted('s3')].sort(), [...called].sort());
  for (const statement of statements().filter((s) => s.Action.some((a) => a.startsWith('s3:')))) {
    const resources = [statement.Resource].flat();
    assert.ok(
      resources.every((r) => r.startsWith('arn:aws:s3:::YOUR-ARTIFACT-BUCKET')),
      `S3 scoped to the bucket: ${resources.join(', ')}`,
    );
    const bucketLevel = statement.Action.includes('s3:ListBucket');
    assert.ok(
      resources.every((r) => r.endsWith('/*') !== bucketLevel),
      'ListBucket on the bucket, object actions on its objects',
    );
  }
});

/** Service Quotas calls go through a signed JSON POST whose target names the action (see service-quotas.ts). */
function serviceQuotasActionsCalled(): Set<string> {
  const actions = new Set<string>();
  for (const file of sourceFiles(join(packageRoot(), 'src'))) {
    for (const match of readFileSync(file, 'utf8').matchAll(/\$\{SERVICE_QUOTAS_TARGET\}\.([A-Za-z]+)/g)) {
      actions.add(`servicequotas:${match[1]}`);
    }
  }
  return actions;
}

test('the IAM policy grants exactly the Service Quotas actions the preflight calls', () => {
  const called = serviceQuotasActionsCalled();
  assert.ok(called.has('servicequotas:GetServiceQuota'), 'the scan finds the quota read');
  assert.deepEqual([...actionsGranted('servicequotas')].sort(), [...called].sort());
  const services = new Set(statements().flatMap((s) => s.Action.map((a) => a.split(':')[0])));
  assert.deepEqual([...services].sort(), ['ec2', 's3', 'servicequotas'], 'no other service is granted');
});
