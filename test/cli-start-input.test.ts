// `tuneforge start` as a user runs it, with input an attacker would try: each is refused with exit 2 and
// the field named, before the CLI contacts Temporal (TEMPORAL_ADDRESS points where nothing listens).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { packageRoot } from '../src/common/package-root';

const MAIN = resolve(__dirname, '../src/client/main.js');
const SPEC = join(packageRoot(), 'examples/local-tiny.yaml');
const folder = mkdtempSync(join(tmpdir(), 'cli-start-'));

function start(...args: string[]): { status: number | null; stderr: string } {
  const result = spawnSync(process.execPath, [MAIN, 'start', ...args], {
    encoding: 'utf8',
    env: { ...process.env, TEMPORAL_ADDRESS: '127.0.0.1:1' },
    timeout: 60_000,
  });
  return { status: result.status, stderr: result.stderr };
}

function specFile(name: string, text: string): string {
  const path = join(folder, name);
  writeFileSync(path, text);
  return path;
}

describe('tuneforge start refuses bad input before anything starts', () => {
  const cases: Array<[string, () => string[], RegExp]> = [
    ['an id that is not a cluster name', () => [SPEC, '--id', 'Bad/ID'], /--id: "Bad\/ID" must be/],
    ['a 300-character id', () => [SPEC, '--id', 'x'.repeat(300)], /--id: "x{57}\.\.\." must be 1-100/],
    [
      'a YAML alias bomb',
      () => [
        specFile(
          'bomb.yaml',
          [
            'a: &a [x, x, x, x, x, x, x, x, x]',
            ...'bcdefgh'.split('').map((k, i) => `${k}: &${k} [${Array(9).fill(`*${'abcdefgh'[i]}`).join(', ')}]`),
          ].join('\n'),
        ),
      ],
      /\(yaml\): Excessive alias count/,
    ],
    [
      'a NUL byte in a string',
      () => [specFile('nul.yaml', 'name: "tiny\\0demo"\nprovider: local\nrecipe: tiny-qa\ntraining: {maxSteps: 1}\n')],
      /name: has a control character \(got "tiny\\u0000demo"\)/,
    ],
    [
      'an option smuggled into extraArgs',
      () => [
        specFile(
          'smuggle.yaml',
          'name: tiny\nprovider: local\nrecipe: tiny-qa\ntraining: {maxSteps: 1, extraArgs: {warmup_steps: "--output_dir=/srv/x"}}\n',
        ),
      ],
      /training\.extraArgs\.warmup_steps: values may not begin with "-"/,
    ],
    [
      'a managed trainer argument in extraArgs',
      () => [
        specFile(
          'managed.yaml',
          'name: tiny\nprovider: local\nrecipe: tiny-qa\ntraining: {maxSteps: 1, extraArgs: {output_dir: /srv/x}}\n',
        ),
      ],
      /training\.extraArgs\.output_dir: the run manages its output folder/,
    ],
    [
      'an instance type EC2 does not have',
      () => [
        specFile(
          'type.yaml',
          'name: tiny\nprovider: aws\nrecipe: tiny-qa\ntraining: {maxSteps: 1}\nartifacts: s3://my-bucket/r\naws: {region: us-east-1, instanceTypes: [r7iz.metal-99xl], privateKeyPath: /k, sshCidr: 203.0.113.7/32}\n',
        ),
      ],
      /aws\.instanceTypes\.0: r7iz\.metal-99xl is not an EC2 instance type/,
    ],
    [
      'an SSH key file that does not exist',
      () => [
        specFile(
          'no-key.yaml',
          'name: tiny\nprovider: aws\nrecipe: tiny-qa\ntraining: {maxSteps: 1}\nartifacts: s3://my-bucket/r\naws: {region: us-east-1, instanceTypes: [r7iz.metal-16xl], privateKeyPath: /nonexistent/tf-key, sshCidr: 203.0.113.7/32}\n',
        ),
      ],
      /aws\.privateKeyPath: \/nonexistent\/tf-key does not exist \(ENOENT\)/,
    ],
    [
      'an SSH key path that is a folder',
      () => [
        specFile(
          'folder-key.yaml',
          `name: tiny\nprovider: aws\nrecipe: tiny-qa\ntraining: {maxSteps: 1}\nartifacts: s3://my-bucket/r\naws: {region: us-east-1, instanceTypes: [r7iz.metal-16xl], privateKeyPath: ${folder}, sshCidr: 203.0.113.7/32}\n`,
        ),
      ],
      /aws\.privateKeyPath: \S+ is a folder, not a key file \(EISDIR\)/,
    ],
    ['a spec file that does not exist', () => [join(folder, 'missing.yaml')], /\(file\): cannot read/],
  ];
  for (const [name, args, message] of cases) {
    it(name, () => {
      const { status, stderr } = start(...args());
      assert.equal(status, 2, stderr);
      assert.match(stderr, message);
      assert.doesNotMatch(stderr, /cannot reach the Temporal server/, 'refused before contacting Temporal');
      assert.doesNotMatch(stderr, /[\u0000-\u0008\u000b-\u001f]/, 'no raw control character printed');
    });
  }
});
