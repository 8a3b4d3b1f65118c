// Asks the installed Open MPI 4 how it would map and bind ranks on nodes it does not have: its `simulator`
// allocator reads a node topology from an hwloc XML file, and `orte_do_not_launch` stops after the map.
// Nothing runs; `--display-map` prints each rank's binding as a core bitmap ([BB/../..]).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const MPIRUN = 'mpirun.openmpi';

/** Why the simulator cannot be used here, or false when it can (Open MPI 4.x: ORTE has the simulator). */
export function openMpi4SkipReason(): string | false {
  const version = spawnSync(MPIRUN, ['--version'], { encoding: 'utf8' });
  if (version.error || version.status !== 0) return `${MPIRUN} is not installed`;
  return /\b4\.\d+\.\d+/.test(version.stdout) ? false : `needs Open MPI 4 (found ${version.stdout.split('\n')[0] ?? '?'})`;
}

/** hwloc 2 bitmap text ("0xffffffff,0xffffffff") of these PU indexes. */
function bitmap(ids: number[], size: number): string {
  const words = Array.from({ length: Math.ceil(size / 32) }, () => 0);
  for (const id of ids) words[Math.floor(id / 32)] = ((words[Math.floor(id / 32)] ?? 0) | (1 << (id % 32))) >>> 0;
  return words
    .map((w) => `0x${w.toString(16).padStart(8, '0')}`)
    .reverse()
    .join(',');
}

/** hwloc 2 XML of one package and one NUMA node of `cores` cores, PUs numbered as Linux does (c and c + cores share core c). */
export function hwlocXml(cores: number, threadsPerCore: number): string {
  const pus = cores * threadsPerCore;
  const all = bitmap([...Array(pus).keys()], pus);
  const node = 'nodeset="0x00000001" complete_nodeset="0x00000001"';
  let gp = 1;
  const object = (type: string, index: number, cpus: string, rest = '') =>
    `<object type="${type}" os_index="${index}" cpuset="${cpus}" complete_cpuset="${cpus}" ${node} gp_index="${gp++}"${rest}`;
  const lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<!DOCTYPE topology SYSTEM "hwloc2.dtd">', '<topology version="2.0">'];
  lines.push(`${object('Machine', 0, all, ` allowed_cpuset="${all}" allowed_nodeset="0x00000001"`)}>`);
  lines.push(`${object('Package', 0, all)}>`, `${object('NUMANode', 0, all, ' local_memory="549755813888"')}/>`);
  for (let core = 0; core < cores; core += 1) {
    const siblings = Array.from({ length: threadsPerCore }, (_, t) => core + t * cores);
    lines.push(`${object('Core', core, bitmap(siblings, pus))}>`);
    for (const pu of siblings) lines.push(`${object('PU', pu, bitmap([pu], pus))}/>`);
    lines.push('</object>');
  }
  lines.push('</object>', '</object>', '</topology>');
  return lines.join('\n');
}

export interface SimulatedRank {
  node: string;
  rank: number;
  /** Indexes of the cores the rank is bound to. */
  cores: number[];
}

/** The ranks mpirun would start on `nodes` simulated nodes of this topology, with their bindings. */
export function simulateMapping(xml: string, nodes: number, args: string[]): { ranks: SimulatedRank[]; output: string } {
  const dir = mkdtempSync(join(tmpdir(), 'tuneforge-ompi-'));
  try {
    const topo = join(dir, 'topology.xml');
    writeFileSync(topo, xml);
    const result = spawnSync(
      MPIRUN,
      [
        ...['--mca', 'ras', 'simulator', '--mca', 'ras_simulator_num_nodes', String(nodes)],
        ...['--mca', 'ras_simulator_topo_files', topo, '--mca', 'orte_do_not_launch', '1', '--display-map'],
        ...args,
        'true',
      ],
      {
        encoding: 'utf8',
        // Only maps (orte_do_not_launch), but on a loaded 2-core machine the start-up alone can take seconds.
        timeout: 120_000,
        env: { ...process.env, OMPI_ALLOW_RUN_AS_ROOT: '1', OMPI_ALLOW_RUN_AS_ROOT_CONFIRM: '1' },
      },
    );
    const output = `${result.stdout}${result.stderr}${result.error ? `\n${String(result.error)}` : ''}`;
    return { ranks: parseDisplayMap(output), output };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function parseDisplayMap(output: string): SimulatedRank[] {
  const ranks: SimulatedRank[] = [];
  let node = '';
  for (const line of output.split('\n')) {
    const nodeMatch = /Data for node: (\S+)/.exec(line);
    if (nodeMatch?.[1]) node = nodeMatch[1];
    const rankMatch = /Process rank: (\d+) Bound: .*:\[([^\]]+)\]\s*$/.exec(line);
    if (!rankMatch?.[1] || !rankMatch[2]) continue;
    const cores = rankMatch[2]
      .split('/')
      .map((cell, index) => (cell.includes('B') ? index : -1))
      .filter((index) => index >= 0);
    ranks.push({ node, rank: Number(rankMatch[1]), cores });
  }
  return ranks;
}
