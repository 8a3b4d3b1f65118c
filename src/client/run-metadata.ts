// A run's static summary and details for the Web UI, set when it starts (by the CLI or a schedule).
import { capabilitiesOf } from '../providers/capabilities';
import { runInputs, runTitle } from '../run-spec/expand-inputs';
import type { RunSpec } from '../run-spec/schema';

export function runStaticMetadata(spec: RunSpec): { staticSummary: string; staticDetails: string } {
  const t = spec.training;
  const { preset, task } = runInputs(spec);
  const title = runTitle(spec);
  const length = t.maxSteps !== undefined ? `${t.maxSteps} steps` : `${t.epochs} epoch(s)`;
  const rows: Array<[string, string]> = [
    ['Recipe', preset ? `${title} (${task})` : `none: ${title}, with the task's defaults`],
    ['Provider', capabilitiesOf(spec).description],
    ['Nodes', String(spec.nodes)],
    ['Training', `${length}, batch ${t.perDeviceBatchSize}/rank, checkpoint every ${t.saveSteps} steps${t.bf16 ? ', bf16' : ''}`],
    ['Recoveries allowed', String(spec.recovery.maxRecoveries)],
  ];
  return {
    staticSummary: `${spec.name}: ${title} on ${spec.provider}, ${spec.nodes} nodes, ${length}`,
    staticDetails: ['| | |', '|---|---|', ...rows.map(([k, v]) => `| ${k} | ${v} |`)].join('\n'),
  };
}
