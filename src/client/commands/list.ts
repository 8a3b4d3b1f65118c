// `tuneforge list`: runs of the fineTune workflow from Temporal visibility, filtered on tuneforge's search attributes.
import type { Client, WorkflowExecutionInfo } from '@temporalio/client';
import { WORKFLOW_TYPE } from '../../common/names';
import { SEARCH_ATTRIBUTES } from '../../common/search-attributes';

/** CLI status words -> visibility's ExecutionStatus values. */
export const STATUS_FILTERS = {
  running: 'Running',
  completed: 'Completed',
  failed: 'Failed',
  cancelled: 'Canceled',
  canceled: 'Canceled',
  terminated: 'Terminated',
  'timed-out': 'TimedOut',
  'continued-as-new': 'ContinuedAsNew',
} as const;
export type StatusFilter = keyof typeof STATUS_FILTERS;

/** Filters on custom search attributes, by CLI option name. */
const ATTRIBUTE_FILTERS = {
  stage: SEARCH_ATTRIBUTES.stage,
  provider: SEARCH_ATTRIBUTES.provider,
  recipe: SEARCH_ATTRIBUTES.recipe,
  name: SEARCH_ATTRIBUTES.runName,
} as const;
type AttributeFilter = keyof typeof ATTRIBUTE_FILTERS;

/** Lower bounds on the trained model's scores, by CLI option name (--min-f1, --min-exact-match). */
const SCORE_FILTERS = {
  minF1: SEARCH_ATTRIBUTES.f1,
  minExactMatch: SEARCH_ATTRIBUTES.exactMatch,
} as const;
type ScoreFilter = keyof typeof SCORE_FILTERS;

export type ListFilters = Partial<Record<AttributeFilter, string>> &
  Partial<Record<ScoreFilter, number>> & { status?: StatusFilter };

export const DEFAULT_LIST_LIMIT = 50;
const MAX_PAGE_SIZE = 1000;

export interface RunRow {
  workflowId: string;
  runId: string;
  status: string;
  stage: string | null;
  provider: string | null;
  recipe: string | null;
  runName: string | null;
  nodes: number | null;
  recoveries: number | null;
  costUsd: number | null;
  /** SQuAD scores of the trained model (0-100); null until training returns, and when evaluation is off. */
  exactMatch: number | null;
  f1: number | null;
  startTime: string;
  closeTime: string | null;
}

export class InvalidFilter extends Error {
  override readonly name = 'InvalidFilter';
}

/** The custom attributes these filters use are not registered on the server (nothing upserted them yet). */
export class SearchAttributesNotRegistered extends Error {
  override readonly name = 'SearchAttributesNotRegistered';
  constructor(readonly missing: string[]) {
    super(`the server does not know the search attribute(s) ${missing.join(', ')}; start the worker once: it registers them`);
  }
}

