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

export type ListFilters = Partial<Record<AttributeFilter, string>> & { status?: StatusFilter };

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

export function parseLimit(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw new InvalidFilter(`--limit takes a whole number of at least 1 (got ${JSON.stringify(value)})`);
  return n;
}

/** The visibility query: always the fineTune type, then one clause per filter given. */
export function buildListQuery(filters: ListFilters): string {
  const clauses = [`WorkflowType = '${WORKFLOW_TYPE}'`];
  for (const option of Object.keys(ATTRIBUTE_FILTERS) as AttributeFilter[]) {
    const value = filters[option];
    if (value !== undefined) clauses.push(`${ATTRIBUTE_FILTERS[option].name} = '${filterValue(value)}'`);
  }
  if (filters.status) clauses.push(`ExecutionStatus = '${STATUS_FILTERS[filters.status]}'`);
  return clauses.join(' AND ');
}

/** Custom attribute names the filters use. */
export function attributesUsed(filters: ListFilters): string[] {
  return (Object.keys(ATTRIBUTE_FILTERS) as AttributeFilter[])
    .filter((o) => filters[o] !== undefined)
    .map((o) => ATTRIBUTE_FILTERS[o].name);
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
    startTime: info.startTime.toISOString(),
    closeTime: info.closeTime?.toISOString() ?? null,
  };
}
