// Real runs of one name on the local provider (real nodes, training and scores): the first is promoted,
// a worse one is not and leaves the current pointer byte for byte, a better one is promoted; read back
// from current.json, each run.json and `tuneforge models --json`. The runs are question answering on the
// preset's model with their data in JSON Lines in (moto) S3, as a scheduled run reads its data.
import assert from 'node:assert/strict';
import { qaF1 } from './helpers/scores';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { formatArtifactUri, runArtifactsUri } from '../src/artifacts/artifact-uri';
import type { ModelHistory } from '../src/client/commands/models';
import { WORKFLOW_TYPE } from '../src/common/names';
import type { RunSummary } from '../src/workflows/definitions';
import { removeClustersStartingWith, testDeps } from './helpers/local-lab';
import { motoUnavailableReason, startMoto, type MotoServer } from './helpers/moto';
import { packageRoot } from '../src/common/package-root';
import { realActivities, TEMPORAL_ADDRESS, testClient, uniqueId, withWorker } from './helpers/temporal';

const CLI = join(__dirname, '..', 'src', 'client', 'main.js');
const NAME = 'promo-e2e';
const RECIPE_PYTHON = join(packageRoot(), '.tools/recipe-venv/bin/python');
const BUCKET = 'promo-e2e-data';
const DATA = { train: `s3://${BUCKET}/squad/train.jsonl`, validation: `s3://${BUCKET}/squad/eval.jsonl` };

/** examples/local-tiny.yaml, made small: two nodes, a few steps; tiny-qa's rows, read from S3. */
function specOf(artifacts: string, maxSteps: number, min: number) {
  return {
    name: NAME,
    provider: 'local',
    recipe: 'tiny-qa',
    data: DATA,
    nodes: 2,
    training: { maxSteps, perDeviceBatchSize: 8, saveSteps: 10, saveTotalLimit: 2, seed: 42 },
    sanity: { maxSteps: 2 },
    artifacts,
    promote: { metric: 'f1', min },
  };
}

/** tiny-qa's own train and eval rows as JSON Lines objects in a moto bucket. */
async function putTinyQaRows(s3: S3Client, scratch: string): Promise<void> {
  execFileSync(RECIPE_PYTHON, [join(packageRoot(), 'recipes/tiny-qa/make_assets.py'), '--out', scratch]);
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  for (const [file, uri] of [
    ['train.json', DATA.train],
    ['eval.json', DATA.validation],
  ] as const) {
    const rows = (JSON.parse(await readFile(join(scratch, 'data', file), 'utf8')) as { data: unknown[] }).data;
    const Body = rows.map((row) => JSON.stringify(row)).join('\n') + '\n';
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: uri.slice(`s3://${BUCKET}/`.length), Body }));
  }
}

describe('promotion across real local runs of one name', { skip: motoUnavailableReason() }, () => {
  let root = '';
  let moto: MotoServer | undefined;
  after(async () => {
    await removeClustersStartingWith(`${NAME}-`);
    if (root) await rm(root, { recursive: true, force: true });
    await moto?.stop();
  });

  it('promotes the first run, not a worse one (pointer unchanged), then a better one', { timeout: 15 * 60_000 }, async () => {
    root = await mkdtemp(join(tmpdir(), 'tuneforge-promo-e2e-'));
    const base = formatArtifactUri({ kind: 'file', path: root });
    const pointerPath = join(root, NAME, 'current.json');
    moto = await startMoto();
    const s3 = new S3Client({ region: 'us-east-1', endpoint: moto.endpoint, forcePathStyle: true });
    await putTinyQaRows(s3, join(root, 'assets'));
    const { client: signals, close } = await testClient();
    const deps = testDeps({
      reportProgress: async (id, update) => signals.workflow.getHandle(id).signal('trainingProgress', update),
      s3Client: () => s3,
    });
    const [first, worse, better] = ['first', 'worse', 'better'].map((n) => uniqueId(`${NAME}-${n}`)) as [string, string, string];
    try {
      await withWorker(realActivities(deps), async ({ client, taskQueue }) => {
        const run = async (workflowId: string, maxSteps: number, min: number) =>
          (await client.workflow.execute(WORKFLOW_TYPE, {
            taskQueue,
            workflowId,
            args: [{ spec: specOf(base, maxSteps, min) }],
          })) as RunSummary;

        const one = await run(first, 4, 0);
        const f1First = qaF1(one.training.eval);
        assert.equal(typeof f1First, 'number');
        assert.equal(one.promotion?.promoted, true, one.promotion?.reason);
        const pointerAfterFirst = await readFile(pointerPath, 'utf8');
        const pointer = JSON.parse(pointerAfterFirst);
        assert.equal(pointer.workflowId, first);
        assert.equal(pointer.model, `${runArtifactsUri(base, NAME, first)}model/`);
        assert.equal(pointer.value, f1First);
        // The pointer names a complete model: it was written after delivery.
        await readFile(join(root, NAME, first, 'model', 'config.json'), 'utf8');

        // Fewer steps and a threshold no tiny model meets: the run succeeds, keeps its model, is not promoted.
        const two = await run(worse, 2, 99);
        assert.equal(two.promotion?.promoted, false);
        assert.match(two.promotion?.reason ?? '', /is below the minimum 99\.00/);
        assert.deepEqual(two.promotion?.current, { workflowId: first, value: f1First });
        assert.equal(await readFile(pointerPath, 'utf8'), pointerAfterFirst, 'the pointer is byte for byte unchanged');
        await readFile(join(root, NAME, worse, 'model', 'config.json'), 'utf8');
        const worseRecord = JSON.parse(await readFile(join(root, NAME, worse, 'run.json'), 'utf8'));
        assert.equal(worseRecord.outcome, 'succeeded');
        assert.equal(worseRecord.task, 'question-answering');
        assert.equal(worseRecord.data.train.source, DATA.train, 'the QA run read its JSON Lines from S3');
        assert.ok(worseRecord.data.train.rows > 0);
        assert.deepEqual(worseRecord.promotion, two.promotion);

        const three = await run(better, 30, 0);
        const f1Better = qaF1(three.training.eval) ?? 0;
        assert.ok(f1Better > (f1First ?? 0), `30 steps (${f1Better}) beat 4 (${f1First})`);
        assert.equal(three.promotion?.promoted, true, three.promotion?.reason);
        assert.equal(JSON.parse(await readFile(pointerPath, 'utf8')).workflowId, better);
      });
    } finally {
      await close();
    }

    const history = JSON.parse(
      execFileSync(process.execPath, [CLI, 'models', NAME, '--json'], {
        encoding: 'utf8',
        env: { ...process.env, TEMPORAL_ADDRESS },
      }),
    ) as ModelHistory;
    assert.equal(history.uri, `${base}${NAME}/`);
    assert.equal(history.current?.workflowId, better);
    assert.deepEqual(
      history.runs.map((r) => [r.workflowId, r.outcome, r.promoted, r.current]),
      [
        [better, 'succeeded', true, true],
        [worse, 'succeeded', false, false],
        [first, 'succeeded', true, false],
      ],
    );
    for (const r of history.runs) assert.equal(typeof r.metrics.f1, 'number');
  });
});
