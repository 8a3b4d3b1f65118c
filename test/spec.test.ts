import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { FailureType, type SpecProblem } from '../src/common/errors';
import { loadRunSpec, parseRunSpec } from '../src/spec/load';
import { validateRunSpec } from '../src/spec/validate';
import { packageRoot } from '../src/common/package-root';

const base = { name: 'tiny', provider: 'local', recipe: 'tiny-qa', training: { maxSteps: 10 } };

function problems(input: unknown): SpecProblem[] {
  const result = validateRunSpec(input);
  assert.equal(result.ok, false, 'expected the spec to be refused');
  return result.ok ? [] : result.problems;
}

function problemAt(input: unknown, path: string): string {
  const found = problems(input).find((p) => p.path === path);
  assert.ok(found, `expected a problem at ${path}, got ${JSON.stringify(problems(input))}`);
  return found.message;
}

describe('run spec', () => {
  it('accepts every example and applies defaults', async () => {
    const local = await loadRunSpec(join(packageRoot(), 'examples/local-tiny.yaml'));
    assert.equal(local.provider, 'local');
    assert.equal(local.nodes, 3);
    assert.equal(local.training.saveTotalLimit, 2);
    const aws = await loadRunSpec(join(packageRoot(), 'examples/distilbert-squad.yaml'));
    assert.equal(aws.provider, 'aws');
    assert.ok(aws.provider === 'aws' && aws.aws.instanceTypes.includes('r7iz.metal-16xl'));
    assert.equal(aws.training.bf16, true);
    const classifier = await loadRunSpec(join(packageRoot(), 'examples/local-tiny-cls.yaml'));
    assert.equal(classifier.recipe, 'tiny-cls');
    assert.deepEqual(classifier.promote, { metric: 'accuracy', min: 80, beatCurrent: true });
  });

  it('names the field and the reason for each kind of bad input', () => {
    assert.match(problemAt({ ...base, name: 'Bad Name!' }, 'name'), /lowercase.*got "Bad Name!"/);
    assert.match(problemAt({ ...base, recipe: 'gpt5' }, 'recipe'), /tiny-qa.*distilbert-squad/);
    assert.match(problemAt({ ...base, nodes: 0 }, 'nodes'), /0/);
    assert.match(problemAt({ ...base, nodes: 2.5 }, 'nodes'), /whole number.*2.5/);
    assert.match(problemAt({ name: 'x1', provider: 'local', training: { maxSteps: 1 } }, 'recipe'), /is required/);
    assert.match(problemAt({ ...base, training: { maxSteps: -3 } }, 'training.maxSteps'), /-3/);
    assert.match(problemAt({ ...base, training: { maxSteps: 5, epochs: 1 } }, 'training'), /exactly one of maxSteps or epochs/);
    assert.match(problemAt({ ...base, training: {} }, 'training'), /exactly one of maxSteps or epochs/);
    assert.match(problemAt({ ...base, trainig: {} }, '(spec)'), /unknown field\(s\) trainig/);
    assert.match(problemAt({ ...base, provider: 'gcp' }, 'provider'), /local|aws/);
    assert.match(
      problemAt({ ...base, training: { maxSteps: 1, extraArgs: { 'x; rm': 1 } } }, 'training.extraArgs.x; rm'),
      /argument names/,
    );
  });

  it('evaluates by default; training.evaluate: false turns it off', () => {
    const on = validateRunSpec(base);
    assert.ok(on.ok);
    assert.equal(on.spec.training.evaluate, true);
    const off = validateRunSpec({ ...base, training: { maxSteps: 10, evaluate: false } });
    assert.ok(off.ok);
    assert.equal(off.spec.training.evaluate, false);
    assert.match(problemAt({ ...base, training: { maxSteps: 10, evaluate: 'no' } }, 'training.evaluate'), /boolean/);
  });

  it('refuses SSH open to the world and zones outside the region, as the CLI checks them (not only the worker)', () => {
    const aws = {
      ...base,
      provider: 'aws',
      artifacts: 's3://my-bucket/runs',
      aws: {
        region: 'us-east-1',
        instanceTypes: ['m7i.large'],
        privateKeyPath: '/k',
        sshCidr: '0.0.0.0/0',
        availabilityZones: ['us-east-1a', 'eu-west-1a'],
      },
    };
    assert.match(problemAt(aws, 'aws.sshCidr'), /whole internet/);
    assert.match(problemAt(aws, 'aws.availabilityZones.1'), /not a zone of us-east-1/);
    const result = validateRunSpec({ ...aws, aws: { ...aws.aws, sshCidr: '203.0.113.7/32', availabilityZones: ['us-east-1a'] } });
    assert.ok(result.ok, JSON.stringify(!result.ok && result.problems));
  });

  it('refuses every trainer argument the run manages itself, naming the spec field to use', () => {
    for (const [name, field] of [
      ['output_dir', /output folder/],
      ['max_steps', /training\.maxSteps/],
      ['seed', /training\.seed/],
      ['resume', /resumes/],
      ['model_name_or_path', /set by model/],
    ] as const) {
      assert.match(
        problemAt({ ...base, training: { maxSteps: 10, extraArgs: { [name]: 'x' } } }, `training.extraArgs.${name}`),
        field,
      );
    }
  });

  it('refuses a NUL or any control character in any string of the spec before anything else', () => {
    assert.match(problemAt({ ...base, name: 'ab\u0000c' }, 'name'), /control character.*\\u0000/);
    assert.match(problemAt({ ...base, artifacts: { uri: 'file:///srv/\u001b[2J' } }, 'artifacts.uri'), /control character/);
  });

  it('refuses do_eval in extraArgs, pointing at training.evaluate', () => {
    for (const value of [true, false, 'yes']) {
      const message = problemAt(
        { ...base, training: { maxSteps: 10, extraArgs: { do_eval: value } } },
        'training.extraArgs.do_eval',
      );
      assert.match(message, /training\.evaluate/);
    }
    // Only the managed names are refused (and never through the prototype: "constructor" is an ordinary name).
    const other = validateRunSpec({ ...base, training: { maxSteps: 10, extraArgs: { warmup_steps: 5, constructor: 1 } } });
    assert.ok(other.ok, JSON.stringify(other));
  });

  it("the distilbert-squad preset is the post's run: 4 nodes, 2 ranks each, batch 32, 1 epoch, lr 5e-5, bf16, evaluated", async () => {
    const preset = await loadRunSpec(join(packageRoot(), 'examples/distilbert-squad.yaml'));
    const t = preset.training;
    assert.deepEqual(
      [
        preset.nodes,
        t.ranksPerNode,
        t.threadsPerRank,
        t.perDeviceBatchSize,
        t.gradientAccumulationSteps,
        t.epochs,
        t.learningRate,
        t.bf16,
        t.evaluate,
      ],
      [4, 2, 'auto', 32, 1, 1, 5e-5, true, true],
    );
  });

  it('checks the aws block: region, CIDR, image id, key path', () => {
    const aws = {
      ...base,
      provider: 'aws',
      aws: { region: 'mars-1', instanceTypes: ['r7iz.metal-16xl'], privateKeyPath: '/k', sshCidr: '0.0.0.0/33' },
    };
    assert.match(problemAt(aws, 'aws.region'), /AWS region/);
    assert.match(problemAt(aws, 'aws.sshCidr'), /CIDR/);
    assert.match(
      problemAt({ ...base, provider: 'aws', aws: { region: 'us-east-1', instanceTypes: [] } }, 'aws.instanceTypes'),
      /1/,
    );
    assert.ok(
      problems({ ...base, provider: 'aws', aws: { region: 'us-east-1', instanceTypes: ['m7i.48xlarge'] } }).some(
        (p) => p.path === 'aws.privateKeyPath',
      ),
    );
    const badAmi = {
      ...base,
      provider: 'aws',
      aws: { region: 'us-east-1', instanceTypes: ['m7i.48xlarge'], privateKeyPath: '/k', baseImage: { id: 'ami-xyz' } },
    };
    assert.ok(problems(badAmi).some((p) => p.path.startsWith('aws.baseImage')));
  });

  it('collects every problem at once', () => {
    const found = problems({ ...base, name: '', nodes: -1, training: { maxSteps: 0 } });
    assert.deepEqual(new Set(found.map((p) => p.path)), new Set(['name', 'nodes', 'training.maxSteps']));
  });

  it('reports YAML syntax errors and missing files as SpecInvalid', async () => {
    assert.throws(
      () => parseRunSpec('name: [unclosed'),
      (err: unknown) => err instanceof ApplicationFailure && err.type === FailureType.SpecInvalid && /\(yaml\)/.test(err.message),
    );
    await assert.rejects(
      loadRunSpec('/nonexistent/spec.yaml'),
      (err: unknown) => err instanceof ApplicationFailure && err.type === FailureType.SpecInvalid && /ENOENT/.test(err.message),
    );
  });

  it('is non-retryable, so a bad spec ends the run at once', () => {
    assert.throws(
      () => parseRunSpec('name: x'),
      (err: unknown) => err instanceof ApplicationFailure && err.nonRetryable === true,
    );
  });

  it('keeps the example files free of secrets', () => {
    const text = readFileSync(join(packageRoot(), 'examples/distilbert-squad.yaml'), 'utf8');
    assert.doesNotMatch(text, /PRIVATE KEY|aws_secret|AKIA/);
  });
});
