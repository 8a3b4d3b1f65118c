// `tuneforge models <name>`: the history of a name's runs as the artifact store holds it (each run's
// run.json and the name's current.json): time, data hashes, metrics, promoted or not, which is current.
import type { Client } from '@temporalio/client';
import { nameArtifactsUri, parentArtifactsUri, parseArtifactUri } from '../../artifacts/artifact-uri';
import { createStoreOpener } from '../../artifacts/open-store';
import { RUN_RECORD_KEY } from '../../artifacts/run-layout';
import { readRunRecord } from '../../artifacts/run-record-file';
import { defaultS3Region } from '../../artifacts/s3-client';
import { WORKFLOW_TYPE } from '../../common/names';
import { CURRENT_POINTER_KEY, parseCurrentPointer, type CurrentPointer } from '../../common/promotion';
import { SEARCH_ATTRIBUTES } from '../../common/search-attributes';
import { NAME_PATTERN } from '../../run-spec/schema';
import { NoArtifacts } from './artifacts';
import { InvalidFilter } from './list';

const HASH_SHOWN = 12;

export interface ModelRow {
  workflowId: string;
  startedAt: string | null;
  outcome: string | null;
  /** sha256 of each data source, from run.json's `data`; null when the run recorded none. */
  data: { train: string | null; validation: string | null };
  metrics: Record<string, number>;
  /** null when the run had no promotion gate. */
  promoted: boolean | null;
  reason: string | null;
  current: boolean;
}

export interface ModelHistory {
  name: string;
  /** The name's folder: `<store>/<name>/`. */
  uri: string;
  current: CurrentPointer | null;
  /** Newest first. */
  runs: ModelRow[];
}

export function checkedRunName(name: string): string {
  if (!NAME_PATTERN.test(name))
    throw new InvalidFilter(`a run name is 2-40 lowercase letters, digits and dashes (got ${JSON.stringify(name)})`);
  return name;
}

/** The name's folder: from --artifacts, else from the newest run of the name that has a store. */
export async function modelsFolder(name: string, artifacts: string | undefined, client?: Client): Promise<string> {
  if (artifacts !== undefined) {
    try {
      return nameArtifactsUri(artifacts, checkedRunName(name));
    } catch (err) {
      if (err instanceof InvalidFilter) throw err;
      throw new InvalidFilter(`--artifacts ${JSON.stringify(artifacts)}: ${(err as Error).message}`);
    }
  }
  if (!client) throw new Error('modelsFolder needs a Temporal client when --artifacts is not given');
  const query = `WorkflowType = '${WORKFLOW_TYPE}' AND ${SEARCH_ATTRIBUTES.runName.name} = '${checkedRunName(name)}'`;
  for await (const info of client.workflow.list({ query, pageSize: 20 })) {
    const uri = info.typedSearchAttributes.get(SEARCH_ATTRIBUTES.artifacts);
    if (uri) return parentArtifactsUri(uri);
  }
  throw new NoArtifacts(`no run named ${name} has an artifact store (pass --artifacts <uri> to read a store directly)`);
}

export async function readModelHistory(name: string, uri: string): Promise<ModelHistory> {
  parseArtifactUri(uri);
  const store = createStoreOpener()(uri, defaultS3Region());
  const current = parseCurrentPointer(await store.getJson(CURRENT_POINTER_KEY)) ?? null;
  const records = (await store.list())
    .map((o) => o.key.split('/'))
    .filter((parts) => parts.length === 2 && parts[1] === RUN_RECORD_KEY)
    .map((parts) => parts[0] ?? '');
  const runs: ModelRow[] = [];
  for (const workflowId of records)
    runs.push(modelRow(workflowId, await store.getJson(`${workflowId}/${RUN_RECORD_KEY}`), current));
  runs.sort((a, b) => (b.startedAt ?? '').localeCompare(a.startedAt ?? ''));
  if (runs.length === 0 && current === null) throw new NoArtifacts(`no run of ${name} has a record in ${uri}`);
  return { name, uri, current, runs };
}

/** One row from a run.json read off the store: every field checked, anything missing shown as absent. */
function modelRow(workflowId: string, record: unknown, current: CurrentPointer | null): ModelRow {
  const r: Record<string, unknown> = readRunRecord(record, `${workflowId}/${RUN_RECORD_KEY}`);
  const data = isObject(r.data) ? r.data : {};
  const promotion = isObject(r.promotion) ? r.promotion : undefined;
  const metrics = isObject(r.metrics)
    ? Object.fromEntries(Object.entries(r.metrics).filter((e): e is [string, number] => typeof e[1] === 'number'))
    : {};
  return {
    workflowId,
    startedAt: text(r.startedAt),
    outcome: text(r.outcome),
    data: { train: sha(data.train), validation: sha(data.validation) },
    metrics,
    promoted: promotion && typeof promotion.promoted === 'boolean' ? promotion.promoted : null,
    reason: promotion ? text(promotion.reason) : null,
    current: current?.workflowId === workflowId,
  };
}

export function formatModelHistory(history: ModelHistory): string {
  const header = ['', 'STARTED', 'RUN', 'OUTCOME', 'DATA (train/validation)', 'METRICS', 'PROMOTED'];
  const rows = history.runs.map((r) => [
    r.current ? '*' : '',
    r.startedAt ?? '-',
    r.workflowId,
    r.outcome ?? '-',
    `${short(r.data.train)}/${short(r.data.validation)}`,
    Object.entries(r.metrics)
      .map(([k, v]) => `${k}=${v.toFixed(2)}`)
      .join(' ') || '-',
    r.promoted === null ? '-' : r.promoted ? 'yes' : `no: ${r.reason ?? ''}`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  const currentLine = history.current
    ? `current: ${history.current.workflowId} (${history.current.metric} ${history.current.value.toFixed(2)}, since ${history.current.promotedAt})`
    : 'current: none';
  return [history.uri, currentLine, line(header), ...rows.map(line), `${rows.length} run(s)`].join('\n');
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function text(v: unknown): string | null {
  return typeof v === 'string' ? v : null;
}

function sha(source: unknown): string | null {
  return isObject(source) && typeof source.sha256 === 'string' ? source.sha256 : null;
}

function short(hash: string | null): string {
  return hash === null ? '-' : hash.slice(0, HASH_SHOWN);
}
