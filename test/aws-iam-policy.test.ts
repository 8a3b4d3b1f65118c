// docs/iam-policy.json grants exactly the EC2 actions the AWS provider calls: no more, no less.
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

function actionsCalled(): Set<string> {
  const actions = new Set<string>();
  for (const file of sourceFiles(join(packageRoot(), 'src', 'providers', 'aws'))) {
    const source = readFileSync(file, 'utf8');
    for (const match of source.matchAll(/new ([A-Z][A-Za-z0-9]*)Command\(/g)) actions.add(`ec2:${match[1]}`);
    const sdkImports = [...source.matchAll(/import\s*\{([^}]*)\}\s*from\s*'@aws-sdk\/client-ec2'/g)].map((match) => match[1] ?? '');
    const waiters = sdkImports.flatMap((names) => names.split(',').map((name) => name.trim())).filter((name) => name.startsWith('waitUntil'));
    for (const waiter of waiters) {
      const action = WAITER_ACTIONS[waiter];
      assert.ok(action !== undefined, `${file} uses ${waiter}: add the action it polls with to WAITER_ACTIONS`);
      actions.add(`ec2:${action}`);
    }
  }
  return actions;
}

function actionsGranted(): Set<string> {
  const policy = JSON.parse(readFileSync(join(packageRoot(), 'docs', 'iam-policy.json'), 'utf8')) as {
    Statement: { Effect: string; Action: string[] }[];
  };
  return new Set(policy.Statement.filter((statement) => statement.Effect === 'Allow').flatMap((statement) => statement.Action));
}

test('the IAM policy grants exactly the EC2 actions the provider calls', () => {
  const called = actionsCalled();
  assert.ok(called.has('ec2:RunInstances'), 'the scan finds the provider calls');
  assert.deepEqual([...actionsGranted()].sort(), [...called].sort());
});
