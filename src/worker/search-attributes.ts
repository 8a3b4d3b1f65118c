// tuneforge's search attributes on a namespace: an operator registers them once (`tuneforge setup-namespace`,
// or compose's setup job); the worker only checks, so it needs no operator rights on a team's namespace.
import { isGrpcServiceError, type ConnectionLike } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { SEARCH_ATTRIBUTES } from '../common/search-attributes';

const INDEXED_TYPE = {
  KEYWORD: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
  INT: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_INT,
  DOUBLE: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_DOUBLE,
  BOOL: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_BOOL,
} as const;

const GRPC_ALREADY_EXISTS = 6;

/** The command an operator runs to add them (named in the worker's refusal). */
export const SETUP_NAMESPACE_COMMAND = 'tuneforge setup-namespace';

export class SearchAttributesMissing extends Error {
  override readonly name = 'SearchAttributesMissing';
  constructor(
    readonly namespace: string,
    readonly missing: string[],
  ) {
    super(
      `namespace ${namespace} lacks tuneforge's search attribute(s) ${missing.join(', ')}; ` +
        `someone with operator rights on it adds them with: TEMPORAL_NAMESPACE=${namespace} ${SETUP_NAMESPACE_COMMAND}`,
    );
  }
}

/** The names (with their types) of tuneforge's attributes the namespace does not have. */
export async function missingSearchAttributes(
  connection: ConnectionLike,
  namespace: string,
): Promise<Array<{ name: string; type: keyof typeof INDEXED_TYPE }>> {
  const existing = await connection.operatorService.listSearchAttributes({ namespace });
  const known = new Set(Object.keys(existing.customAttributes ?? {}));
  return Object.values(SEARCH_ATTRIBUTES)
    .filter((key) => !known.has(key.name))
    .map((key) => ({ name: key.name, type: key.type as keyof typeof INDEXED_TYPE }));
}

/** The worker's check at start: throws SearchAttributesMissing naming each missing one. */
export async function checkSearchAttributes(connection: ConnectionLike, namespace: string): Promise<void> {
  const missing = await missingSearchAttributes(connection, namespace);
  if (missing.length > 0)
    throw new SearchAttributesMissing(
      namespace,
      missing.map((m) => m.name),
    );
}

/** Registers the missing ones (operator rights needed); idempotent. Returns the names it added. */
export async function registerSearchAttributes(connection: ConnectionLike, namespace: string): Promise<string[]> {
  const missing = await missingSearchAttributes(connection, namespace);
  if (missing.length === 0) return [];
  const searchAttributes = Object.fromEntries(missing.map((m) => [m.name, INDEXED_TYPE[m.type]]));
  try {
    await connection.operatorService.addSearchAttributes({ namespace, searchAttributes });
  } catch (err) {
    // Another operator (or compose's setup job) may have registered them between our list and add.
    if (!(isGrpcServiceError(err) && err.code === GRPC_ALREADY_EXISTS)) throw err;
  }
  return missing.map((m) => m.name);
}

/** Test and bench harnesses act as the operator of their own dev server. */
export async function ensureSearchAttributes(connection: ConnectionLike, namespace: string): Promise<void> {
  await registerSearchAttributes(connection, namespace);
}