/** A filter value for the query: refused rather than escaped when it holds a quote, a backslash or a control character. */
export function filterValue(value: string): string {
  if (value.length === 0) throw new InvalidFilter('a filter value cannot be empty');
  if (/['"`\\]/.test(value) || /\p{Cc}/u.test(value)) {
    throw new InvalidFilter(
      `filter values cannot contain quotes, backslashes or control characters (got ${JSON.stringify(value)})`,
    );
  }
  return value;
}

export function parseStatus(value: string): StatusFilter {
  if (Object.hasOwn(STATUS_FILTERS, value)) return value as StatusFilter;
  throw new InvalidFilter(`status must be one of ${Object.keys(STATUS_FILTERS).join(', ')} (got ${JSON.stringify(value)})`);
}

const SCORE_PATTERN = /^\d{1,3}(\.\d{1,4})?$/;
const MAX_SCORE = 100;

/** A score bound as typed: 0 to 100, at most 4 decimals (what a Double attribute keeps). */
export function parseScore(value: string): number {
  if (!SCORE_PATTERN.test(value) || Number(value) > MAX_SCORE) {
    throw new InvalidFilter(`scores are numbers from 0 to 100, e.g. 85 or 85.5 (got ${JSON.stringify(value)})`);
  }
  return Number(value);
}

/** The bound as a query literal: plain decimal notation, never an exponent. */
function scoreLiteral(value: number): string {
  if (!Number.isFinite(value) || value < 0 || value > MAX_SCORE) {
    throw new InvalidFilter(`scores are numbers from 0 to 100 (got ${value})`);
  }
  return String(Number(value.toFixed(4)));
}

export function parseLimit(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw new InvalidFilter(`--limit takes a whole number of at least 1 (got ${JSON.stringify(value)})`);
  return n;
}

/**
 * The visibility query: always the fineTune type and one row per logical run (the runs of a chain that
 * continued as new are behind the one that goes on), then one clause per filter given.
 */
export function buildListQuery(filters: ListFilters): string {
  const clauses = [`WorkflowType = '${WORKFLOW_TYPE}'`, `ExecutionStatus != 'ContinuedAsNew'`];
  for (const option of Object.keys(ATTRIBUTE_FILTERS) as AttributeFilter[]) {
    const value = filters[option];
    if (value !== undefined) clauses.push(`${ATTRIBUTE_FILTERS[option].name} = '${filterValue(value)}'`);
  }
  for (const option of Object.keys(SCORE_FILTERS) as ScoreFilter[]) {
    const value = filters[option];
    if (value !== undefined) clauses.push(`${SCORE_FILTERS[option].name} >= ${scoreLiteral(value)}`);
  }
  if (filters.status) clauses.push(`ExecutionStatus = '${STATUS_FILTERS[filters.status]}'`);
  return clauses.join(' AND ');
}

/** Custom attribute names the filters use. */
export function attributesUsed(filters: ListFilters): string[] {
  const keys = { ...ATTRIBUTE_FILTERS, ...SCORE_FILTERS };
  return (Object.keys(keys) as Array<keyof typeof keys>).filter((o) => filters[o] !== undefined).map((o) => keys[o].name);
}

export async function listRuns(client: Client, filters: ListFilters, limit = DEFAULT_LIST_LIMIT): Promise<RunRow[]> {
  const query = buildListQuery(filters);
  const rows: RunRow[] = [];
  try {
    for await (const info of client.workflow.list({ query, pageSize: Math.min(limit, MAX_PAGE_SIZE) })) {
      rows.push(toRow(info));
      if (rows.length >= limit) break;
    }
  } catch (err) {
    throw (await unregisteredAttributes(client, attributesUsed(filters))) ?? err;
  }
  return rows;
}

/** After a failed listing: the error to show instead when the cause is a filter on an unregistered attribute. */
async function unregisteredAttributes(client: Client, used: string[]): Promise<SearchAttributesNotRegistered | undefined> {
  if (used.length === 0) return undefined;
  const { customAttributes } = await client.connection.operatorService.listSearchAttributes({
    namespace: client.options.namespace,
  });
  const missing = used.filter((name) => !Object.hasOwn(customAttributes ?? {}, name));
  return missing.length > 0 ? new SearchAttributesNotRegistered(missing) : undefined;
}

function toRow(info: WorkflowExecutionInfo): RunRow {
  const attrs = info.typedSearchAttributes;
  return {
    workflowId: info.workflowId,
    runId: info.runId,
    status: info.status.name,
    stage: attrs.get(SEARCH_ATTRIBUTES.stage) ?? null,
    provider: attrs.get(SEARCH_ATTRIBUTES.provider) ?? null,
    recipe: attrs.get(SEARCH_ATTRIBUTES.recipe) ?? null,
    runName: attrs.get(SEARCH_ATTRIBUTES.runName) ?? null,
    nodes: attrs.get(SEARCH_ATTRIBUTES.nodes) ?? null,
    recoveries: attrs.get(SEARCH_ATTRIBUTES.recoveries) ?? null,
    costUsd: attrs.get(SEARCH_ATTRIBUTES.costUsd) ?? null,
    exactMatch: attrs.get(SEARCH_ATTRIBUTES.exactMatch) ?? null,
    f1: attrs.get(SEARCH_ATTRIBUTES.f1) ?? null,
    startTime: info.startTime.toISOString(),
    closeTime: info.closeTime?.toISOString() ?? null,
  };
}
