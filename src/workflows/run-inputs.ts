// The run's own data and model in the workflow: checked on the worker before anything is launched, hub
// datasets checked on the master after install, files and model folders staged on every node before it
// trains (replacements too). A preset's offline assets need none of this.
import type { NodeRecord, RunContext } from '../activities/types';
import { describeSource } from '../data/describe-source';
import { describeModel, runInputs } from '../run-spec/expand-inputs';
import { steps } from './steps';

/** Some input is a file or folder the worker reads and the nodes need copied. */
export function hasStagedInputs(ctx: RunContext): boolean {
  const { model, data } = runInputs(ctx.spec);
  return [model, data.train, data.validation].some((s) => s.kind === 'path' || s.kind === 'uri');
}

/** check-inputs: the context with the checked (hashed) inputs; a refusal ends the run before any node exists. */
export async function checkRunInputs(ctx: RunContext): Promise<RunContext> {
  if (!hasStagedInputs(ctx)) return ctx;
  const inputs = await steps.provisioning.checkInputs.executeWithOptions(
    { summary: 'check-inputs: read and hash the data files and model' },
    [ctx],
  );
  return { ...ctx, inputs };
}

/**
 * A hub dataset: downloaded once by the master at its resolved commit (an unknown repo or revision fails naming
 * data.train), then its splits checked there from that copy; the context gets the commit. Both before any worker.
 */
export async function checkHubInputs(ctx: RunContext, master: NodeRecord): Promise<RunContext> {
  const { train } = runInputs(ctx.spec).data;
  if (train.kind !== 'hub') return ctx;
  const hubData = await steps.install.fetchHubData.executeWithOptions(
    { summary: `fetch-hub-data: ${train.id}@${train.revision ?? 'main'} on ${master.name}` },
    [{ ...ctx, master }],
  );
  await steps.install.checkHubData.executeWithOptions({ summary: `check-hub-data on ${master.name}` }, [
    { ...ctx, hubData, master },
  ]);
  return { ...ctx, hubData };
}

/**
 * fetch-hub-model: a hub model downloaded once, by the master, at the spec's revision; the context gets the
 * commit. An unknown repo or revision fails the run (SpecInvalid naming `model`) before any worker exists.
 */
export async function fetchHubModel(ctx: RunContext, master: NodeRecord): Promise<RunContext> {
  const { model } = runInputs(ctx.spec);
  if (model.kind !== 'hub') return ctx;
  const hubModel = await steps.install.fetchHubModel.executeWithOptions(
    { summary: `fetch-hub-model: ${model.id}@${model.revision ?? 'main'} on ${master.name}` },
    [{ ...ctx, master }],
  );
  return { ...ctx, hubModel };
}

/**
 * The run's own inputs on these nodes: files and folders from the worker or a store, a hub model and dataset
 * from the master.
 */
export async function stageRunInputs(ctx: RunContext, nodes: NodeRecord[], master: NodeRecord): Promise<void> {
  const hubRepos = [ctx.hubModel, ctx.hubData].flatMap((hub) => (hub ? [hub.id] : []));
  if (hubRepos.length > 0 && nodes.length > 0) {
    await steps.delivery.stageHubRepos.executeWithOptions(
      { summary: `stage-hub-repos: ${master.name} copies ${hubRepos.join(', ')} to ${nodes.map((n) => n.name).join(', ')}` },
      [{ ...ctx, master, nodes }],
    );
  }
  if (!hasStagedInputs(ctx) || nodes.length === 0) return;
  await steps.delivery.stageInputs.executeWithOptions({ summary: `stage-inputs on ${nodes.map((n) => n.name).join(', ')}` }, [
    { ...ctx, nodes },
  ]);
}

interface SourceRecord {
  source: string;
  sha256?: string;
  /** A hub source: the revision asked for and the commit it resolved to. */
  revision?: string;
  commit?: string;
  rows?: number;
}

/** run.json's task, model and data: what the run trained from, with the content hashes check-inputs took. */
export function inputsRecord(ctx: RunContext): {
  task: string;
  model: SourceRecord;
  data: Record<'train' | 'validation', SourceRecord>;
} {
  const { task, model, data } = runInputs(ctx.spec);
  const checked = ctx.inputs;
  const split = (name: 'train' | 'validation'): SourceRecord => {
    const c = checked?.[name];
    if (c && 'sha256' in c) return { source: c.source, sha256: c.sha256, rows: c.rows };
    const hub = ctx.hubData ? { revision: ctx.hubData.revision, commit: ctx.hubData.commit } : {};
    return { source: c?.source ?? describeSource(data[name]), ...hub };
  };
  const modelSource = checked?.model.source ?? (model.kind === 'hub' ? model.id : describeModel(model));
  return {
    task,
    model: {
      source: modelSource,
      ...(checked?.model.sha256 ? { sha256: checked.model.sha256 } : {}),
      ...(ctx.hubModel ? { revision: ctx.hubModel.revision, commit: ctx.hubModel.commit } : {}),
    },
    data: { train: split('train'), validation: split('validation') },
  };
}
