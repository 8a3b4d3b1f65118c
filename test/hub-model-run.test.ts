// Whole local runs on a hub model served by a stand-in hub (test/helpers/stand-in-hub.ts, HF_ENDPOINT on the
// worker): the master downloads the pinned revision once and every node gets the folder from the master, so
// the hub serves each file exactly once for 2 nodes; run.json and the summary carry the resolved commit; the
// repo is private, so the worker's HF_TOKEN reaches the hub (it saw the Authorization header) without showing
// in the Temporal history, the worker's logs, its output or run.json. An unknown revision and an unknown repo
// end the run SpecInvalid naming `model` with no worker ever launched.
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../src/common/errors';
import { DEFAULT_NAMESPACE, WORKFLOW_TYPE } from '../src/common/names';
import { packageRoot } from '../src/common/package-root';
import { validateRunSpec } from '../src/run-spec/validate';
import type { RunSpec } from '../src/run-spec/schema';
import type { RunSummary } from '../src/workflows/definitions';
import { liveNodeProcesses, removeClustersStartingWith, runStoreOf, sampleNodeProcesses, testDeps } from './helpers/local-lab';
import { startStandInHub, type StandInHub } from './helpers/stand-in-hub';
import { realActivities, recordRuntimeLogs, TEMPORAL_ADDRESS, testClient, uniqueId, withWorker } from './helpers/temporal';
import { captureStreams, pathsOf } from './helpers/secret-scan';

const RECIPE_PYTHON = join(packageRoot(), '.tools/recipe-venv/bin/python');
const REPO = 'tuneforge-test/tiny-model';
/** The worker's HF_TOKEN: a marker no other test or file holds. */
const TOKEN = `hf_${randomBytes(12).toString('hex')}`;
const DATASET = 'tuneforge-test/tiny-data';
const MAX_STEPS = 12;
const TEMPORAL_CLI = process.env.TEMPORAL_CLI ?? join(packageRoot(), '.tools', 'venv', 'bin', 'temporal');

/** The run's whole history as the temporal CLI shows it (payloads as base64 JSON). */
async function historyOf(workflowId: string): Promise<string> {
  const args = ['workflow', 'show', '--workflow-id', workflowId, '--address', TEMPORAL_ADDRESS];
  const { stdout } = await promisify(execFile)(TEMPORAL_CLI, [...args, '--namespace', DEFAULT_NAMESPACE, '--output', 'json'], {
    maxBuffer: 64 * 1024 * 1024,
  });
  return stdout;
}

const logs: string[] = [];
recordRuntimeLogs(logs);

type DataInput =
  { train: string; validation: string } | Record<'train' | 'validation', { hub: string; split: string; revision?: string }>;

function specWith(model: { hub: string; revision?: string }, data: DataInput): RunSpec {
  const parsed = validateRunSpec({
    name: 'hub-model',
    provider: 'local',
    task: 'text-classification',
    model,
    data,
    nodes: 2,
    training: { maxSteps: MAX_STEPS, saveSteps: MAX_STEPS },
    sanity: { maxSteps: 2 },
  });
  assert.ok(parsed.ok, JSON.stringify(parsed));
  return parsed.spec;
}

/** The SpecInvalid failure somewhere in a workflow failure's cause chain. */
function specInvalidOf(err: unknown): ApplicationFailure | undefined {
  let cause: unknown = err instanceof WorkflowFailedError ? err.cause : err;
  while (cause instanceof Error) {
    if (cause instanceof ApplicationFailure && cause.type === FailureType.SpecInvalid) return cause;
    cause = cause.cause;
  }
  return undefined;
}

interface RunRecord {
  outcome: string;
  model: { source: string; revision?: string; commit?: string };
  metrics: Record<string, number> | null;
}

