#!/usr/bin/env node
// The tuneforge CLI: parses arguments, calls one command module, prints, and maps errors to exit codes.
import { Command } from 'commander';
import { cancelRun } from './commands/cancel';
import { followRun } from './commands/follow';
import { startRun } from './commands/start';
import { readStatus } from './commands/status';
import { clientSettings, withClient } from './connection';
import { describeError, EXIT } from './exit-codes';
import { formatStatus, formatSummary } from './format';

const program = new Command('tuneforge').description('Durable fine-tuning on Xeon CPU clusters, orchestrated by Temporal');
const settings = clientSettings();
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

program.parseAsync(process.argv).catch((err: unknown) => {
  const { code, message } = describeError(err);
  console.error(`tuneforge: ${message}`);
  process.exitCode = code === EXIT.ok ? EXIT.runFailed : code;
});
