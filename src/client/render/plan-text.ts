// The text of `tuneforge plan`: the layout in a few lines, then the exact commands.
import { providerTraits } from '../../providers/capabilities';
import type { RunPlan } from '../../recipes/run-plan';
import { shellJoin } from '../../remote/shell-quote';
import { trainerValueRows, type TrainerValues } from '../../run-spec/trainer-values';

export function formatPlan(plan: RunPlan): string {
  const lines = [
    `Plan for ${plan.runName}: ${plan.preset ? `recipe ${plan.recipe}` : `${plan.recipe} (no preset)`} on ${plan.provider} (a dry run: nothing launched, nothing contacted)`,
    '',
    `Task:              ${plan.task}`,
    `Model:             ${plan.inputs.model}`,
    `Data:              train ${plan.inputs.train}; validation ${plan.inputs.validation}`,
    `Nodes:             ${plan.nodes} x ${plan.instanceType}${plan.fallbackInstanceTypes.length > 0 ? ` (fails over to ${plan.fallbackInstanceTypes.join(', ')})` : ''}`,
    `${providerTraits(plan.provider).nodesShareCpus ? 'CPU (all nodes):' : 'CPU per node:    '}  ${plan.topology ? describeTopology(plan.topology) : 'unknown until the master runs lscpu'}`,
    `Ranks per node:    ${plan.ranksPerNode === null ? 'decided at run time' : `${plan.ranksPerNode} (${plan.worldSize} ranks in all)${plan.coresPerRank === null ? ', unbound' : `, each bound to ${plan.coresPerRank} cores`}`}`,
    `Threads per rank:  ${plan.threadsPerRank === null ? 'decided at run time' : `${plan.threadsPerRank} (OMP_NUM_THREADS)`}`,
    `Global batch:      ${globalBatch(plan)}`,
    `Learning rate:     ${plan.learningRate} (${plan.values.learningRate.from})`,
    `Evaluation:        ${plan.evaluate ? `on: ${plan.task === 'text-classification' ? 'accuracy and macro-F1' : 'exact match and F1'} on the validation split after training (training.evaluate: false turns it off)` : 'off (training.evaluate: false)'}`,
    `Hub downloads:     ${plan.hubIds.length > 0 ? plan.hubIds.join(', ') : 'none (offline assets)'}`,
    `Notify:            ${plan.notify ? `webhook ${plan.notify}, when the run ends` : 'nobody (notify.webhook)'}`,
  ];
  lines.push('', 'Trainer values, and where each came from:', ...valueLines(plan.values).map((l) => `  ${l}`));
  if (plan.hostfile) lines.push('', 'Hostfile of the first training job:', ...plan.hostfile.map((l) => `  ${l}`));
  if (plan.mpirun)
    lines.push('', 'mpirun, on the master (after the newest checkpoint is copied to every worker):', `  ${plan.mpirun}`);
  lines.push('', 'Trainer arguments, on every rank:', ...argumentLines(plan.trainerArgs).map((l) => `  ${l}`));
  if (plan.sanity) lines.push('', 'Sanity run, one process on the master (no evaluation):', `  ${plan.sanity}`);
  lines.push('', 'Notes:', ...plan.notes.map((n) => `  - ${n}`));
  return lines.join('\n');
}

function describeTopology(t: NonNullable<RunPlan['topology']>): string {
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  return `${plural(t.sockets, 'socket')}, ${plural(t.numaNodes, 'NUMA node')}, ${t.physicalCores} physical cores, ${t.logicalCpus} vCPUs, ${t.amx ? 'AMX' : 'no AMX'} (${t.source})`;
}

function globalBatch(plan: RunPlan): string {
  const { perDevice, gradientAccumulation, global } = plan.batch;
  const perRank = `${perDevice} per rank x ${gradientAccumulation} accumulation step(s)`;
  return global === null ? `ranks x ${perRank}` : `${global} (${plan.worldSize} ranks x ${perRank})`;
}

/** One flag and its value per line (shell-quoted, as the command line has them); the script first. */
function argumentLines(args: string[]): string[] {
  const groups: string[][] = [];
  for (const arg of args) {
    const last = groups[groups.length - 1];
    const takesValue = last !== undefined && last.length === 1 && (last[0] ?? '').startsWith('--');
    if (takesValue && !arg.startsWith('--')) last.push(arg);
    else groups.push([arg]);
  }
  return groups.map(shellJoin);
}

/** Every trainer value by its flag name, with its source: spec, preset <name>, task default or tuneforge default. */
function valueLines(values: TrainerValues): string[] {
  const rows = trainerValueRows(values);
  const width = Math.max(...rows.map((r) => `${r.name} ${String(r.value)}`.length));
  return rows.map((r) => `${`${r.name} ${String(r.value)}`.padEnd(width)}  (${r.from})`);
}
