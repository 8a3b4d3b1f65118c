// check-inputs (on the worker, before anything is launched), check-hub-data (on the master after install,
// before any worker), stage-inputs (on each node before it trains, replacements included).
import type { S3Client } from '@aws-sdk/client-s3';
import { storeRegion } from '../artifacts/open-store';
import { createS3Client } from '../artifacts/s3-client';
import { remoteCommandFailed, specInvalid } from '../common/errors';
import { checkInputs, type CheckedInputs } from '../data/check-inputs';
import { DataRefused, describeProblem } from '../data/split-check';
import { stageInputs, type StagedNode, type StageSources } from '../data/stage-inputs';
import { dataSourceArgs, recipeFor } from '../recipes/recipe';
import { REMOTE } from '../recipes/remote-paths';
import { DATA_ERROR_EXIT } from '../recipes/trainer-refusal';
import { shellJoin } from '../remote/shell-quote';
import { runInputs } from '../run-spec/expand-inputs';
import { endpointFor, targetFor, type ActivityDeps } from './deps';
import { keepAlive } from './keep-alive';
import type { NodeRecord, RunContext } from './types';


export interface StageInput extends RunContext {
  nodes: NodeRecord[];
}

export interface HubCheckInput extends RunContext {
  master: NodeRecord;
}

export interface HubCheckResult {
  trainRows: number;
  validationRows: number;
  labels?: string[];
}

export function createInputActivities(deps: ActivityDeps) {
  const clients = new Map<string, S3Client>();
  const sources = (ctx: RunContext): StageSources => ({
    s3Client: (region) => {
      const client = clients.get(region) ?? (deps.s3Client ?? createS3Client)(region);
      clients.set(region, client);
      return client;
    },
    openStore: (uri) => deps.openStore(uri, storeRegion(ctx.spec)),
    region: storeRegion(ctx.spec),
    ...(deps.localInputRoots ? { localRoots: deps.localInputRoots } : {}),
  });
  return {
    checkInputs: (ctx: RunContext): Promise<CheckedInputs> =>
      keepAlive(async () => {
        try {
          return await checkInputs(ctx.spec, sources(ctx));
        } catch (err) {
          if (err instanceof DataRefused) throw specInvalid([{ path: err.problem.field, message: describeProblem(err.problem) }]);
          throw err;
        }
      }),

    stageInputs: (input: StageInput): Promise<StagedNode[]> =>
      keepAlive(async () => {
        const checked = input.inputs;
        if (!checked) throw new Error('stage-inputs runs after check-inputs');
        const staged: StagedNode[] = [];
        for (const node of input.nodes) {
          staged.push(await stageInputs(input.spec, checked, await endpointFor(deps, input, node), sources(input)));
        }
        return staged;
      }),

    checkHubData: (input: HubCheckInput): Promise<HubCheckResult> => keepAlive(() => checkHubData(deps, input)),
  };
}

async function checkHubData(deps: ActivityDeps, input: HubCheckInput): Promise<HubCheckResult> {
  const { task, data } = runInputs(input.spec);
  const env = Object.entries(recipeFor(input.spec).trainEnv).map(([k, v]) => `${k}=${v}`);
  const command = `env ${shellJoin(env)} ${shellJoin([REMOTE.python, `${REMOTE.recipe}/common/check_data.py`, '--task', task, ...dataSourceArgs(input.spec, input.hubData?.commit)])}`;
  const target = await targetFor(deps, input, input.master);
  const result = await deps.remote.run(target, command, { label: 'check the hub dataset' });
  const reason = result.stderr.trim().split('\n').pop() ?? '';
  if (result.exitCode === DATA_ERROR_EXIT) {
    const validationSplit = data.validation.kind === 'hub' ? `:${data.validation.split}` : undefined;
    const field = validationSplit && reason.includes(validationSplit) ? 'data.validation' : 'data.train';
    throw specInvalid([{ path: field, message: reason.replace(/^check_data: /, '') }]);
  }
  if (result.exitCode !== 0) {
    throw remoteCommandFailed({
      node: input.master.name,
      label: 'check the hub dataset (data.train)',
      exitCode: result.exitCode,
      outputTail: result.stderr.slice(-4000),
    });
  }
  const parsed = JSON.parse(result.stdout.trim().split('\n').pop() ?? '{}') as {
    train_rows?: unknown;
    validation_rows?: unknown;
    labels?: unknown;
  };
  return {
    trainRows: Number(parsed.train_rows ?? 0),
    validationRows: Number(parsed.validation_rows ?? 0),
    ...(Array.isArray(parsed.labels) ? { labels: parsed.labels.map(String) } : {}),
  };
}
