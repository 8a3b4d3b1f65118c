// The run's product: prepare-artifacts checks the store before anything is launched, deliver-model puts
// the final model and its evaluation there, record-run writes run.json. All write to one folder per run.
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { NodeEndpoint } from '../artifacts/artifact-store';
import { runArtifactsUri } from '../artifacts/artifact-uri';
import { storeRegion } from '../artifacts/open-store';
import { renderModelCard, type ModelCardInput } from '../artifacts/model-card';
import { checkedRunRecord, RunRecordInvalid } from '../artifacts/run-record-file';
import { EVALUATION_FILES, EVALUATION_KEY, MODEL_CARD_KEY, MODEL_KEY, RUN_RECORD_KEY } from '../artifacts/run-layout';
import { REMOTE } from '../recipes/remote-paths';
import type { RunRecord } from '../records/run-record';
import { sh, shellJoin } from '../remote/shell-quote';
import { endpointFor, runStore, type ActivityDeps } from './deps';
import { keepAlive } from './keep-alive';
import { nodeLost } from '../common/errors';
import { checkNodes } from './node-watch';
import type { NodeRecord, RunContext } from './types';

const LOSS_CURVE_POINTS = 500;

export interface PreparedArtifacts {
  /** The run's folder URI, ending in `/`. */
  uri: string;
}

export interface DeliverInput extends RunContext {
  master: NodeRecord;
}

export interface DeliveredModel {
  modelUri: string;
  /** Where eval_results.json and eval_predictions.json went, when the run evaluated. */
  evaluationUri: string | null;
  files: number;
  bytes: number;
  uploadSeconds: number;
  /** name -> version, from the nodes' venv. */
  packages: Record<string, string>;
  lossCurve: Array<{ step: number; loss: number }>;
}

export function createArtifactActivities(deps: ActivityDeps) {
  return {
    async prepareArtifacts(ctx: RunContext): Promise<PreparedArtifacts> {
      const workflowId = Context.current().info.workflowExecution?.workflowId ?? ctx.clusterId;
      const base = ctx.spec.artifacts.uri ?? deps.localArtifactsUri;
      const uri = runArtifactsUri(base, ctx.spec.name, workflowId);
      const store = deps.openStore(uri, storeRegion(ctx.spec));
      await store.checkWritable();
      return { uri };
    },

    deliverModel: (input: DeliverInput): Promise<DeliveredModel> => keepAlive(() => deliverModel(deps, input)),

    /** run.json, and the model card beside the delivered model (card is null when no model was delivered). */
    async recordRun(input: RunContext & { record: RunRecord; card?: ModelCardInput | null }): Promise<string> {
      const store = runStore(deps, input);
      const record = checkedRecord(input.record, `${store.uri}${RUN_RECORD_KEY}`);
      if (input.card) await store.putText(MODEL_CARD_KEY, renderModelCard(input.card), 'text/markdown; charset=utf-8');
      await store.putJson(RUN_RECORD_KEY, record);
      return `${store.uri}${RUN_RECORD_KEY}`;
    },
  };
}

/** The record checked against run.json's schema; a record that breaks it is a bug no retry can fix. */
function checkedRecord(record: RunRecord, where: string): RunRecord {
  try {
    return checkedRunRecord(record, where);
  } catch (err) {
    if (err instanceof RunRecordInvalid) throw ApplicationFailure.nonRetryable(err.message, err.name, { problems: err.problems });
    throw err;
  }
}

async function deliverModel(deps: ActivityDeps, input: DeliverInput): Promise<DeliveredModel> {
  const store = runStore(deps, input);
  const node = await endpointFor(deps, input, input.master);
  try {
    const model = await store.uploadFolder(node, `${REMOTE.trainOutput}/${MODEL_KEY}`, MODEL_KEY);
    const present = await presentFiles(node, EVALUATION_FILES);
    if (present.length > 0) await store.uploadFolder(node, REMOTE.trainOutput, EVALUATION_KEY, { only: present });
    return {
      modelUri: `${store.uri}${MODEL_KEY}/`,
      evaluationUri: present.length > 0 ? `${store.uri}${EVALUATION_KEY}/` : null,
      files: model.files,
      bytes: model.bytes,
      uploadSeconds: model.seconds,
      packages: await venvPackages(node),
      lossCurve: await lossCurve(node),
    };
  } catch (err) {
    // The model lives only on the master until it is delivered: a lost master means train again from the store.
    const { lost } = await checkNodes(deps, input, [input.master]);
    if (lost.length > 0) throw nodeLost(lost, 'the master was lost before its model reached the artifact store');
    throw err;
  }
}

async function presentFiles(node: NodeEndpoint, names: string[]): Promise<string[]> {
  const command = `${sh`cd ${REMOTE.trainOutput}`} && { ls -1 -- ${shellJoin(names)} 2>/dev/null || true; }`;
  const result = await node.remote.check(node.target, command, { label: 'look for evaluation files' });
  const found = new Set(result.stdout.split('\n'));
  return names.filter((n) => found.has(n));
}

async function venvPackages(node: NodeEndpoint): Promise<Record<string, string>> {
  const result = await node.remote.run(node.target, sh`${REMOTE.python} -m pip list --format=json --disable-pip-version-check`, {
    label: 'list the venv packages',
  });
  try {
    const listed = JSON.parse(result.stdout) as Array<{ name: string; version: string }>;
    return Object.fromEntries(listed.map((p) => [p.name, p.version]));
  } catch {
    return {};
  }
}

/** The loss per step, from the newest checkpoint's trainer_state.json (its log history spans resumes). */
async function lossCurve(node: NodeEndpoint): Promise<DeliveredModel['lossCurve']> {
  const result = await node.remote.run(
    node.target,
    sh`cd ${REMOTE.trainOutput} && last=$(ls -d checkpoint-* 2>/dev/null | sort -t- -k2 -n | tail -n 1) && [ -n "$last" ] && cat "$last/trainer_state.json"`,
    { label: 'read the loss history', maxOutputBytes: 64 * 1024 * 1024 },
  );
  try {
    const state = JSON.parse(result.stdout) as { log_history?: Array<{ step?: number; loss?: number }> };
    const points = (state.log_history ?? [])
      .filter((e) => typeof e.step === 'number' && typeof e.loss === 'number')
      .map((e) => ({ step: e.step as number, loss: e.loss as number }));
    const every = Math.ceil(points.length / LOSS_CURVE_POINTS);
    return points.filter((_, i) => i % every === 0 || i === points.length - 1);
  } catch {
    return [];
  }
}
