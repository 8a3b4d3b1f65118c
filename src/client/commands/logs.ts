// `tuneforge logs <run>`: the nodes' job logs as the run's folder in the artifact store holds them (uploaded
// while training and before teardown, so closed runs too); --follow reads them again until the run ends.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Client } from '@temporalio/client';
import type { Command } from 'commander';
import type { ArtifactStore } from '../../artifacts/artifact-store';
import { createStoreOpener } from '../../artifacts/open-store';
import { LOG_SUFFIX, LOGS_KEY } from '../../artifacts/run-layout';
import { defaultS3Region } from '../../artifacts/s3-client';
import { withClient, type ClientSettings } from '../connection';
import { optionParser } from '../render/cli-input';
import { artifactsFolderOfRun } from './artifacts';
import { parseInterval } from './follow';
import { LogsNotFound } from './logs-not-found';

export interface LogFile {
  node: string;
  /** The job's folder name on the node (install-<fingerprint>, sanity, train-<n>, ...). */
  job: string;
  key: string;
}

export interface LogsOptions {
  node?: string;
  rank?: number;
}

const DEFAULT_FOLLOW_INTERVAL_MS = 5000;
/** Open MPI's --tag-output prefix: `[<job>,<rank>]<stdout>:`. */
const RANK_TAG = /^\[\d+,(\d+)\]<(?:stdout|stderr|stddiag)>:/;

/** The log files under `logs/` in the store, master first, then by node and job. */
export function logFilesOf(keys: string[]): LogFile[] {
  const files = keys.flatMap((key) => {
    const [root, node, name, ...rest] = key.split('/');
    if (root !== LOGS_KEY || !node || !name?.endsWith(LOG_SUFFIX) || rest.length > 0) return [];
    return [{ node, job: name.slice(0, -LOG_SUFFIX.length), key }];
  });
  const order = (f: LogFile) => `${f.node === 'master' ? '0' : '1'}${f.node}/${f.job}`;
  return files.sort((a, b) => order(a).localeCompare(order(b)));
}

/** The files `--node` asks for; an unknown node is an error that names the nodes there are. */
export function selectFiles(files: LogFile[], options: LogsOptions, workflowId: string): LogFile[] {
  if (options.node === undefined) return files;
  const chosen = files.filter((f) => f.node === options.node);
  if (chosen.length === 0) {
    const nodes = [...new Set(files.map((f) => f.node))];
    throw new LogsNotFound(`run ${workflowId} has no logs of node ${options.node}; nodes with logs: ${nodes.join(', ')}`);
  }
  return chosen;
}

/** The lines of one rank (its tag removed); without `rank`, every line as it is. */
export function rankLines(lines: string[], rank: number | undefined): string[] {
  if (rank === undefined) return lines;
  return lines.flatMap((line) => {
    const tag = RANK_TAG.exec(line);
    return tag && Number(tag[1]) === rank ? [line.slice(tag[0].length)] : [];
  });
}

export function parseRank(value: string): number {
  const rank = Number(value);
  if (!Number.isInteger(rank) || rank < 0)
    throw new RangeError(`--rank takes a rank number, 0 or more (got ${JSON.stringify(value)})`);
  return rank;
}

function openStore(uri: string): ArtifactStore {
  return createStoreOpener()(uri, defaultS3Region());
}

/** The stored logs, each with its size (what --follow compares to skip a read). */
async function storedFiles(store: ArtifactStore): Promise<Array<LogFile & { size: number }>> {
  const objects = await store.list(`${LOGS_KEY}/`);
  const sizes = new Map(objects.map((o) => [o.key, o.size]));
  return logFilesOf(objects.map((o) => o.key)).map((f) => ({ ...f, size: sizes.get(f.key) ?? 0 }));
}

/** A file's complete lines (a final line without its newline is still being written, unless `whole`). */
async function readLines(store: ArtifactStore, file: LogFile, whole: boolean): Promise<string[]> {
  const text = (await store.getText(file.key)) ?? '';
  const lines = text.split('\n');
  const last = lines.pop() ?? '';
  return whole && last !== '' ? [...lines, last] : lines;
}

export interface LogSection {
  node: string;
  job: string;
  lines: string[];
}

