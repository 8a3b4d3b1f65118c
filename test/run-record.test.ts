// run.json's schema from both ends: the record the workflow writes conforms; a malformed record is refused on
// write (record-run) and on read (the promotion gate, `tuneforge models`) with an error naming the field; records
// written before the schema still read; docs/run-record.schema.json is the schema the code checks.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { promoteInStore } from '../src/activities/promote-model';
import { createFolderStore } from '../src/artifacts/folder-store';
import { checkedRunRecord, readRunRecord, RunRecordInvalid, runRecordProblems } from '../src/artifacts/run-record-file';
import { readModelHistory } from '../src/client/commands/models';
import { packageRoot } from '../src/common/package-root';
import { CURRENT_POINTER_KEY } from '../src/common/promotion';
import { RUN_RECORD_SCHEMA, type RunRecord } from '../src/records/run-record';

function goodRecord(): RunRecord {
  return {
    workflowId: 'wf-1',
    runName: 'nightly',
    outcome: 'succeeded',
    error: null,
    startedAt: '2026-12-06T10:00:00.000Z',
    endedAt: '2026-12-06T10:05:00.000Z',
    spec: { name: 'nightly', recipe: 'tiny-qa' },
    recipeFingerprint: 'abc123',
    packages: { torch: '2.5.1' },
    task: 'question-answering',
    model: { source: 'preset tiny-qa' },
    data: { train: { source: 'data/train.jsonl', sha256: 'a'.repeat(64), rows: 64 }, validation: { source: 'bundled' } },
    modelUri: 'file:///store/nightly/wf-1/model/',
    evaluation: null,
    throughput: { sanitySamplesPerSecond: 10, samplesPerSecond: 30, stepsPerSecond: 2 },
    training: {
      globalStep: 20,
      worldSize: 2,
      firstLoss: 5,
      finalLoss: 2,
      evalLoss: null,
      samplesPerSecond: 30,
      stepsPerSecond: 2,
      runtimeSeconds: 10,
      lastCheckpoint: null,
      resumedStep: 0,
      epochs: 1,
      eval: { exactMatch: 50, f1: 60, samples: 16 },
      metrics: { exact_match: 50, f1: 60 },
    },
    bf16: null,
    metrics: { exact_match: 50, f1: 60 },
    promotion: { metric: 'f1', value: 60, min: 10, promoted: true, reason: 'no model is current yet' },
    lossCurve: [{ step: 1, loss: 5 }],
    steps: [],
    nodes: [],
    nodesLaunched: 2,
    recoveries: [],
    costUsd: 0,
    nodesLeft: 0,
  };
}

function refusal(value: unknown): RunRecordInvalid {
  try {
    readRunRecord(value, 'store/wf-1/run.json');
  } catch (err) {
    assert.ok(err instanceof RunRecordInvalid, `refused with RunRecordInvalid, got ${String(err)}`);
    return err;
  }
  assert.fail('the malformed record was read');
}

