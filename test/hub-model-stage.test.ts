// fetch-hub-model, fetch-hub-data and stage-hub-repos on two real local nodes, with the real recipes/common/fetch_hub.py (run
// by the recipe test environment's python) against the stand-in hub: the master downloads the pinned commit
// once, the worker gets byte-identical files from the master over the cluster's SSH, the token is sent to the
// hub but written to no file; a replaced master (no folder) downloads the same commit again and pushes it to
// a replacement. A hub dataset goes the same way, into tuneforge/datasets/hub-<commit>/.
import { execFileSync } from 'node:child_process';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createHubModelActivities, hubModelFolder } from '../src/activities/hub-model';
import { stagedDatasetFolder } from '../src/recipes/recipe';
import type { HubModel, NodeRecord } from '../src/activities/types';
import { createWireActivities } from '../src/activities/wire-ssh';
import { packageRoot } from '../src/common/package-root';
import { REMOTE } from '../src/recipes/remote-paths';
import { createRemoteShell, sshTarget } from '../src/remote/remote-shell';
import { sh } from '../src/remote/shell-quote';
import { validateRunSpec } from '../src/run-spec/validate';
import { testDeps, testProvider } from './helpers/local-lab';
import { startStandInHub, type StandInHub } from './helpers/stand-in-hub';
import { uniqueId } from './helpers/temporal';

const REPO = 'tuneforge-test/staged-model';
const TOKEN = `hf_${randomBytes(12).toString('hex')}`;
const FILES: Record<string, string | Buffer> = {
  'config.json': '{"model_type": "bert"}',
  'model.safetensors': randomBytes(300_000),
  'tokenizer/vocab.txt': '[PAD]\n[UNK]\nhello\n',
};

const parsed = validateRunSpec({
  name: 'hub-stage',
  provider: 'local',
  task: 'text-classification',
  model: { hub: REPO, revision: 'v1' },
  data: { train: '/data/train.csv', validation: '/data/eval.csv' },
  nodes: 2,
  training: { maxSteps: 2 },
});
assert.ok(parsed.ok, JSON.stringify(parsed));
const spec = parsed.spec;
const cluster = { clusterId: uniqueId('hub-stage'), runName: spec.name };
const sha256 = (bytes: string | Buffer) => createHash('sha256').update(bytes).digest('hex');
const BYTES = Object.values(FILES).reduce((sum, content) => sum + Buffer.byteLength(content), 0);

