// run.json: what a run trained, on what, how it scored and what it cost, written next to the model by the run
// that ends a chain. The type the writer fills and the JSON Schema (docs/run-record.schema.json is its copy
// for other languages) that is checked on write and on every read. Imports nothing outside src/records/.
import type { MetricName, RunMetrics } from './scores';
import type { TrainResult } from './train-result';

export type RunOutcomeName = 'succeeded' | 'failed' | 'cancelled';

/** One input as the run used it: where it came from and, once checked, its content hash. */
export interface SourceRecord {
  source: string;
  sha256?: string;
  /** A hub source: the revision asked for and the commit it resolved to. */
  revision?: string;
  commit?: string;
  rows?: number;
}

/** What the promotion gate decided (runs with `promote` only). */
export interface PromotionDecision {
  metric: MetricName;
  /** This run's score; null when evaluation gave none. */
  value: number | null;
  min: number;
  /** The model that was current when the gate decided, with its score on this metric (null: none recorded). */
  current?: { workflowId: string; value: number | null };
  promoted: boolean;
  reason: string;
}

export interface RunRecord {
  workflowId: string;
  runName: string;
  outcome: RunOutcomeName;
  /** The root cause's type and message; null when the run succeeded. */
  error: { type: string; message: string } | null;
  /** ISO times. */
  startedAt: string;
  endedAt: string;
  /** The normalized run spec (its own schema is src/run-spec/schema.ts). */
  spec: object;
  recipeFingerprint: string | null;
  /** The master's venv: package name to version. */
  packages: Record<string, string> | null;
  task: string;
  model: SourceRecord;
  data: { train: SourceRecord; validation: SourceRecord };
  modelUri: string | null;
  evaluation: string | null;
  throughput: { sanitySamplesPerSecond: number; samplesPerSecond: number; stepsPerSecond: number } | null;
  training: TrainResult | null;
  /** The kernels bf16 really ran on (src/common/bf16.ts). */
  bf16: object | null;
  metrics: RunMetrics | null;
  promotion: PromotionDecision | null;
  lossCurve: Array<{ step: number; loss: number }>;
  steps: object[];
  nodes: object[];
  nodesLaunched: number | null;
  recoveries: object[];
  /** Every node the run launched, at the spec's prices (replacements included). */
  costUsd: number;
  nodesLeft: number | null;
}

/** Fields every run.json has had; the others are checked when present, so records written before them still read. */
export const RUN_RECORD_REQUIRED = ['workflowId', 'runName', 'outcome', 'startedAt', 'endedAt', 'spec'] as const;

/** run.json as read back: the fields every record has, the rest as far as the writer of its day knew them. */
export type StoredRunRecord = Pick<RunRecord, (typeof RUN_RECORD_REQUIRED)[number]> &
  Partial<Omit<RunRecord, (typeof RUN_RECORD_REQUIRED)[number] | 'error'>> & {
    /** Records written before 2026-12 hold the error's message only. */
    error?: RunRecord['error'] | string;
  };

const nullable = (type: string | string[]) => ({ type: [...(Array.isArray(type) ? type : [type]), 'null'] });
const number = { type: 'number' };
const string = { type: 'string' };

const SOURCE = {
  type: 'object',
  required: ['source'],
  properties: { source: string, sha256: string, revision: string, commit: string, rows: { type: 'integer', minimum: 0 } },
  additionalProperties: false,
};

const METRICS = {
  type: ['object', 'null'],
  properties: { f1: number, exact_match: number, accuracy: number, macro_f1: number },
  additionalProperties: false,
};

const PROMOTION = {
  type: ['object', 'null'],
  required: ['metric', 'value', 'min', 'promoted', 'reason'],
  properties: {
    metric: { enum: ['f1', 'exact_match', 'accuracy', 'macro_f1'] },
    value: nullable('number'),
    min: number,
    current: {
      type: 'object',
      required: ['workflowId', 'value'],
      properties: { workflowId: string, value: nullable('number') },
      additionalProperties: false,
    },
    promoted: { type: 'boolean' },
    reason: string,
  },
  additionalProperties: false,
};

/**
 * run.json's JSON Schema, in the subset src/recipes/schema-check.ts checks. Fields it does not name are let
 * through (records of older runs may hold some); the writer's RunRecord type keeps new ones out.
 */
export const RUN_RECORD_SCHEMA = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  title: 'tuneforge run.json',
  type: 'object',
  required: [...RUN_RECORD_REQUIRED],
  properties: {
    workflowId: string,
    runName: string,
    outcome: { enum: ['succeeded', 'failed', 'cancelled'] },
    error: {
      type: ['object', 'string', 'null'],
      required: ['type', 'message'],
      properties: { type: string, message: string },
      additionalProperties: false,
    },
    startedAt: string,
    endedAt: string,
    spec: { type: 'object' },
    recipeFingerprint: nullable('string'),
    packages: nullable('object'),
    task: string,
    model: SOURCE,
    data: {
      type: 'object',
      required: ['train', 'validation'],
      properties: { train: SOURCE, validation: SOURCE },
      additionalProperties: false,
    },
    modelUri: nullable('string'),
    evaluation: nullable('string'),
    throughput: {
      type: ['object', 'null'],
      required: ['sanitySamplesPerSecond', 'samplesPerSecond', 'stepsPerSecond'],
      properties: { sanitySamplesPerSecond: number, samplesPerSecond: number, stepsPerSecond: number },
      additionalProperties: false,
    },
    training: {
      type: ['object', 'null'],
      required: ['globalStep', 'worldSize'],
      properties: { globalStep: { type: 'integer', minimum: 0 }, worldSize: { type: 'integer', minimum: 1 }, metrics: METRICS },
    },
    bf16: nullable('object'),
    metrics: METRICS,
    promotion: PROMOTION,
    lossCurve: { type: 'array' },
    steps: { type: 'array' },
    nodes: { type: 'array' },
    nodesLaunched: nullable('integer'),
    recoveries: { type: 'array' },
    costUsd: { type: 'number', minimum: 0 },
    nodesLeft: nullable('integer'),
  },
};
