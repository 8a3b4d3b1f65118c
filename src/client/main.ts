#!/usr/bin/env node
// The tuneforge CLI: parses arguments, calls one command module, prints, and maps errors to exit codes.
import { Command } from 'commander';
import { cancelRun } from './commands/cancel';
import { DEFAULT_LIST_LIMIT, filterValue, listRuns, parseLimit, parseStatus, STATUS_FILTERS, type ListFilters } from './commands/list';
import { DEFAULT_INTERVAL_MS, parseInterval, watchRun } from './commands/watch';
import { followRun } from './commands/follow';
import { startRun } from './commands/start';
import { readStatus } from './commands/status';
import { clientSettings, withClient, type ClientSettings } from './connection';
import { describeError, EXIT } from './exit-codes';
import { formatStatus, formatSummary } from './format';
import { optionParser } from './render/cli-input';
import { colorEnabled, palette } from './render/colors';
import { watchRenderer } from './render';
import { formatRunTable } from './render/run-table';

const program = new Command('tuneforge').description('Durable fine-tuning on Xeon CPU clusters, orchestrated by Temporal');
const settings = settingsOrExit();
const print = (line: string) => console.log(line);

program
  .command('start')
  .description('validate a run spec and start a run; prints its id and Web UI link')
  .argument('<spec>', 'run spec (YAML)')
  .option('--id <workflowId>', 'workflow id to use (default: <name>-<time>-<random>)')
  .option('-f, --follow', 'print each step until the run ends, then its summary')
  .option('--json', 'print JSON')
  .action(async (spec: string, opts: { id?: string; follow?: boolean; json?: boolean }) => {
    await withClient(settings, async (client) => {
      const run = await startRun(client, settings, spec, opts.id);
      if (opts.json && !opts.follow) return print(JSON.stringify({ workflowId: run.workflowId, url: run.url }));
      print(`Started run ${run.workflowId}`);
      print(`Web UI: ${run.url}`);
      if (!opts.follow) return;
      const summary = await followRun(client, run.workflowId, print);
      print('');
      print(opts.json ? JSON.stringify(summary, null, 2) : formatSummary(summary));
      print('');
      print(`Web UI: ${run.url}`);
    });
  });

program
  .command('status')
  .description("show a run's state, steps and training progress")
  .argument('<workflowId>')
  .option('--json', 'print JSON')
  .action(async (id: string, opts: { json?: boolean }) => {
    await withClient(settings, async (client) => {
      const status = await readStatus(client, id);
      print(opts.json ? JSON.stringify(status, null, 2) : formatStatus(status));
    });
  });

program
  .command('cancel')
  .description('cancel a run; its nodes are torn down before it ends')
  .argument('<workflowId>')
  .action(async (id: string) => {
    await withClient(settings, async (client) => {
      await cancelRun(client, id);
      print(`Cancellation requested for ${id}; teardown runs before the run ends.`);
    });
  });

program
  .command('watch')
  .description('follow a run live (bars for steps and training, ETA, node states) and exit with its outcome')
  .argument('<workflowId>')
  .option('--json', 'print one JSON object per change (NDJSON), then the result or failure')
  .option('--interval <ms>', 'poll interval in milliseconds', optionParser(parseInterval), DEFAULT_INTERVAL_MS)
  .action(async (id: string, opts: { json?: boolean; interval: number }) => {
    await withClient(settings, async (client) => {
      const renderer = watchRenderer({ json: opts.json === true, out: process.stdout, env: process.env });
      await watchRun(client, id, { intervalMs: opts.interval }, renderer);
    });
  });

program
  .command('list')
  .description('list runs, newest first, filtered on their search attributes')
  .option('--stage <stage>', 'current step (TuneforgeStage), e.g. distributed-train', optionParser(filterValue))
  .option('--provider <provider>', 'provider (TuneforgeProvider): local or aws', optionParser(filterValue))
  .option('--recipe <recipe>', 'recipe (TuneforgeRecipe)', optionParser(filterValue))
  .option('--name <name>', "run spec's name (TuneforgeRunName)", optionParser(filterValue))
  .option('--status <status>', Object.keys(STATUS_FILTERS).join('|'), optionParser(parseStatus))
  .option('--limit <n>', 'at most this many runs', optionParser(parseLimit), DEFAULT_LIST_LIMIT)
  .option('--json', 'print JSON')
  .action(async (opts: ListFilters & { limit: number; json?: boolean }) => {
    await withClient(settings, async (client) => {
      const rows = await listRuns(client, opts, opts.limit);
      print(opts.json ? JSON.stringify(rows, null, 2) : formatRunTable(rows, palette(colorEnabled(process.stdout, process.env))));
    });
  });

function settingsOrExit(): ClientSettings {
  try {
    return clientSettings();
  } catch (err) {
    const { code, message } = describeError(err);
    console.error(`tuneforge: ${message}`);
    process.exit(code);
  }
}

program.parseAsync(process.argv).catch((err: unknown) => {
  const { code, message } = describeError(err);
  console.error(`tuneforge: ${message}`);
  process.exitCode = code === EXIT.ok ? EXIT.runFailed : code;
});
