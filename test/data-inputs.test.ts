// A run's own data: checked on the worker before anything is launched (local CSV, moto S3 JSON Lines),
// refused with the field, file, row and column; staged content-addressed on a real local node, fetched
// from S3 by the node itself; content changed between the check and the staging fails the run typed.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, symlink, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createInputActivities } from '../src/activities/run-inputs';
import type { NodeRecord, RunContext } from '../src/activities/types';
import type { NodeEndpoint } from '../src/artifacts/artifact-store';
import { FailureType, type SpecProblem } from '../src/common/errors';
import { packageRoot } from '../src/common/package-root';
import { createStoreOpener } from '../src/artifacts/open-store';
import { WORKFLOW_TYPE } from '../src/common/names';
import { checkInputs, type CheckedInputs } from '../src/data/check-inputs';
import { REMOTE } from '../src/recipes/remote-paths';
import { createRemoteShell, sshTarget } from '../src/remote/remote-shell';
import { validateRunSpec } from '../src/run-spec/validate';
import { liveNodeProcesses, testDeps, testProvider } from './helpers/local-lab';
import { motoUnavailableReason, startMoto, type MotoServer } from './helpers/moto';
import { realActivities, uniqueId, withWorker } from './helpers/temporal';

const skip = motoUnavailableReason();
const remote = createRemoteShell();

function specWith(data: object, extra: object = {}) {
  const result = validateRunSpec({
    name: 'data-test',
    provider: 'local',
    task: 'text-classification',
    model: 'org/tiny-model',
    data,
    training: { maxSteps: 2 },
    ...extra,
  });
  assert.ok(result.ok, JSON.stringify(result));
  return result.spec;
}

