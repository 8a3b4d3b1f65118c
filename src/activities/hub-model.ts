// A hub model is downloaded once per run, by the master, at a pinned revision (fetch-hub-model, right after
// the bake and before any worker exists), into tuneforge/models/hub-<commit>/; the master then pushes that
// folder to every other node over the cluster's own SSH (stage-hub-model, replacements included), so the
// hub serves each file once, not once per node and rank. The trainers read tuneforge/inputs/model.
// HF_TOKEN (the worker's, never the spec's) reaches only the master's download, on its stdin.
import { remoteCommandFailed, specInvalid } from '../common/errors';
import { REMOTE } from '../recipes/remote-paths';
import { STAGED_MODEL_PATH } from '../recipes/recipe';
import { raw, sh, shellJoin } from '../remote/shell-quote';
import { runInputs } from '../spec/expand-inputs';
import { activitySignal, targetFor, type ActivityDeps } from './deps';
import { keepAlive } from './keep-alive';
import type { HubModel, HubRevision, NodeRecord, RunContext } from './types';

/** fetch_hub.py's exit status for a repo or revision the hub refuses (EX_DATAERR). */
const REFUSED_EXIT = 65;
/** The marker fetch_hub.py leaves in a complete folder; tar carries it, so a pushed copy is complete too. */
const COMPLETE = '.tuneforge-complete';

export interface HubFetchInput extends RunContext {
  master: NodeRecord;
}

export interface HubStageInput extends RunContext {
  master: NodeRecord;
  /** The nodes that need the folder (and the link the trainer reads); the master may be one of them. */
  nodes: NodeRecord[];
}

export function createHubModelActivities(deps: ActivityDeps) {
  return {
    fetchHubModel: (input: HubFetchInput): Promise<HubModel> => keepAlive(() => fetchHubModel(deps, input)),
    resolveHubData: (input: HubFetchInput): Promise<HubRevision> => keepAlive(() => resolveHubData(deps, input)),
    stageHubModel: (input: HubStageInput): Promise<{ pushed: string[] }> => keepAlive(() => stageHubModel(deps, input)),
  };
}

/** The folder a commit is kept in on every node, relative to the node user's home. */
export function hubModelFolder(commit: string): string {
  return `${REMOTE.models}/hub-${commit}`;
}

async function fetchHubModel(deps: ActivityDeps, input: HubFetchInput): Promise<HubModel> {
  const { model } = runInputs(input.spec);
  if (model.kind !== 'hub') throw new Error('fetch-hub-model runs for a hub model only');
  return download(deps, input, model.id, input.hubModel?.commit ?? model.revision ?? 'main');
}

/**
 * A hub dataset's revision checked and resolved on the master (nothing downloaded: the trainers load the splits
 * with the datasets library): an unknown repo or revision fails the run naming data.train before any worker.
 */
async function resolveHubData(deps: ActivityDeps, input: HubFetchInput): Promise<HubRevision> {
  const { train } = runInputs(input.spec).data;
  if (train.kind !== 'hub') throw new Error('resolve-hub-data runs for a hub dataset only');
  const revision = train.revision ?? 'main';
  const parsed = await fetchHub(deps, input, { id: train.id, revision, type: 'dataset', resolveOnly: true, field: 'data.train' });
  return { id: train.id, revision, commit: commitOf(parsed) };
}

async function download(
  deps: ActivityDeps,
  ctx: RunContext & { master: NodeRecord },
  id: string,
  revision: string,
): Promise<HubModel> {
  const parsed = await fetchHub(deps, ctx, { id, revision, type: 'model', resolveOnly: false, field: 'model' });
  return { id, revision, commit: commitOf(parsed), files: Number(parsed.files ?? 0), bytes: Number(parsed.bytes ?? 0) };
}

interface FetchRequest {
  id: string;
  revision: string;
  type: 'model' | 'dataset';
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
    ...['--repo_type', request.type, '--out_root', REMOTE.models],
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

async function stageHubModel(deps: ActivityDeps, input: HubStageInput): Promise<{ pushed: string[] }> {
  const hub = input.hubModel;
  if (!hub) throw new Error('stage-hub-model runs after fetch-hub-model');
  const folder = hubModelFolder(hub.commit);
  const master = await targetFor(deps, input, input.master);
  const signal = activitySignal();
  const options = signal ? { signal } : {};
  // A replaced master comes from the image, without the folder: it downloads the same commit again.
  const probe = await deps.remote.run(master, sh`test -f ${folder}/${COMPLETE}`, { label: `look for ${folder}`, ...options });
  if (probe.exitCode !== 0) await download(deps, { ...input, master: input.master }, hub.id, hub.commit);
  const others = input.nodes.filter((n) => n.name !== input.master.name).map((n) => n.name);
  if (others.length > 0) {
    await deps.remote.check(master, pushFromMaster(folder, others), {
      label: `copy ${hub.id} from ${input.master.name} to ${others.join(', ')}`,
      ...options,
    });
  }
  if (input.nodes.some((n) => n.name === input.master.name)) {
    await deps.remote.check(master, linkCommand(folder), { label: `link ${STAGED_MODEL_PATH}`, ...options });
  }
  return { pushed: others };
}

/**
 * On the master: for each node, `tar | ssh node tar` into <folder>.incoming, renamed into place only once its
 * listing (every file's path and size) matches the master's, so a cut stream never becomes a model folder (a
 * node that has the complete folder already is skipped), then the link the trainer reads. Nodes one after the
 * other: the copies share the master's disk and uplink anyway.
 */
export function pushFromMaster(folder: string, nodes: string[]): string {
  const parent = folder.slice(0, folder.lastIndexOf('/'));
  const name = folder.slice(folder.lastIndexOf('/') + 1);
  const incoming = `${folder}.incoming`;
  const listing = (dir: string) => `cd ${dir} && find . -type f -printf '%s %p\\n' | LC_ALL=C sort | sha256sum`;
  const link = linkCommand(folder);
  const receive = `set -e; mkdir -p ${parent}; rm -rf ${incoming}; mkdir ${incoming}; tar -C ${incoming} --strip-components=1 -xf -; ${listing(incoming)}`;
  return sh`
set -e
test -f ${folder}/${COMPLETE}
expected=$(${raw(listing(folder))})
for node in ${raw(nodes.map(checkedName).join(' '))}; do
  if ssh "$node" ${`test -f ${folder}/${COMPLETE}`}; then ssh "$node" ${link}; continue; fi
  got=$(tar -C ${parent} -cf - ${name} | ssh "$node" ${receive})
  if [ "$got" != "$expected" ]; then echo "the model folder copied to $node is incomplete" >&2; exit 1; fi
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
