// The delivered model's README.md in Hugging Face's model-card format: YAML front matter the hub reads
// (base_model, datasets, metrics, model-index with the run's scores) and a body with the data and its hashes,
// the trainer's resolved values, the run id and its cost, so the folder is ready for push_to_hub. Pure.
import { stringify } from 'yaml';
import type { TaskName } from '../run-spec/inputs';
import { TASK_DEFINITIONS } from '../run-spec/tasks';
import type { TrainerValueRow } from '../run-spec/trainer-values';

export interface CardSource {
  /** The source in words (a hub split, a path, a URI). */
  source: string;
  sha256?: string;
  rows?: number;
}

export interface ModelCardInput {
  runName: string;
  workflowId: string;
  task: TaskName;
  /** The preset the run used, if any. */
  preset: string | null;
  model: CardSource & { hubId?: string };
  data: { train: CardSource; validation: CardSource };
  /** The hub dataset both splits come from, when the data is a hub dataset. */
  hubDataset?: { id: string; config?: string; revision?: string; validationSplit: string };
  /** Scores by run.json's names (0-100); null when the run did not evaluate. */
  scores: Record<string, number> | null;
  hyperparameters: TrainerValueRow[];
  costUsd: number;
  endedAt: string;
}

/** Hugging Face's metric ids and display names for run.json's score names. */
const HUB_METRICS: Readonly<Record<string, { type: string; name: string }>> = {
  exact_match: { type: 'exact_match', name: 'Exact match' },
  f1: { type: 'f1', name: 'F1' },
  accuracy: { type: 'accuracy', name: 'Accuracy' },
  macro_f1: { type: 'f1', name: 'Macro-F1' },
};

const TASK_TITLES: Readonly<Record<TaskName, string>> = {
  'question-answering': 'Question Answering',
  'text-classification': 'Text Classification',
};

function frontMatter(card: ModelCardInput): Record<string, unknown> {
  const scores = Object.entries(card.scores ?? {}).filter(([name]) =>
    TASK_DEFINITIONS[card.task].metrics.some((metric) => metric === name),
  );
  const hub = card.hubDataset;
  const dataset = hub
    ? {
        name: hub.id,
        type: hub.id,
        ...(hub.config ? { config: hub.config } : {}),
        split: hub.validationSplit,
        ...(hub.revision ? { revision: hub.revision } : {}),
      }
    : { name: card.data.validation.source, type: 'custom', split: 'validation' };
  return {
    library_name: 'transformers',
    pipeline_tag: TASK_DEFINITIONS[card.task].pipelineTag,
    ...(card.model.hubId ? { base_model: card.model.hubId } : {}),
    ...(hub ? { datasets: [hub.id] } : {}),
    metrics: [...new Set(scores.map(([name]) => HUB_METRICS[name]?.type ?? name))],
    'model-index': [
      {
        name: card.runName,
        results: [
          {
            task: { type: card.task, name: TASK_TITLES[card.task] },
            dataset,
            metrics: scores.map(([name, value]) => ({
              type: HUB_METRICS[name]?.type ?? name,
              value,
              name: HUB_METRICS[name]?.name ?? name,
            })),
          },
        ],
      },
    ],
  };
}

/** A Markdown table cell: pipes and newlines would break the row. */
const cell = (value: unknown) =>
  String(value)
    .replace(/\|/g, '\\|')
    .replace(/\s*\n\s*/g, ' ');

function sourceRows(card: ModelCardInput): string[] {
  const row = (what: string, s: CardSource) => `| ${what} | ${cell(s.source)} | ${s.sha256 ?? '-'} | ${s.rows ?? '-'} |`;
  return [
    '| Input | Source | sha256 | Rows |',
    '|---|---|---|---|',
    row('base model', card.model),
    row('train', card.data.train),
    row('validation', card.data.validation),
  ];
}

export function renderModelCard(card: ModelCardInput): string {
  const scores = Object.entries(card.scores ?? {});
  const what = card.preset ? `the ${card.preset} preset` : `${card.task} with the task's defaults`;
  return [
    '---',
    stringify(frontMatter(card)).trimEnd(),
    '---',
    '',
    `# ${card.runName}`,
    '',
    `${TASK_TITLES[card.task]} model fine-tuned from ${card.model.source} by tuneforge (${what}).`,
    '',
    '## Data',
    '',
    ...sourceRows(card),
    '',
    '## Hyperparameters',
    '',
    'The values the trainer ran with, and where each came from.',
    '',
    '| Argument | Value | Source |',
    '|---|---|---|',
    ...card.hyperparameters.map((h) => `| ${h.name} | ${cell(h.value)} | ${h.from} |`),
    '',
    '## Results',
    '',
    ...(scores.length > 0
      ? ['On the validation split (0-100).', '', '| Metric | Value |', '|---|---|', ...scores.map(([n, v]) => `| ${n} | ${v} |`)]
      : ['The run did not evaluate (training.evaluate: false).']),
    '',
    '## Run',
    '',
    `- Run id: ${card.workflowId}`,
    `- Finished: ${card.endedAt}`,
    `- Cost: $${card.costUsd.toFixed(2)} (every node the run launched, at the spec's prices)`,
    '',
  ].join('\n');
}
