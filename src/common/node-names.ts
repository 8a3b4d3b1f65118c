// Node names: workers worker-1..N, standbys standby-K. Pure (the workflow uses it).
export function workerNames(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `worker-${i + 1}`);
}

/** Standby node names, standby-<from>..standby-<from+count-1>: each standby the run launches gets a new one. */
export function standbyNames(count: number, from = 1): string[] {
  return Array.from({ length: count }, (_, i) => `standby-${from + i}`);
}