describe('a hub model fetched on the master and copied from it (real nodes, real fetch_hub.py)', () => {
  const remote = createRemoteShell();
  let scratch: string;
  let hub: StandInHub;
  let commit: string;
  let master: NodeRecord;
  let worker: NodeRecord;
  let activities: ReturnType<typeof createHubModelActivities>;
  const run = <R>(fn: (input: never) => Promise<R>, input: object): Promise<R> =>
    new MockActivityEnvironment().run(fn, input as never) as Promise<R>;
  const onNode = async (node: NodeRecord, command: string) =>
    (await remote.check(sshTarget(node, await testProvider.sshIdentity()), command, { label: 'test' })).stdout;
  /** `sha256 path` of every file of the staged model as the trainer reads it, sorted. */
  const stagedFiles = (node: NodeRecord) =>
    onNode(node, sh`cd ${REMOTE.inputs}/model/ && find . -type f ! -name .tuneforge-complete | sort | xargs sha256sum`);
  const expected = Object.keys(FILES)
    .sort()
    .map((path) => `${sha256(FILES[path] ?? '')}  ./${path}\n`)
    .join('');

  before(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'hub-stage-'));
    for (const [path, content] of Object.entries(FILES)) {
      await mkdir(join(scratch, 'repo', path, '..'), { recursive: true });
      await writeFile(join(scratch, 'repo', path), content);
    }
    hub = await startStandInHub();
    ({ commit } = await hub.addRepo({ id: REPO, folder: join(scratch, 'repo'), token: TOKEN, tags: ['v1'] }));
    const deps = testDeps({ hub: { endpoint: hub.endpoint, token: TOKEN }, remote });
    activities = createHubModelActivities(deps);
    const [launchedMaster] = await testProvider.launchNodes({ cluster, role: 'master', names: ['master'] });
    const [launchedWorker] = await testProvider.launchNodes({ cluster, role: 'worker', names: ['worker-1'] });
    assert.ok(launchedMaster && launchedWorker);
    master = launchedMaster;
    worker = launchedWorker;
    await run(createWireActivities(deps).wireSsh, {
      clusterId: cluster.clusterId,
      spec,
      sshUser: 'ubuntu',
      nodes: [master, worker],
    });
    // The master's venv with the nodes' huggingface_hub (the version the recipe test environment pins through
    // transformers), made on the node itself: a node sees neither this checkout (it may be under the host's
    // /tmp, private to each node) nor the host's venvs.
    const hubVersion = execFileSync(join(packageRoot(), '.tools/recipe-venv/bin/python'), [
      '-c',
      'import huggingface_hub; print(huggingface_hub.__version__)',
    ])
      .toString()
      .trim();
    await onNode(
      master,
      sh`python3.11 -m venv ${REMOTE.venv} && ${REMOTE.python} -m pip install -q --disable-pip-version-check ${`huggingface_hub==${hubVersion}`}`,
    );
    await remote.upload(
      sshTarget(master, await testProvider.sshIdentity()),
      `${REMOTE.recipe}/common/fetch_hub.py`,
      await readFile(join(packageRoot(), 'recipes/common/fetch_hub.py')),
    );
  });

  after(async () => {
    await testProvider.terminateNodes(cluster).catch(() => undefined);
    await testProvider.cleanup(cluster).catch(() => undefined);
    await hub?.close();
    await rm(scratch, { recursive: true, force: true });
  });

  it('downloads the pinned commit once on the master and copies the same bytes to the worker; the token is in no file', async () => {
    const ctx = { clusterId: cluster.clusterId, spec };
    const fetched = await run<HubModel>(activities.fetchHubModel, { ...ctx, master });
    assert.deepEqual(fetched, { id: REPO, revision: 'v1', commit, files: 3, bytes: BYTES });
    const again = await run<HubModel>(activities.fetchHubModel, { ...ctx, master });
    assert.equal(again.commit, commit, 'a second fetch finds the complete folder');
    await run(activities.stageHubRepos, { ...ctx, hubModel: fetched, master, nodes: [master, worker] });
    assert.equal(await stagedFiles(master), expected);
    assert.equal(await stagedFiles(worker), expected, "the worker's copy is the master's, byte for byte");
    assert.equal((await onNode(worker, sh`readlink ${REMOTE.inputs}/model`)).trim(), `../models/hub-${commit}`);
    assert.deepEqual(Object.fromEntries(hub.downloads(REPO)), {
      'config.json': 1,
      'model.safetensors': 1,
      'tokenizer/vocab.txt': 1,
    });
    assert.ok(
      hub.requests.filter((r) => r.origin === 'hub' && r.path.includes(REPO)).every((r) => r.authorized),
      'the hub saw the token on every request for the private repo',
    );
    for (const node of [master, worker]) {
      assert.equal(
        await onNode(node, sh`grep -rlF ${TOKEN} . 2>/dev/null || true`),
        '',
        `a file on ${node.name} holds the token`,
      );
    }
  });

  it('a replaced master without the folder downloads the same commit again and pushes it to a replacement', async () => {
    const folder = hubModelFolder(commit);
    for (const node of [master, worker]) await onNode(node, sh`rm -rf ${folder} ${REMOTE.inputs}`);
    const hubModel: HubModel = { id: REPO, revision: 'v1', commit, files: 3, bytes: BYTES };
    await run(activities.stageHubRepos, { clusterId: cluster.clusterId, spec, hubModel, master, nodes: [worker] });
    assert.equal(await stagedFiles(worker), expected);
    assert.ok(
      hub.requests.some((r) => r.path === `/api/models/${REPO}/revision/${commit}`),
      'the master asked for the recorded commit, not the revision name (which may have moved)',
    );
    assert.deepEqual(Object.fromEntries(hub.downloads(REPO)), {
      'config.json': 2,
      'model.safetensors': 2,
      'tokenizer/vocab.txt': 2,
    });
  });

  it('never puts a partial copy in place: a file the master cannot send fails the step and the node keeps no folder', async () => {
    const folder = hubModelFolder(commit);
    const hubModel: HubModel = { id: REPO, revision: 'v1', commit, files: 3, bytes: BYTES };
    await onNode(worker, sh`rm -rf ${folder} ${REMOTE.inputs}`);
    // tar skips a file it cannot read (exit 2, the rest of the stream intact): the worker would get 2 of 3 files.
    await onNode(master, sh`chmod 000 ${folder}/config.json`);
    try {
      await assert.rejects(
        run(activities.stageHubRepos, { clusterId: cluster.clusterId, spec, hubModel, master, nodes: [worker] }),
      );
    } finally {
      await onNode(master, sh`chmod 644 ${folder}/config.json`);
    }
    assert.equal(await onNode(worker, sh`test -e ${folder} && echo kept || echo none`), 'none\n');
  });

  it('a hub dataset takes the same way: downloaded once on the master, copied to the worker, again by a replaced master', async () => {
    const files: Record<string, string> = {
      'README.md': '# data\n',
      'train.csv': 'text,label\na,x\n',
      'validation.csv': 'text,label\nb,x\n',
    };
    for (const [path, content] of Object.entries(files)) {
      await mkdir(join(scratch, 'dataset'), { recursive: true });
      await writeFile(join(scratch, 'dataset', path), content);
    }
    const id = 'tuneforge-test/staged-data';
    const { commit: dataCommit } = await hub.addRepo({ id, type: 'dataset', folder: join(scratch, 'dataset'), tags: ['v2'] });
    const withData = validateRunSpec({
      ...{
        name: 'hub-stage',
        provider: 'local',
        task: 'text-classification',
        model: { hub: REPO },
        nodes: 2,
        training: { maxSteps: 2 },
      },
      data: { train: { hub: id, split: 'train', revision: 'v2' }, validation: { hub: id, split: 'validation', revision: 'v2' } },
    });
    assert.ok(withData.ok, JSON.stringify(withData));
    const ctx = { clusterId: cluster.clusterId, spec: withData.spec };
    const hubData = await run<HubModel>(activities.fetchHubData, { ...ctx, master });
    const bytes = Object.values(files).reduce((sum, content) => sum + Buffer.byteLength(content), 0);
    assert.deepEqual(hubData, { id, revision: 'v2', commit: dataCommit, files: 3, bytes });
    const folder = stagedDatasetFolder(dataCommit);
    assert.equal(folder, `tuneforge/datasets/hub-${dataCommit}`);
    const copied = (node: NodeRecord) =>
      onNode(node, sh`cd ${folder} && find . -type f ! -name .tuneforge-complete | sort | xargs sha256sum`);
    const expectedData = Object.keys(files)
      .sort()
      .map((path) => `${sha256(files[path] ?? '')}  ./${path}\n`)
      .join('');
    await run(activities.stageHubRepos, { ...ctx, hubData, master, nodes: [master, worker] });
    assert.equal(await copied(worker), expectedData, "the worker's copy is the master's, byte for byte");
    assert.deepEqual(Object.fromEntries(hub.downloads(id, 'dataset')), { 'README.md': 1, 'train.csv': 1, 'validation.csv': 1 });
    for (const node of [master, worker]) await onNode(node, sh`rm -rf ${folder}`);
    await run(activities.stageHubRepos, { ...ctx, hubData, master, nodes: [worker] });
    assert.equal(await copied(worker), expectedData);
    assert.deepEqual(Object.fromEntries(hub.downloads(id, 'dataset')), { 'README.md': 2, 'train.csv': 2, 'validation.csv': 2 });
  });
});
