import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { FailureType, type SpecProblem } from '../src/common/errors';
import { loadRunSpec, parseRunSpec } from '../src/run-spec/load';
import { validateRunSpec } from '../src/run-spec/validate';
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
    // A real TrainingArguments name passes; "constructor" is looked up as a name, never through the prototype.
    const other = validateRunSpec({ ...base, training: { maxSteps: 10, extraArgs: { warmup_steps: 5 } } });
    assert.ok(other.ok, JSON.stringify(other));
    const proto = problemAt({ ...base, training: { maxSteps: 10, extraArgs: { constructor: 1 } } }, 'training.extraArgs.constructor');
    assert.match(proto, /^unknown trainer argument "constructor"/);
  });

  it('refuses an extraArgs name the trainers do not know, naming the nearest one, before anything launches', () => {
    const at = (name: string) => problemAt({ ...base, training: { maxSteps: 10, extraArgs: { [name]: 1 } } }, `training.extraArgs.${name}`);
    assert.match(at('lr_sheduler_type'), /^unknown trainer argument "lr_sheduler_type"; did you mean lr_scheduler_type\?/);
    assert.match(at('optimm'), /did you mean optim\?/);
    assert.match(at('warmup_step'), /did you mean warmup_steps\?/);
    // Nothing near: no guess.
    assert.match(at('frobnicate_everything'), /^unknown trainer argument "frobnicate_everything" \(got 1\)$/);
    const real = validateRunSpec({
      ...base,
      training: { maxSteps: 10, extraArgs: { lr_scheduler_type: 'cosine', warmup_steps: 0.1, optim: 'sgd', weight_decay: 0.01 } },
    });
    assert.ok(real.ok, JSON.stringify(real));
  });

  it('refuses the names the trainer fixes itself, saying why', () => {
    for (const [name, why] of [
      ['use_cpu', /CPU/],
      ['ddp_backend', /backend/],
      ['save_strategy', /training\.saveSteps/],
      ['logging_strategy', /progress/],
      ['eval_strategy', /training\.evaluate/],
      ['report_to', /tracker/],
      ['disable_tqdm', /progress bars/],
      ['average_tokens_across_devices', /same mean loss/],
      ['max_seq_length', /training\.maxSeqLength/],
      ['doc_stride', /training\.docStride/],
    ] as const) {
      assert.match(problemAt({ ...base, training: { maxSteps: 10, extraArgs: { [name]: 'x' } } }, `training.extraArgs.${name}`), why);
    }
  });

  it('checks maxSeqLength and docStride: bounds, docStride for QA only and below the effective maxSeqLength', () => {
    const training = (t: object) => ({ ...base, training: { maxSteps: 10, ...t } });
    assert.ok(validateRunSpec(training({ maxSeqLength: 256, docStride: 64 })).ok);
    assert.match(problemAt(training({ maxSeqLength: 8 }), 'training.maxSeqLength'), /16/);
    assert.match(problemAt(training({ maxSeqLength: 9000 }), 'training.maxSeqLength'), /8192/);
    assert.match(problemAt(training({ maxSeqLength: 100.5 }), 'training.maxSeqLength'), /whole number/);
    assert.match(problemAt(training({ maxSeqLength: 128, docStride: 128 }), 'training.docStride'), /less than maxSeqLength/);
    // tiny-qa strides 32: a window of 24 written in the spec cannot hold it.
    assert.match(problemAt(training({ maxSeqLength: 24 }), 'training.maxSeqLength'), /docStride \(32, preset tiny-qa\)/);
    // The task default (384) decides for a spec without a preset.
    const qa = {
      name: 'qa',
      provider: 'local',
      task: 'question-answering',
      model: '/m',
      data: { train: '/d/t.json', validation: '/d/v.json' },
    };
    assert.match(problemAt({ ...qa, training: { maxSteps: 1, docStride: 400 } }, 'training.docStride'), /maxSeqLength \(384, task default\)/);
    assert.ok(validateRunSpec({ ...qa, training: { maxSteps: 1, docStride: 300 } }).ok);
    const cls = { ...base, recipe: 'tiny-cls' };
    assert.match(problemAt({ ...cls, training: { maxSteps: 1, docStride: 16 } }, 'training.docStride'), /question-answering only/);
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
