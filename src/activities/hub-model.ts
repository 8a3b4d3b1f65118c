// A hub model or dataset is downloaded once per run, by the master, at a pinned revision (fetch-hub-model and
// fetch-hub-data, right after the bake and before any worker exists), into tuneforge/models/hub-<commit>/ or
// tuneforge/datasets/hub-<commit>/; the master then pushes those folders to every other node over the cluster's
// own SSH (stage-hub-repos, replacements included), so the hub serves each file once, not once per node and
// rank. The trainers read tuneforge/inputs/model and --dataset_dir tuneforge/datasets/hub-<commit>.
// HF_TOKEN (the worker's, never the spec's) reaches only the master's download, on its stdin.
import { remoteCommandFailed, specInvalid } from '../common/errors';
import { REMOTE } from '../recipes/remote-paths';
// fetch_hub.py's exit status for a repo or revision the hub refuses (EX_DATAERR).
import { DATA_ERROR_EXIT as REFUSED_EXIT } from '../recipes/trainer-refusal';
import { STAGED_MODEL_PATH, stagedDatasetFolder } from '../recipes/recipe';
import { raw, sh, shellJoin } from '../remote/shell-quote';
import { runInputs } from '../run-spec/expand-inputs';
import { activitySignal, targetFor, type ActivityDeps } from './deps';
import { keepAlive } from './keep-alive';
import type { HubModel, NodeRecord, RunContext } from './types';

/** The marker fetch_hub.py leaves in a complete folder; tar carries it, so a pushed copy is complete too. */
const COMPLETE = '.tuneforge-complete';

type RepoType = 'model' | 'dataset';

export interface HubFetchInput extends RunContext {
  master: NodeRecord;
}

export interface HubStageInput extends RunContext {
  master: NodeRecord;
  /** The nodes that need the folders (and the model link the trainer reads); the master may be one of them. */
  nodes: NodeRecord[];
}

export function createHubModelActivities(deps: ActivityDeps) {
  return {
    fetchHubModel: (input: HubFetchInput): Promise<HubModel> => keepAlive(() => fetchHubModel(deps, input)),
    fetchHubData: (input: HubFetchInput): Promise<HubModel> => keepAlive(() => fetchHubData(deps, input)),
    stageHubRepos: (input: HubStageInput): Promise<{ pushed: string[] }> => keepAlive(() => stageHubRepos(deps, input)),
  };
}

/** The folder a model commit is kept in on every node, relative to the node user's home. */
export function hubModelFolder(commit: string): string {
  return `${REMOTE.models}/hub-${commit}`;
}

async function fetchHubModel(deps: ActivityDeps, input: HubFetchInput): Promise<HubModel> {
  const { model } = runInputs(input.spec);
  if (model.kind !== 'hub') throw new Error('fetch-hub-model runs for a hub model only');
  return download(deps, input, { id: model.id, revision: input.hubModel?.commit ?? model.revision ?? 'main', type: 'model' });
}

/**
 * A hub dataset's repo downloaded once on the master at its resolved commit (the ranks read that copy, offline):
 * an unknown repo or revision fails the run naming data.train before any worker.
 */
async function fetchHubData(deps: ActivityDeps, input: HubFetchInput): Promise<HubModel> {
  const { train } = runInputs(input.spec).data;
  if (train.kind !== 'hub') throw new Error('fetch-hub-data runs for a hub dataset only');
  const fetched = await download(deps, input, {
    id: train.id,
    revision: input.hubData?.commit ?? train.revision ?? 'main',
    type: 'dataset',
  });
  // run.json records the revision the spec asked for, not the commit a re-download was pinned to.
  return { ...fetched, revision: input.hubData?.revision ?? train.revision ?? 'main' };
}

async function download(
  deps: ActivityDeps,
  ctx: RunContext & { master: NodeRecord },
  repo: { id: string; revision: string; type: RepoType },
): Promise<HubModel> {
  const { id, revision, type } = repo;
  const field = type === 'model' ? 'model' : 'data.train';
  const parsed = await fetchHub(deps, ctx, { id, revision, type, resolveOnly: false, field });
  return { id, revision, commit: commitOf(parsed), files: Number(parsed.files ?? 0), bytes: Number(parsed.bytes ?? 0) };
}

interface FetchRequest {
  id: string;
  revision: string;
  type: RepoType;
  resolveOnly: boolean;
  /** The spec field a refusal names. */
  field: string;
}

/** fetch_hub.py on the master; a refused repo or revision is a SpecInvalid naming the request's field. */
async function fetchHub(
  deps: ActivityDeps,
  ctx: RunContext & { master: NodeRecord },
  request: FetchRequest,
): Promise<Record<string, unknown>> {
  const { id, revision } = request;
  const token = deps.hub?.token;
  const endpoint = deps.hub?.endpoint;
  // The master's environment: the hub reachable whatever the recipe's ranks use, the worker's endpoint if it has one.
  const env = ['env', '-u', 'HF_HUB_OFFLINE', ...(endpoint ? [`HF_ENDPOINT=${endpoint}`] : [])];
  const args = [REMOTE.python, `${REMOTE.recipe}/common/fetch_hub.py`, '--repo_id', id, '--revision', revision];
  const options = [
    ...['--repo_type', request.type, '--out_root', request.type === 'model' ? REMOTE.models : REMOTE.datasets],
    ...(request.resolveOnly ? ['--resolve_only'] : []),
    ...(token ? ['--token_stdin'] : []),
  ];
  const command = shellJoin([...env, ...args, ...options]);
  const signal = activitySignal();
  const result = await deps.remote.run(await targetFor(deps, ctx, ctx.master), command, {
    label: `${request.resolveOnly ? 'resolve' : 'download'} ${id} on ${ctx.master.name}`,
    // The token travels on stdin only: never in a command line, an environment or a file.
    ...(token ? { stdin: `${token}\n` } : {}),
    ...(signal ? { signal } : {}),
  });
  if (result.exitCode === REFUSED_EXIT) {
    const reason = result.stderr.trim().split('\n').pop() ?? '';
    throw specInvalid([{ path: request.field, message: reason.replace(/^fetch_hub: /, '') }]);
  }
  if (result.exitCode !== 0) {
    throw remoteCommandFailed({
      node: ctx.master.name,
      label: `fetch the hub ${request.type} ${id} (${request.field})`,
      exitCode: result.exitCode,
      outputTail: result.stderr.slice(-4000),
    });
  }
  return JSON.parse(result.stdout.trim().split('\n').pop() ?? '{}') as Record<string, unknown>;
}

