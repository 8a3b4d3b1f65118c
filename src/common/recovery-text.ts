// One recovery in words, for the Web UI's details, `tuneforge status` and the summary. Pure.
import type { RecoveryRecord } from '../records/recovery-record';

/** e.g. "worker-1 lost at step 120 (gone...): standby standby-1 took its place; resumed from step 100 after 8.2 s, 20 steps repeated". */
export function recoveryLine(r: RecoveryRecord): string {
  if (r.path === 'grow') return grownLine(r);
  const lost = `${r.lostNodes.join(', ')} lost${r.lastStep === null ? '' : ` at step ${r.lastStep}`}${r.cause ? ` (${r.cause})` : ''}`;
  const filled = r.path === undefined ? '' : `: ${pathText(r)}`;
  return `${lost}${filled}${resumedText(r)}`;
}

/** e.g. "capacity came back: worker-2 joined at step 197; resumed from step 197 after 9.2 s, 0 steps repeated". */
function grownLine(r: RecoveryRecord): string {
  const joined = `${r.cause ?? 'capacity came back'}: ${(r.filledBy ?? []).join(', ')} joined${r.lastStep === null ? '' : ` at step ${r.lastStep}`}`;
  return `${joined}${resumedText(r)}`;
}

/** "; resumed from step 100 after 8.2 s, 20 steps repeated" once the resumed job reported a step; empty before. */
function resumedText(r: RecoveryRecord): string {
  if (r.secondsToResume === undefined) return '';
  const repeated = r.stepsRepeated === undefined ? '' : `, ${r.stepsRepeated} steps repeated`;
  return `; resumed from step ${r.resumedStep ?? '?'} after ${r.secondsToResume.toFixed(1)} s${repeated}`;
}

function pathText(r: RecoveryRecord): string {
  const by = r.filledBy ?? [];
  const standbys = by.filter((name, i) => name !== r.lostNodes[i]);
  if (r.path === 'standby') return `standby ${standbys.join(', ')} took the place`;
  if (r.path === 'replacement') return `replaced from the image`;
  if (r.path === 'shrink') {
    const b = r.batch;
    const batch = b
      ? `, ${b.perDeviceBatchSize} per rank x ${b.gradientAccumulationSteps} accumulation: global batch ${b.globalBatch}${b.exact ? ' as before' : ` (nearest to ${b.wantedGlobalBatch})`}`
      : '';
    return `no capacity, training went on without it${batch}`;
  }
  return `standby ${standbys.join(', ')} and replacements from the image`;
}