/** The activity's failure: its type and the one problem it names. */
async function refusal(run: () => Promise<unknown>): Promise<{ type: string | undefined; problem: SpecProblem }> {
  try {
    await run();
  } catch (err) {
    assert.ok(err instanceof ApplicationFailure, String(err));
    const problems = (err.details?.[0] as { problems?: SpecProblem[] } | undefined)?.problems ?? [];
    const [problem] = problems;
    return { type: err.type ?? undefined, problem: problem ?? { path: '', message: err.message } };
  }
  assert.fail('expected the activity to refuse');
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

describe('data checked before launch', { skip }, () => {
  let dir: string;
  let moto: MotoServer;
  let s3: S3Client;
  const bucket = uniqueId('data').slice(0, 60);
  let activities: ReturnType<typeof createInputActivities>;
  const check = (ctx: RunContext) => new MockActivityEnvironment().run(activities.checkInputs, ctx) as Promise<CheckedInputs>;
  const file = async (name: string, text: string) => {
    const path = join(dir, name);
    await writeFile(path, text);
    return path;
  };
  const good = 'text,label\ngreat film,pos\nawful,neg\nfine,"pos"\n';

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tuneforge-data-'));
    moto = await startMoto();
    s3 = new S3Client({ region: 'us-east-1', endpoint: moto.endpoint, forcePathStyle: true });
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    activities = createInputActivities(testDeps({ s3Client: () => s3, openStore: createStoreOpener(() => s3) }));
  });

  after(async () => {
    await rm(dir, { recursive: true, force: true });
    await moto?.stop();
  });

  const cases: Array<[string, string, string, string, RegExp]> = [
    [
      'a missing label column',
      'text,stars\na,1\nb,2\n',
      good,
      'data.train',
      /train\.csv: column label: missing \(the header has "text", "stars"\)/,
    ],
    ['an empty label', 'text,label\na,pos\nb,\n', good, 'data.train', /train\.csv: row 2: column label: must be a non-empty/],
    [
      'one class',
      'text,label\na,pos\nb,pos\n',
      'text,label\nc,pos\n',
      'data.train',
      /train\.csv: column label: has one class only \("pos"\)/,
    ],
    [
      'a validation label absent from training',
      good,
      'text,label\nx,pos\ny,meh\n',
      'data.validation',
      /eval\.csv: row 2: column label: label\(s\) "meh" absent from training/,
    ],
    ['an empty validation split', good, 'text,label\n', 'data.validation', /eval\.csv: has no rows \(empty split\)/],
    [
      'a row with a field too many',
      'text,label\na,pos\nb,neg,extra\n',
      good,
      'data.train',
      /train\.csv: row 2: has 3 fields, the header 2/,
    ],
    ['an unclosed quote', 'text,label\n"a,pos\n', good, 'data.train', /train\.csv: row 1: ends inside a quoted field/],
  ];
  cases.push([
    'a terminal escape as a label (shown escaped)',
    good,
    'text,label\nx,\u001b[31mred\n',
    'data.validation',
    /label\(s\) "\\u001b\[31mred" absent/,
  ]);
  for (const [what, train, validation, field, message] of cases) {
    it(`refuses ${what} in a local CSV, naming ${field}, the file, row and column`, async () => {
      const spec = specWith({ train: await file('train.csv', train), validation: await file('eval.csv', validation) });
      const { type, problem } = await refusal(() => check({ clusterId: 'c', spec }));
      assert.equal(type, FailureType.SpecInvalid);
      assert.equal(problem.path, field);
      assert.match(problem.message, message);
    });
  }

  it("refuses paths outside the worker's input folders, a link out of them included", async () => {
    const allowed = join(dir, 'allowed');
    await mkdir(allowed, { recursive: true });
    const inside = join(allowed, 'eval.csv');
    await writeFile(inside, good);
    const secret = await file('secret.csv', 'text,label\ntop,secret\nmore,secrets\n');
    await symlink(secret, join(allowed, 'link.csv'));
    const guarded = createInputActivities(testDeps({ s3Client: () => s3, localInputRoots: [allowed] }));
    for (const [train, what] of [
      [secret, 'a file outside'],
      [join(allowed, 'link.csv'), 'a link to a file outside'],
    ] as const) {
      const spec = specWith({ train, validation: inside });
      const { problem } = await refusal(() => new MockActivityEnvironment().run(guarded.checkInputs, { clusterId: 'c', spec }));
      assert.equal(problem.path, 'data.train', what);
      assert.match(problem.message, /outside the folders this worker reads inputs from \(TUNEFORGE_INPUT_ROOTS/, what);
    }
    const modelSpec = specWith({ train: inside, validation: inside }, { model: { path: dir } });
    const { problem } = await refusal(() =>
      new MockActivityEnvironment().run(guarded.checkInputs, { clusterId: 'c', spec: modelSpec }),
    );
    assert.equal(problem.path, 'model');
  });

  it('refuses a file that is not there, naming it', async () => {
    const spec = specWith({ train: join(dir, 'nope.csv'), validation: await file('eval.csv', good) });
    const { problem } = await refusal(() => check({ clusterId: 'c', spec }));
    assert.equal(problem.path, 'data.train');
    assert.match(problem.message, /nope\.csv: no such file/);
  });

  it('refuses a QA row of moto S3 JSON Lines without its question, naming the URI, row and column', async () => {
    const row = (id: number, extra: object = {}) =>
      JSON.stringify({
        id: String(id),
        context: 'Paris is in France.',
        question: 'Where?',
        answers: { text: ['France'], answer_start: [12] },
        ...extra,
      });
    const bad = [row(1), row(2), JSON.stringify({ id: '3', context: 'c', answers: { text: ['c'], answer_start: [0] } })].join(
      '\n',
    );
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'qa/train.jsonl', Body: bad }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'qa/eval.jsonl', Body: `${row(9)}\n` }));
    const spec = specWith(
      { train: `s3://${bucket}/qa/train.jsonl`, validation: `s3://${bucket}/qa/eval.jsonl` },
      { task: 'question-answering' },
    );
    const { problem } = await refusal(() => check({ clusterId: 'c', spec }));
    assert.equal(problem.path, 'data.train');
    assert.equal(problem.message, `s3://${bucket}/qa/train.jsonl: row 3: column question: missing`);
  });

  it('hashes S3 and local files whole and counts their rows', async () => {
    const rows = ['{"text": "a", "label": 1}', '{"text": "b", "label": 0}', '{"text": "c", "label": 1}'].join('\n');
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'cls/train.jsonl', Body: rows }));
    const evalPath = await file('eval-int.csv', 'text,label\nx,1\ny,0\n');
    const checked = await check({
      clusterId: 'c',
      spec: specWith({ train: `s3://${bucket}/cls/train.jsonl`, validation: evalPath }),
    });
    assert.deepEqual(checked.train, {
      kind: 'uri',
      source: `s3://${bucket}/cls/train.jsonl`,
      format: 'jsonl',
      sha256: sha256(rows),
      bytes: Buffer.byteLength(rows),
      rows: 3,
      truncated: false,
      labels: ['0', '1'],
    });
    assert.equal('sha256' in checked.validation && checked.validation.sha256, sha256('text,label\nx,1\ny,0\n'));
  });

  it('checks only the first bytes of a long file (and says so), hashing all of it', async () => {
    const long = `text,label\n${Array.from({ length: 2000 }, (_, i) => `row ${i},${i % 2 ? 'a' : 'b'}`).join('\n')}\n`;
    const path = await file('long.csv', long);
    const validation = await file('eval.csv', 'text,label\nx,a\ny,b\n');
    const checked = await checkInputs(specWith({ train: path, validation }), {
      s3Client: () => s3,
      openStore: () => assert.fail('no store'),
      region: 'us-east-1',
      limitBytes: 1000,
    });
    assert.ok('sha256' in checked.train);
    assert.equal(checked.train.truncated, true);
    assert.ok(checked.train.rows < 2000 && checked.train.rows > 10, String(checked.train.rows));
    assert.equal(checked.train.sha256, sha256(long));
  });

  it('ends a run whose data is refused before any node is launched', async () => {
    const spec = specWith({ train: await file('train.csv', 'text,stars\na,1\n'), validation: await file('eval.csv', good) });
    const workflowId = uniqueId('data-refused');
    const error = await withWorker(realActivities(testDeps({ s3Client: () => s3 })), async ({ client, taskQueue }) =>
      client.workflow.execute(WORKFLOW_TYPE, { taskQueue, workflowId, args: [{ spec }] }).then(
        () => assert.fail('the run should fail'),
        (err: unknown) => err,
      ),
    );
    const cause = (error as { cause?: { cause?: ApplicationFailure } }).cause?.cause;
    assert.equal(cause?.type, FailureType.SpecInvalid, String(error));
    assert.match(cause?.message ?? '', /data\.train: .*train\.csv: column label: missing/);
    assert.equal(await liveNodeProcesses(workflowId), 0);
    assert.deepEqual(await testProvider.listNodes({ clusterId: workflowId, runName: spec.name }), []);
  });
});