describe('a run on a hub model from a stand-in hub', () => {
  let scratch: string;
  let hub: StandInHub;
  let commit: string;
  let repoFiles: string[];
  let data: { train: string; validation: string };

  before(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'hub-model-'));
    execFileSync(RECIPE_PYTHON, [join(packageRoot(), 'recipes/tiny-cls/make_assets.py'), '--out', join(scratch, 'assets')]);
    // One repo as the hub has one: weights, config and tokenizer together.
    const repo = join(scratch, 'repo');
    await cp(join(scratch, 'assets/model'), repo, { recursive: true });
    await cp(join(scratch, 'assets/tokenizer'), repo, { recursive: true });
    data = { train: join(scratch, 'assets/data/train.csv'), validation: join(scratch, 'assets/data/eval.csv') };
    hub = await startStandInHub();
    ({ commit, files: repoFiles } = await hub.addRepo({ id: REPO, folder: repo, token: TOKEN, tags: ['v1'] }));
    await hub.addRepo({ id: DATASET, type: 'dataset', folder: join(scratch, 'assets/data') });
  });

  after(async () => {
    await removeClustersStartingWith('hub-model-');
    await hub?.close();
    await rm(scratch, { recursive: true, force: true });
  });

  const deps = () => testDeps({ hub: { endpoint: hub.endpoint, token: TOKEN } });

  it(
    'downloads the pinned revision once on the master, trains on 2 nodes from it, records the commit, keeps the token secret',
    { timeout: 15 * 60_000 },
    async (t) => {
      const spec = specWith({ hub: REPO, revision: 'v1' }, data);
      const workflowId = uniqueId('hub-model');
      const output: string[] = [];
      const restore = captureStreams(output);
      const { client, close } = await testClient();
      let summary: RunSummary;
      try {
        const runDeps = testDeps({
          hub: { endpoint: hub.endpoint, token: TOKEN },
          reportProgress: async (id, update) => client.workflow.getHandle(id).signal('trainingProgress', update),
        });
        summary = (await withWorker(realActivities(runDeps), ({ client: c, taskQueue }) =>
          c.workflow.execute(WORKFLOW_TYPE, { taskQueue, workflowId, args: [{ spec }] }),
        )) as RunSummary;
      } finally {
        restore();
        await close();
      }
      const history = await historyOf(workflowId);
      assert.equal(await liveNodeProcesses(workflowId), 0, 'no node left');

      // Trained on both nodes, from the hub's model, and delivered.
      assert.equal(summary.training.globalStep, MAX_STEPS);
      assert.equal(summary.training.worldSize, 2);
      const store = runStoreOf(spec.name, workflowId);
      const stored = (await store.list()).map((o) => o.key);
      for (const key of ['model/config.json', 'model/model.safetensors', 'model/tokenizer.json'])
        assert.ok(stored.includes(key), `${key} delivered (have ${stored.join(', ')})`);

      // The hub served each file of the repo exactly once: the master's download, not one per node or rank.
      const downloads = hub.downloads(REPO);
      assert.deepEqual(
        Object.fromEntries([...downloads].sort()),
        Object.fromEntries(repoFiles.map((f) => [f, 1]).sort()),
        'each repo file served once',
      );
      // The private repo answered only with the token: every hub request for it came with Authorization, and
      // the large file's CDN (another origin) got none.
      const forRepo = hub.requests.filter((r) => r.path.includes(REPO) || r.origin === 'cdn');
      assert.ok(forRepo.length > 0);
      assert.deepEqual(
        forRepo
          .filter((r) => r.origin === 'hub' && (!r.authorized || r.status >= 400))
          .map((r) => `${r.method} ${r.path} ${r.status}`),
        [],
        'every hub request for the private repo carried the token and was answered',
      );
      assert.ok(
        forRepo.some((r) => r.origin === 'cdn'),
        'the weights came by the CDN redirect',
      );
      const kinds = new Map<string, number>();
      for (const r of forRepo) kinds.set(`${r.origin} ${r.method}`, (kinds.get(`${r.origin} ${r.method}`) ?? 0) + 1);
      t.diagnostic(`hub requests for the run (2 nodes): ${JSON.stringify(Object.fromEntries(kinds))}`);

      // The revision asked for and the commit it was, in run.json and the summary.
      const record = (await store.getJson('run.json')) as RunRecord;
      assert.equal(record.outcome, 'succeeded');
      assert.deepEqual(record.model, { source: `${REPO}@v1`, revision: 'v1', commit });
      assert.equal(summary.hubModel?.commit, commit);
      assert.equal(summary.hubModel?.revision, 'v1');
      assert.ok(record.metrics && typeof record.metrics.accuracy === 'number', JSON.stringify(record.metrics));

      // The token: not in the history, the worker's logs, its output or run.json.
      assert.deepEqual(pathsOf(TOKEN, JSON.parse(history)), [], 'the token is in the Temporal history');
      assert.ok(pathsOf(commit, JSON.parse(history)).length > 0, 'control: the scan reads the history (the commit is there)');
      assert.deepEqual(
        logs.filter((l) => l.includes(TOKEN)),
        [],
        'the worker logged the token',
      );
      assert.ok(logs.length > 0, 'control: the worker logged');
      assert.deepEqual(
        output.filter((l) => l.includes(TOKEN)),
        [],
        'the worker printed the token',
      );
      assert.equal(JSON.stringify(record).includes(TOKEN), false, 'run.json holds the token');
      assert.equal(JSON.stringify(summary).includes(TOKEN), false, 'the summary holds the token');
    },
  );

  const refusals = [
    {
      what: 'an unknown revision',
      model: { hub: REPO, revision: 'no-such-revision' },
      field: 'model',
      reason: /revision 'no-such-revision' not found/,
    },
    { what: 'an unknown repo', model: { hub: 'tuneforge-test/no-such-model' }, field: 'model', reason: /no such model repo/ },
    {
      what: 'an unknown dataset revision',
      model: { hub: REPO },
      data: {
        train: { hub: DATASET, split: 'train', revision: 'v0' },
        validation: { hub: DATASET, split: 'eval', revision: 'v0' },
      },
      field: 'data.train',
      reason: /revision 'v0' not found in the dataset repo/,
    },
  ];
  for (const refusal of refusals) {
    const { what, model, field, reason } = refusal;
    it(`fails SpecInvalid naming ${field} for ${what}, with no worker ever launched`, { timeout: 10 * 60_000 }, async () => {
      const spec = specWith(model, refusal.data ?? data);
      const workflowId = uniqueId('hub-model');
      const sampler = sampleNodeProcesses(workflowId, 100);
      let failure: ApplicationFailure | undefined;
      try {
        await withWorker(realActivities(deps()), async ({ client, taskQueue }) => {
          await assert.rejects(client.workflow.execute(WORKFLOW_TYPE, { taskQueue, workflowId, args: [{ spec }] }), (err) => {
            failure = specInvalidOf(err);
            return true;
          });
        });
      } finally {
        const seen = await sampler.stop();
        assert.deepEqual([...seen.keys()], ['master'], 'only the master ever ran');
      }
      assert.ok(failure, 'the run failed SpecInvalid');
      const problems = (failure.details?.[0] as { problems: Array<{ path: string; message: string }> }).problems;
      assert.deepEqual(
        problems.map((p) => p.path),
        [field],
      );
      assert.match(problems[0]?.message ?? '', reason);
      assert.equal(await liveNodeProcesses(workflowId), 0, 'no node left');
      const record = (await runStoreOf(spec.name, workflowId).getJson('run.json')) as RunRecord;
      assert.equal(record.outcome, 'failed');
    });
  }
});
