// Worker node names, worker-1..N. Pure (the workflow uses it).
export function workerNames(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `worker-${i + 1}`);
}
