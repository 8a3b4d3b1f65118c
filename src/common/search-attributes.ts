// Custom search attributes of runs: the Web UI's columns and `tuneforge list` filters. Defined once.
// SQL visibility (the dev server's SQLite, PostgreSQL) allows 3 custom Double, 3 Int and 10 Keyword
// attributes per namespace (and 3 Bool): the three Doubles below use every Double slot.
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const SEARCH_ATTRIBUTES = {
  stage: defineSearchAttributeKey('TuneforgeStage', SearchAttributeType.KEYWORD),
  provider: defineSearchAttributeKey('TuneforgeProvider', SearchAttributeType.KEYWORD),
  recipe: defineSearchAttributeKey('TuneforgeRecipe', SearchAttributeType.KEYWORD),
  runName: defineSearchAttributeKey('TuneforgeRunName', SearchAttributeType.KEYWORD),
  nodes: defineSearchAttributeKey('TuneforgeNodes', SearchAttributeType.INT),
  recoveries: defineSearchAttributeKey('TuneforgeRecoveries', SearchAttributeType.INT),
  costUsd: defineSearchAttributeKey('TuneforgeCostUsd', SearchAttributeType.DOUBLE),
  artifacts: defineSearchAttributeKey('TuneforgeArtifacts', SearchAttributeType.KEYWORD),
  model: defineSearchAttributeKey('TuneforgeModel', SearchAttributeType.KEYWORD),
  /** SQuAD scores of the trained model (0-100); unset while training runs and when evaluation is off. */
  f1: defineSearchAttributeKey('TuneforgeF1', SearchAttributeType.DOUBLE),
  exactMatch: defineSearchAttributeKey('TuneforgeExactMatch', SearchAttributeType.DOUBLE),
  /** Whether the promotion gate made the run its name's current model; unset when the spec has no gate. */
  promoted: defineSearchAttributeKey('TuneforgePromoted', SearchAttributeType.BOOL),
} as const;
