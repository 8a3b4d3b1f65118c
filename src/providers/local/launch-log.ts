// Reads the local provider's launch log: how many node processes a cluster ever started.
import { readFile } from 'node:fs/promises';
import { labLayout, DEFAULT_LAB_ROOT, DEFAULT_PIP_CACHE } from './lab';

export async function countLaunches(clusterId: string, labRoot = DEFAULT_LAB_ROOT): Promise<number> {
  const text = await readFile(labLayout(labRoot, DEFAULT_PIP_CACHE).launchLog, 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter((line) => line.length > 0)
    .filter((line) => (JSON.parse(line) as { clusterId: string }).clusterId === clusterId).length;
}