describe('run.json schema', () => {
  it('accepts the record the workflow writes, on write and on read', () => {
    const record = goodRecord();
    assert.deepEqual(runRecordProblems(record), []);
    assert.equal(checkedRunRecord(record, 'x'), record);
    assert.deepEqual(readRunRecord(JSON.parse(JSON.stringify(record)), 'x'), record);
  });

  it('refuses a malformed record naming each wrong field', () => {
    const cases: Array<[string, (r: Record<string, unknown>) => void, RegExp]> = [
      ['a score that is text', (r) => (r.metrics = { f1: '60' }), /\$\.metrics\.f1: expected number, got string/],
      ['an unknown metric', (r) => (r.metrics = { bleu: 3 }), /\$\.metrics\.bleu: not allowed/],
      ['an outcome of no kind', (r) => (r.outcome = 'done'), /\$\.outcome: expected one of/],
      ['no workflow id', (r) => delete r.workflowId, /\$\.workflowId: missing/],
      ['a promotion without its metric', (r) => (r.promotion = { value: 1, min: 0, promoted: true, reason: '' }), /\$\.promotion\.metric: missing/],
      ['a negative cost', (r) => (r.costUsd = -1), /\$\.costUsd: below the minimum 0/],
      ['a data source without its source', (r) => (r.data = { train: {}, validation: { source: 'x' } }), /\$\.data\.train\.source: missing/],
      ['a fractional node count', (r) => (r.nodesLaunched = 1.5), /\$\.nodesLaunched: expected integer or null/],
    ];
    for (const [what, spoil, named] of cases) {
      const record: Record<string, unknown> = { ...goodRecord() };
      spoil(record);
      const err = refusal(record);
      assert.match(err.message, named, what);
      assert.match(err.message, /^store\/wf-1\/run\.json is not a valid run record: /, what);
    }
    assert.match(refusal([]).message, /\$: expected object, got array/);
    assert.throws(() => checkedRunRecord({ ...goodRecord(), outcome: 'done' as 'failed' }, 'w'), RunRecordInvalid);
  });

  it('still reads a record written before the schema (error as text, newer fields absent)', () => {
    const old = {
      workflowId: 'wf-0',
      runName: 'nightly',
      outcome: 'failed',
      error: 'Activity task failed',
      startedAt: '2026-11-30T10:00:00.000Z',
      endedAt: '2026-11-30T10:05:00.000Z',
      spec: { name: 'nightly' },
      metrics: null,
    };
    assert.equal(readRunRecord(old, 'x').error, 'Activity task failed');
  });

  it('docs/run-record.schema.json is the schema the code checks', async () => {
    const docs = JSON.parse(await readFile(join(packageRoot(), 'docs', 'run-record.schema.json'), 'utf8'));
    assert.deepEqual(docs, JSON.parse(JSON.stringify(RUN_RECORD_SCHEMA)));
  });
});

describe('run.json readers refuse a malformed record', () => {
  const gate = { metric: 'exact_match' as const, min: 0, beatCurrent: true };
  const now = () => '2026-12-06T11:00:00.000Z';

  async function storeWith(record: unknown): Promise<{ root: string; uri: string }> {
    const root = await mkdtemp(join(tmpdir(), 'run-record-'));
    await mkdir(join(root, 'nightly', 'wf-1'), { recursive: true });
    await writeFile(join(root, 'nightly', 'wf-1', 'run.json'), JSON.stringify(record));
    // The current model was gated on f1; this gate reads exact_match, so it opens the current run's run.json.
    const pointer = { workflowId: 'wf-1', model: 'file:///m/', metric: 'f1', value: 60, promotedAt: now() };
    await writeFile(join(root, 'nightly', CURRENT_POINTER_KEY), JSON.stringify(pointer));
    return { root, uri: `${pathToFileURL(join(root, 'nightly')).href}/` };
  }

  it('the promotion gate reads a good record, and refuses a bad one instead of reading "no score"', async () => {
    const good = await storeWith(goodRecord());
    const bad = await storeWith({ ...goodRecord(), metrics: { exact_match: 'fifty' } });
    try {
      const input = { workflowId: 'wf-2', gate, value: 55, modelUri: 'file:///m2/' };
      const decision = await promoteInStore(createFolderStore(join(good.root, 'nightly')), input, now);
      assert.deepEqual(decision.current, { workflowId: 'wf-1', value: 50 });
      assert.equal(decision.promoted, true);
      await assert.rejects(promoteInStore(createFolderStore(join(bad.root, 'nightly')), input, now), (err: Error) => {
        assert.ok(err instanceof RunRecordInvalid);
        assert.match(err.message, /wf-1\/run\.json is not a valid run record: \$\.metrics\.exact_match: expected number/);
        return true;
      });
      const pointer = JSON.parse(await readFile(join(bad.root, 'nightly', CURRENT_POINTER_KEY), 'utf8'));
      assert.equal(pointer.workflowId, 'wf-1', 'the refused gate moved no pointer');
    } finally {
      await rm(good.root, { recursive: true, force: true });
      await rm(bad.root, { recursive: true, force: true });
    }
  });

  it('`tuneforge models` refuses a bad record naming the run and the field', async () => {
    const bad = await storeWith({ ...goodRecord(), startedAt: 12 });
    try {
      await assert.rejects(readModelHistory('nightly', bad.uri), /wf-1\/run\.json is not a valid run record: \$\.startedAt: expected string, got number/);
    } finally {
      await rm(bad.root, { recursive: true, force: true });
    }
  });
});
