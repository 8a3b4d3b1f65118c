// promote-model: the quality gate. Reads the name's current pointer, decides, and moves the pointer to this
// run's model with a compare-and-set; a lost compare-and-set re-reads and decides again (the other run may
// now be the better one). Idempotent: the run already current reports promoted.
import type { ArtifactStore } from '../artifacts/artifact-store';
import { parentArtifactsUri } from '../artifacts/artifact-uri';
import { storeRegion } from '../artifacts/open-store';
import { RUN_RECORD_KEY } from '../artifacts/run-layout';
import { readRunRecord } from '../artifacts/run-record-file';
import {
  CURRENT_POINTER_KEY,
  decidePromotion,
  parseCurrentPointer,
  type CurrentModel,
  type CurrentPointer,
  type PromotionRecord,
} from '../common/promotion';
import type { PromoteSettings, PromotionMetric } from '../run-spec/promote';
import type { ActivityDeps } from './deps';
import type { RunContext } from './types';

/** Each lost compare-and-set means another run of the name moved the pointer: this many in a row is a fault. */
export const MAX_POINTER_ATTEMPTS = 10;

export interface PromoteInput extends RunContext {
  workflowId: string;
  gate: PromoteSettings;
  /** This run's score on the gate's metric; null when evaluation gave none. */
  value: number | null;
  /** URI of the delivered model folder. */
  modelUri: string;
}

export function createPromoteActivities(deps: Pick<ActivityDeps, 'openStore'>) {
  return {
    async promoteModel(input: PromoteInput): Promise<PromotionRecord> {
      if (!input.artifacts) throw new Error('promote-model needs the run folder (prepare-artifacts sets it)');
      const names = deps.openStore(parentArtifactsUri(input.artifacts), storeRegion(input.spec));
      return promoteInStore(names, input, () => new Date().toISOString());
    },
  };
}

/** The gate against one name's folder in a store; exported for the compare-and-set tests. */
export async function promoteInStore(
  names: ArtifactStore,
  input: Pick<PromoteInput, 'workflowId' | 'gate' | 'value' | 'modelUri'>,
  now: () => string,
): Promise<PromotionRecord> {
  for (let attempt = 1; attempt <= MAX_POINTER_ATTEMPTS; attempt++) {
    const read = await names.getVersionedJson(CURRENT_POINTER_KEY);
    const pointer = read === undefined ? undefined : parseCurrentPointer(read.value);
    if (read !== undefined && pointer === undefined)
      throw new Error(`${names.uri}${CURRENT_POINTER_KEY} is not a current pointer; fix or remove it`);
    const current = pointer && (await currentModel(names, pointer, input.gate.metric));
    const decision = decidePromotion(input.gate, input.value, current, input.workflowId);
    if (!decision.promoted || current?.workflowId === input.workflowId || input.value === null) return decision;
    const next: CurrentPointer = {
      workflowId: input.workflowId,
      model: input.modelUri,
      metric: input.gate.metric,
      value: input.value,
      promotedAt: now(),
    };
    if (await names.putJsonIfUnchanged(CURRENT_POINTER_KEY, next, read?.version ?? null)) return decision;
  }
  throw new Error(`${names.uri}${CURRENT_POINTER_KEY} moved under this run ${MAX_POINTER_ATTEMPTS} times in a row`);
}

/** The current model's score on this gate's metric: the pointer's, or its run.json's when the gate's metric changed. */
async function currentModel(names: ArtifactStore, pointer: CurrentPointer, metric: PromotionMetric): Promise<CurrentModel> {
  if (pointer.metric === metric) return { workflowId: pointer.workflowId, value: pointer.value };
  const key = `${pointer.workflowId}/${RUN_RECORD_KEY}`;
  const stored = await names.getJson(key);
  if (stored === undefined) return { workflowId: pointer.workflowId, value: null };
  // A record that breaks run.json's schema fails the gate (fail closed) rather than reading as "no score".
  const record = readRunRecord(stored, `${names.uri}${key}`);
  return { workflowId: pointer.workflowId, value: record.metrics?.[metric] ?? null };
}