describe('data staged on a real node', { skip }, () => {
  let dir: string;
  let moto: MotoServer;
  let s3: S3Client;
  let node: NodeEndpoint;
  let master: NodeRecord;
  const bucket = uniqueId('stage').slice(0, 60);
  const cluster = { clusterId: uniqueId('stage'), runName: 'data-test' };
  let activities: ReturnType<typeof createInputActivities>;
  const run = <R>(fn: (input: never) => Promise<R>, input: unknown) =>
    new MockActivityEnvironment().run(fn, input as never) as Promise<R>;
  const onNode = async (command: string) => (await remote.check(node.target, command, { label: 'test' })).stdout;
  const trainCsv = 'text,label\nlovely,pos\nbad,neg\n';
  const evalJsonl = '{"text": "good", "label": "pos"}\n{"text": "poor", "label": "neg"}\n';

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tuneforge-stage-'));
    moto = await startMoto();
    s3 = new S3Client({ region: 'us-east-1', endpoint: moto.endpoint, forcePathStyle: true });
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    activities = createInputActivities(testDeps({ s3Client: () => s3, openStore: createStoreOpener(() => s3) }));
    const [launched] = await testProvider.launchNodes({ cluster, role: 'master', names: ['master'] });
    assert.ok(launched);
    master = launched;
    node = { remote, target: sshTarget(master, await testProvider.sshIdentity()) };
    await remote.upload(
      node.target,
      `${REMOTE.recipe}/common/transfer.py`,
      await readFile(join(packageRoot(), 'recipes/common/transfer.py')),
    );
  });

  after(async () => {
    await testProvider.terminateNodes(cluster);
    await testProvider.cleanup(cluster);
    await rm(dir, { recursive: true, force: true });
    await moto?.stop();
  });

  async function context(train: string, validation: string, model: object = { hub: 'org/m' }): Promise<RunContext> {
    const spec = specWith({ train, validation }, { model });
    const ctx = { clusterId: cluster.clusterId, spec };
    return { ...ctx, inputs: await run(activities.checkInputs, ctx) };
  }

  it('puts a local CSV, an S3 JSON Lines object and a model folder where the trainer reads them; a second call copies nothing', async () => {
    const train = join(dir, 'train.csv');
    await writeFile(train, trainCsv);
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'sets/eval.jsonl', Body: evalJsonl }));
    const modelDir = join(dir, 'model');
    await mkdir(modelDir);
    await writeFile(join(modelDir, 'config.json'), '{"model_type": "bert"}');
    const ctx = await context(train, `s3://${bucket}/sets/eval.jsonl`, { path: modelDir });
    const [first] = await run(activities.stageInputs, { ...ctx, nodes: [master] });
    assert.deepEqual(first?.copied, [train, `s3://${bucket}/sets/eval.jsonl`, modelDir]);
    assert.equal(await onNode(`cat ${REMOTE.inputs}/train.csv`), trainCsv);
    assert.equal(await onNode(`cat ${REMOTE.inputs}/validation.jsonl`), evalJsonl);
    assert.equal(await onNode(`cat ${REMOTE.inputs}/model/config.json`), '{"model_type": "bert"}');
    assert.match(await onNode(`readlink ${REMOTE.inputs}/train.csv`), new RegExp(`data/${sha256(trainCsv)}/data.csv`));
    const [second] = await run(activities.stageInputs, { ...ctx, nodes: [master] });
    assert.deepEqual(second?.copied, [], 'everything was there with the right hash');
  });

  it("downloads a model given as an artifact URI (an earlier run's model/) with the store, from S3 or a folder", async () => {
    const train = join(dir, 'train-for-uri.csv');
    await writeFile(train, trainCsv);
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'runs/prev/wf-1/model/config.json', Body: '{"from": "s3"}' }));
    await mkdir(join(dir, 'store/prev/wf-2/model'), { recursive: true });
    await writeFile(join(dir, 'store/prev/wf-2/model/config.json'), '{"from": "folder"}');
    for (const [uri, expected] of [
      [`s3://${bucket}/runs/prev/wf-1/model`, '{"from": "s3"}'],
      [`file://${dir}/store/prev/wf-2/model`, '{"from": "folder"}'],
    ] as const) {
      const ctx = await context(train, train, { uri });
      assert.deepEqual(ctx.inputs?.model, { kind: 'uri', source: uri, files: 1 });
      await run(activities.stageInputs, { ...ctx, nodes: [master] });
      assert.equal(await onNode(`cat ${REMOTE.inputs}/model/config.json`), expected);
    }
  });

  it('fails typed (DataChanged) when a local file changed between the check and the staging, leaving nothing of it', async () => {
    const train = join(dir, 'moving.csv');
    await writeFile(train, 'text,label\nfirst,pos\nsecond,neg\n');
    const ctx = await context(train, train);
    await writeFile(train, 'text,label\nfirst,pos\nsecond,pos\n');
    const { type } = await refusal(() => run(activities.stageInputs, { ...ctx, nodes: [master] }));
    assert.equal(type, FailureType.DataChanged);
    const checked = ctx.inputs?.train;
    assert.ok(checked && 'sha256' in checked);
    assert.equal(await onNode(`ls ${REMOTE.data}/${checked.sha256}/ 2>/dev/null | wc -l`), '0\n');
  });

  // Hub datasets need the network, so a stand-in for recipes/common/check_data.py (tested by pytest) keeps its contract: one JSON line
  // on stdout and exit 0, or one `check_data: <dataset:split>: ...` line on stderr and exit 65.
  const STUB_CHECK_DATA = [
    'import json, sys',
    'args = sys.argv[1:]',
    'name = args[args.index("--dataset_name") + 1]',
    'split = args[args.index("--validation_split") + 1] if "--validation_split" in args else "validation"',
    'if name == "org/missing":',
    '    print(f"check_data: {name}:train: cannot load the dataset (not found or unreachable)", file=sys.stderr); sys.exit(65)',
    'if name == "org/unseen":',
    '    print(f"check_data: {name}:{split}: row 3: column label: label meh absent from training", file=sys.stderr); sys.exit(65)',
    'print(json.dumps({"train_rows": 8, "validation_rows": 2, "labels": ["neg", "pos"], "args": args}))',
  ].join('\n');

  it('checks a hub dataset on the master with check_data.py, naming the field of a refusal', async () => {
    await onNode(`mkdir -p ${REMOTE.venv}/bin && ln -sf "$(command -v python3)" ${REMOTE.python}`);
    await remote.upload(node.target, `${REMOTE.recipe}/common/check_data.py`, STUB_CHECK_DATA);
    const hubSpec = (id: string) => specWith({ train: { hub: id, split: 'train' }, validation: { hub: id, split: 'test' } });
    const input = (id: string) => ({ clusterId: cluster.clusterId, spec: hubSpec(id), master });
    const ok = await run(activities.checkHubData, input('org/reviews'));
    assert.deepEqual(ok, { trainRows: 8, validationRows: 2, labels: ['neg', 'pos'] });
    const missing = await refusal(() => run(activities.checkHubData, input('org/missing')));
    assert.equal(missing.type, FailureType.SpecInvalid);
    assert.equal(missing.problem.path, 'data.train');
    assert.match(missing.problem.message, /org\/missing:train: cannot load the dataset/);
    const unseen = await refusal(() => run(activities.checkHubData, input('org/unseen')));
    assert.equal(unseen.problem.path, 'data.validation');
    assert.match(unseen.problem.message, /org\/unseen:test: row 3: column label: label meh absent/);
  });

  it('fails typed (DataChanged) when the S3 object changed between the check and the node fetching it', async () => {
    // Content no earlier test staged: a copy already on the node with the checked hash would rightly be kept.
    const before = '{"text": "s3 first", "label": "pos"}\n{"text": "s3 second", "label": "neg"}\n';
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'sets/moving.jsonl', Body: before }));
    const uri = `s3://${bucket}/sets/moving.jsonl`;
    const ctx = await context(uri, uri);
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'sets/moving.jsonl', Body: before.replace('first', 'forst') }));
    const { type } = await refusal(() => run(activities.stageInputs, { ...ctx, nodes: [master] }));
    assert.equal(type, FailureType.DataChanged);
  });
});