/** Every selected log, read once. */
export async function readLogs(uri: string, workflowId: string, options: LogsOptions): Promise<LogSection[]> {
  const store = openStore(uri);
  const files = await storedFiles(store);
  if (files.length === 0)
    throw new LogsNotFound(`run ${workflowId} has no logs yet: they are uploaded while it trains and before its teardown`);
  const sections: LogSection[] = [];
  for (const file of selectFiles(files, options, workflowId)) {
    sections.push({ node: file.node, job: file.job, lines: rankLines(await readLines(store, file, true), options.rank) });
  }
  if (options.rank === undefined) return sections;
  // A rank's lines are in the training jobs' logs only: the other logs say nothing of it.
  const ranked = sections.filter((s) => s.lines.length > 0);
  if (ranked.length === 0)
    throw new LogsNotFound(
      `run ${workflowId} has no lines of rank ${options.rank} in its logs (only training jobs tag lines by rank)`,
    );
  return ranked;
}

export function formatSections(sections: LogSection[]): string {
  if (sections.length === 1) return sections[0]?.lines.join('\n') ?? '';
  return sections.map((s) => [`==> ${s.node}/${s.job} <==`, ...s.lines].join('\n')).join('\n\n');
}

async function runIsOpen(client: Client, workflowId: string): Promise<boolean> {
  return (await client.workflow.getHandle(workflowId).describe()).status.name === 'RUNNING';
}

/**
 * Prints each selected log's new lines as the store's copy grows, until the run has ended and its last
 * upload (before teardown) has been read. `print` gets each new line with its file.
 */
export async function followLogs(
  client: Client,
  workflowId: string,
  options: LogsOptions & { intervalMs: number },
  print: (file: LogFile, line: string) => void,
): Promise<void> {
  const uri = await artifactsFolderOfRun(client, workflowId);
  const store = openStore(uri);
  const printed = new Map<string, number>();
  const sizes = new Map<string, number>();
  for (;;) {
    // Whether the run was still going is asked before reading: a read after its end holds the final upload.
    const open = await runIsOpen(client, workflowId);
    const files = await storedFiles(store);
    // A node's logs may arrive later in the run: an unknown node is an error only once the run has ended.
    const chosen = files.filter((f) => options.node === undefined || f.node === options.node);
    for (const file of chosen) {
      // An unchanged size is an unchanged log; after the end each is read whole, its last line included.
      if (open && sizes.get(file.key) === file.size) continue;
      sizes.set(file.key, file.size);
      const lines = rankLines(await readLines(store, file, !open), options.rank);
      // A log re-uploaded shorter (a job started again) is printed again from its start.
      const from = (printed.get(file.key) ?? 0) <= lines.length ? (printed.get(file.key) ?? 0) : 0;
      for (const line of lines.slice(from)) print(file, line);
      printed.set(file.key, lines.length);
    }
    if (!open) {
      if (files.length === 0) throw new LogsNotFound(`run ${workflowId} ended without logs (it ended before any node was up)`);
      selectFiles(files, options, workflowId);
      return;
    }
    await sleep(options.intervalMs);
  }
}

interface LogsCommandOptions {
  follow?: boolean;
  node?: string;
  rank?: number;
  json?: boolean;
  interval: number;
}

/** The verb, declared here so that main.ts carries one line for it. */
export function addLogsCommand(program: Command, settings: ClientSettings): void {
  program
    .command('logs')
    .description("print a run's node logs from its artifact store (uploaded while it trains and before teardown)")
    .argument('<workflowId>')
    .option('--follow', 'keep printing new lines until the run ends')
    .option('--node <name>', "only this node's logs (master, worker-1, ...)")
    .option('--rank <n>', "only this rank's lines of the training log (its tag removed)", optionParser(parseRank))
    .option(
      '--interval <ms>',
      'with --follow: how often the store is read',
      optionParser(parseInterval),
      DEFAULT_FOLLOW_INTERVAL_MS,
    )
    .option('--json', 'print JSON (with --follow: one object per line)')
    .action(async (id: string, opts: LogsCommandOptions) => {
      const options: LogsOptions = {
        ...(opts.node !== undefined ? { node: opts.node } : {}),
        ...(opts.rank !== undefined ? { rank: opts.rank } : {}),
      };
      await withClient(settings, async (client) => {
        if (opts.follow) {
          let shown: string | undefined;
          const print = opts.json
            ? (f: LogFile, line: string) => console.log(JSON.stringify({ node: f.node, job: f.job, line }))
            : (f: LogFile, line: string) => {
                // As tail -f does with several files: a header whenever the lines come from another one.
                if (shown !== f.key) console.log(`==> ${f.node}/${f.job} <==`);
                shown = f.key;
                console.log(line);
              };
          return followLogs(client, id, { ...options, intervalMs: opts.interval }, print);
        }
        const uri = await artifactsFolderOfRun(client, id);
        const sections = await readLogs(uri, id, options);
        console.log(opts.json ? JSON.stringify({ workflowId: id, uri, logs: sections }, null, 2) : formatSections(sections));
      });
    });
}