function commitOf(parsed: Record<string, unknown>): string {
  const commit = String(parsed.commit ?? '');
  if (!/^[0-9a-f]{40}$/.test(commit)) throw new Error(`fetch_hub.py answered no commit: ${JSON.stringify(parsed).slice(0, 500)}`);
  return commit;
}

/** One downloaded repo to put on the nodes: its folder, and the link the trainer reads it by (the model's). */
interface StagedRepo {
  hub: HubModel;
  type: RepoType;
  folder: string;
  link?: string;
}

function stagedRepos(input: HubStageInput): StagedRepo[] {
  const repos: StagedRepo[] = [];
  if (input.hubModel) {
    const folder = hubModelFolder(input.hubModel.commit);
    repos.push({ hub: input.hubModel, type: 'model', folder, link: linkCommand(folder) });
  }
  if (input.hubData) repos.push({ hub: input.hubData, type: 'dataset', folder: stagedDatasetFolder(input.hubData.commit) });
  return repos;
}

async function stageHubRepos(deps: ActivityDeps, input: HubStageInput): Promise<{ pushed: string[] }> {
  const repos = stagedRepos(input);
  if (repos.length === 0) throw new Error('stage-hub-repos runs after fetch-hub-model or fetch-hub-data');
  const master = await targetFor(deps, input, input.master);
  const signal = activitySignal();
  const options = signal ? { signal } : {};
  const others = input.nodes.filter((n) => n.name !== input.master.name).map((n) => n.name);
  for (const { hub, type, folder, link } of repos) {
    // A replaced master comes from the image, without the folder: it downloads the same commit again.
    const probe = await deps.remote.run(master, sh`test -f ${folder}/${COMPLETE}`, { label: `look for ${folder}`, ...options });
    if (probe.exitCode !== 0)
      await download(deps, { ...input, master: input.master }, { id: hub.id, revision: hub.commit, type });
    if (others.length > 0) {
      await deps.remote.check(master, pushFromMaster(folder, others, link), {
        label: `copy ${hub.id} from ${input.master.name} to ${others.join(', ')}`,
        ...options,
      });
    }
    if (link && input.nodes.some((n) => n.name === input.master.name)) {
      await deps.remote.check(master, link, { label: `link ${STAGED_MODEL_PATH}`, ...options });
    }
  }
  return { pushed: others };
}

/**
 * On the master: for each node, `tar | ssh node tar` into <folder>.incoming, renamed into place only once its
 * listing (every file's path and size) matches the master's, so a cut stream never becomes a model or dataset
 * folder (a node that has the complete folder already is skipped), then `link` (the model's, which the trainer
 * reads) when given. Nodes one after the other: the copies share the master's disk and uplink anyway.
 */
export function pushFromMaster(folder: string, nodes: string[], link = 'true'): string {
  const parent = folder.slice(0, folder.lastIndexOf('/'));
  const name = folder.slice(folder.lastIndexOf('/') + 1);
  const incoming = `${folder}.incoming`;
  const listing = (dir: string) => `cd ${dir} && find . -type f -printf '%s %p\\n' | LC_ALL=C sort | sha256sum`;
  const receive = `set -e; mkdir -p ${parent}; rm -rf ${incoming}; mkdir ${incoming}; tar -C ${incoming} --strip-components=1 -xf -; ${listing(incoming)}`;
  return sh`
set -e
test -f ${folder}/${COMPLETE}
expected=$(${raw(listing(folder))})
for node in ${raw(nodes.map(checkedName).join(' '))}; do
  if ssh "$node" ${`test -f ${folder}/${COMPLETE}`}; then ssh "$node" ${link}; continue; fi
  got=$(tar -C ${parent} -cf - ${name} | ssh "$node" ${receive})
  if [ "$got" != "$expected" ]; then echo "the folder ${raw(folder)} copied to $node is incomplete" >&2; exit 1; fi
  ssh "$node" ${`set -e; rm -rf ${folder}; mv ${incoming} ${folder}; ${link}`}
done
`;
}

function linkCommand(folder: string): string {
  const relativeTarget = `../${folder.slice(REMOTE.root.length + 1)}`;
  return sh`mkdir -p ${REMOTE.inputs} && ln -sfn ${relativeTarget} ${STAGED_MODEL_PATH}`;
}

function checkedName(name: string): string {
  if (!/^[a-z][a-z0-9-]{0,62}$/.test(name)) throw new Error(`refusing to use node name ${JSON.stringify(name)} in a command`);
  return name;
}
