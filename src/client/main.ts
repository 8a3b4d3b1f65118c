#!/usr/bin/env node
// The tuneforge CLI: parses arguments, calls one command module, prints, and maps errors to exit codes.
import { resolve } from 'node:path';
import { Command } from 'commander';
import { formatArtifacts, listArtifacts, progressBar, pullModel, artifactsFolderOfRun } from './commands/artifacts';
import { cancelRun } from './commands/cancel';
import {
  DEFAULT_LIST_LIMIT,
  filterValue,
  listRuns,
  parseLimit,
  parseScore,
  parseStatus,
  STATUS_FILTERS,
  type ListFilters,
} from './commands/list';
import { DEFAULT_INTERVAL_MS, followRun, parseInterval } from './commands/follow';
import { formatModelHistory, modelsFolder, readModelHistory } from './commands/models';
import { planRun } from './commands/plan';
import { formatPlanCheck, planCheck } from './commands/plan-check';
import { prepareRun, startRun } from './commands/start';
import {
  createSchedule,
  DEFAULT_CATCHUP_WINDOW,
  deleteSchedule,
  describeSchedule,
  formatScheduleTable,
  formatScheduleView,
  listSchedules,
  loadScheduleSpec,
  pauseSchedule,
  prepareSchedule,
  triggerSchedule,
  unpauseSchedule,
  updateSchedule,
  type CreateScheduleOptions,
} from './commands/schedule';
import { readStatus } from './commands/status';
import { addSetupNamespaceCommand } from './commands/setup-namespace';
import { addLogsCommand } from './commands/logs';
import { clientSettings, profileArgument, withClient, type ClientSettings } from './connection';
import { describeError, EXIT } from './exit-codes';
import { addAboutCommands } from './commands/about';
import { formatVersion, versionInfo } from './version';
import { formatStatus } from './format';
import { optionParser } from './render/cli-input';
import { colorEnabled, palette } from './render/colors';
import { watchRenderer } from './render';
import { formatPlan } from './render/plan-text';
import { formatRunTable } from './render/run-table';
import { StepLogRenderer } from './render/step-log-renderer';

/** --json anywhere before a `--` asks for JSON, errors included (also usage errors, found before any action runs). */
const jsonWanted = process.argv.slice(2, process.argv.includes('--') ? process.argv.indexOf('--') : undefined).includes('--json');
const program = new Command('tuneforge')
  .description('Durable fine-tuning on Xeon CPU clusters, orchestrated by Temporal')
  .version(formatVersion(versionInfo()), '-V, --version', 'print the version and build details')
  // With --json, a usage error is one JSON line on stderr (printed below), not commander's text.
  .configureOutput({ outputError: (text, write) => (jsonWanted ? undefined : write(text)) })
  // Usage errors (unknown option, missing argument) exit with the documented code for invalid input.
  .exitOverride((err) => {
    if (err.exitCode !== 0 && jsonWanted) reportError(err);
    process.exit(err.exitCode === 0 ? EXIT.ok : EXIT.invalidInput);
  })
  .option('--profile <name>', 'Temporal connection profile in TEMPORAL_CONFIG_FILE or ~/.config/temporalio/temporal.toml');
const settings = settingsOrExit();
const print = (line: string) => console.log(line);
const printJson = (value: unknown) => print(JSON.stringify(value));

program
  .command('start')
  .description('validate a run spec and start a run; prints its id and Web UI link')
  .argument('<spec>', 'run spec (YAML)')
  .option('--id <workflowId>', 'workflow id to use (default: <name>-<time>-<random>)')
  .option('-f, --follow', 'print each step until the run ends, then its summary')
  .option('--json', 'print JSON (with --follow: one object per line, as watch --json)')
  .action(async (spec: string, opts: { id?: string; follow?: boolean; json?: boolean }) => {
    const prepared = await prepareRun(spec, opts.id);
    await withClient(settings, async (client) => {
      const run = await startRun(client, settings, prepared);
      if (opts.json && !opts.follow) return printJson({ workflowId: run.workflowId, url: run.url });
      // Followed with --json: NDJSON, a "started" line and then what `watch --json` prints.
      if (opts.json) {
        printJson({ type: 'started', workflowId: run.workflowId, url: run.url });
        const json = watchRenderer({ json: true, out: process.stdout, env: process.env });
        return void (await followRun(client, run.workflowId, { intervalMs: DEFAULT_INTERVAL_MS }, json));
      }
      print(`Started run ${run.workflowId}`);
      print(`Web UI: ${run.url}`);
      if (!opts.follow) return;
      const renderer = new StepLogRenderer(process.stdout, {});
      await followRun(client, run.workflowId, { intervalMs: DEFAULT_INTERVAL_MS }, renderer);
      print('');
      print(`Web UI: ${run.url}`);
    });
  });

program
  .command('artifacts')
  .description('list what a run stored: model, evaluation, checkpoints, run.json')
  .argument('<workflowId>')
  .option('--json', 'print JSON')
  .action(async (id: string, opts: { json?: boolean }) => {
    await withClient(settings, async (client) => {
      const uri = await artifactsFolderOfRun(client, id);
      const objects = await listArtifacts(uri);
      print(opts.json ? JSON.stringify({ uri, objects }, null, 2) : formatArtifacts(uri, objects));
    });
  });

program
  .command('pull')
  .description("download a run's model (loadable with from_pretrained) into a folder")
  .argument('<workflowId>')
  .argument('[dir]', 'where to put it (default: ./<workflowId>-model)')
  .option('--json', 'print JSON (and no progress bar)')
  .action(async (id: string, dir: string | undefined, opts: { json?: boolean }) => {
    await withClient(settings, async (client) => {
      const uri = await artifactsFolderOfRun(client, id);
      const into = dir ?? `${id}-model`;
      const tty = process.stderr.isTTY === true && !opts.json;
      const stats = await pullModel(uri, into, (done, total) => {
        if (tty) process.stderr.write(`\r${progressBar(done, total)}`);
      });
      if (tty) process.stderr.write('\n');
      if (opts.json) return printJson({ workflowId: id, uri, model: `${uri}model/`, into: resolve(into), ...stats });
      print(
        `Pulled ${stats.files} file(s), ${stats.bytes} bytes from ${uri}model/ into ${into} in ${stats.seconds.toFixed(1)} s`,
      );
    });
  });

program
  .command('plan')
  .description(
    'validate a run spec and show what the run would execute (nodes, ranks, threads, mpirun, trainer arguments); contacts nothing unless --check',
  )
  .argument('<spec>', 'run spec (YAML)')
  .option('--json', 'print JSON')
  .option('--check', "also run the preflight (aws: read-only quota, offering, image, key and bucket checks); exit 1 when one fails")
  .action(async (spec: string, opts: { json?: boolean; check?: boolean }) => {
    const plan = await planRun(spec);
    const check = opts.check ? await planCheck(spec) : undefined;
    if (opts.json) print(JSON.stringify(check ? { ...plan, preflight: check } : plan, null, 2));
    else print(check ? `${formatPlan(plan)}\n\n${formatPlanCheck(check)}` : formatPlan(plan));
    if (check && !check.ok) process.exitCode = EXIT.runFailed;
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
  .option('--json', 'print JSON')
  .action(async (id: string, opts: { json?: boolean }) => {
    await withClient(settings, async (client) => {
      await cancelRun(client, id);
      if (opts.json) return printJson({ workflowId: id, cancelRequested: true });
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
      await followRun(client, id, { intervalMs: opts.interval }, renderer);
    });
  });

program
  .command('list')
  .description('list runs, newest first, filtered on their search attributes')
  .option('--stage <stage>', 'current step (TuneforgeStage), e.g. distributed-train', optionParser(filterValue))
  .option('--provider <provider>', 'provider (TuneforgeProvider): local or aws', optionParser(filterValue))
  .option(
    '--recipe <recipe>',
    'the preset, or the task of a run without one (TuneforgeRecipe), e.g. tiny-cls or text-classification',
    optionParser(filterValue),
  )
  .option('--name <name>', "run spec's name (TuneforgeRunName)", optionParser(filterValue))
  .option('--status <status>', Object.keys(STATUS_FILTERS).join('|'), optionParser(parseStatus))
  .option('--min-f1 <n>', "the model's F1 on the validation split is at least n (TuneforgeF1, 0-100)", optionParser(parseScore))
  .option('--min-exact-match <n>', 'exact match is at least n (TuneforgeExactMatch, 0-100)', optionParser(parseScore))
  .option('--limit <n>', 'at most this many runs', optionParser(parseLimit), DEFAULT_LIST_LIMIT)
  .option('--json', 'print JSON')
  .action(async (opts: ListFilters & { limit: number; json?: boolean }) => {
    await withClient(settings, async (client) => {
      const rows = await listRuns(client, opts, opts.limit);
      print(opts.json ? JSON.stringify(rows, null, 2) : formatRunTable(rows, palette(colorEnabled(process.stdout, process.env))));
    });
  });

program
  .command('models')
  .description("the history of a run name's models: time, data hashes, metrics, promoted or not, which is current")
  .argument('<name>', "the run spec's name")
  .option('--artifacts <uri>', 'the artifact store to read (default: the one of the newest run of the name)')
  .option('--json', 'print JSON')
  .action(async (name: string, opts: { artifacts?: string; json?: boolean }) => {
    const uri =
      opts.artifacts !== undefined
        ? await modelsFolder(name, opts.artifacts)
        : await withClient(settings, (client) => modelsFolder(name, undefined, client));
    const history = await readModelHistory(name, uri);
    print(opts.json ? JSON.stringify(history, null, 2) : formatModelHistory(history));
  });

const schedule = program
  .command('schedule')
  .description('recurring runs of a spec (Temporal Schedules; overlap SKIP: a run still running is never doubled)');

schedule
  .command('create')
  .description('validate a run spec and schedule it; prints the schedule id')
  .argument('<spec>', 'run spec (YAML)')
  .option('--cron <expression>', 'cron expression, UTC (e.g. "0 3 * * *")')
  .option('--every <duration>', 'interval (e.g. 6h, 30m, 20s)')
  .option('--id <scheduleId>', 'schedule id (default: scheduled-<name>); each run is <id>-<scheduled time>')
  .option('--catchup-window <duration>', 'how late a missed run may still start after an outage', DEFAULT_CATCHUP_WINDOW)
  .option('--paused', 'create it paused')
  .option('--note <text>', 'a note shown with its state')
  .option('--json', 'print JSON')
  .action(async (spec: string, opts: CreateScheduleOptions & { json?: boolean }) => {
    const prepared = await prepareSchedule(spec, opts);
    await withClient(settings, async (client) => {
      const created = await createSchedule(client, settings, prepared);
      if (opts.json) return print(JSON.stringify(created));
      print(
        `Created schedule ${created.scheduleId} (${created.timing}, spec ${created.specName}${created.paused ? ', paused' : ''})`,
      );
      print(
        `Runs are named ${created.scheduleId}-<scheduled time>; see them with: tuneforge schedule describe ${created.scheduleId}`,
      );
    });
  });

schedule
  .command('update')
  .description("replace a schedule's spec from its next run on (a run going on keeps its own); timing and state stay")
  .argument('<scheduleId>')
  .argument('<spec>', 'run spec (YAML), checked as create checks it')
  .option('--json', 'print JSON')
  .action(async (id: string, spec: string, opts: { json?: boolean }) => {
    const loaded = await loadScheduleSpec(spec);
    await withClient(settings, async (client) => {
      const updated = await updateSchedule(client, id, loaded);
      if (opts.json) return printJson(updated);
      print(
        `Updated schedule ${id}: its next run starts with spec ${updated.specName} (${updated.specFile}); a run going on keeps its own`,
      );
    });
  });

schedule
  .command('list')
  .description('list the schedules of fine-tune runs')
  .option('--json', 'print JSON')
  .action(async (opts: { json?: boolean }) => {
    await withClient(settings, async (client) => {
      const rows = await listSchedules(client);
      print(opts.json ? JSON.stringify(rows, null, 2) : formatScheduleTable(rows));
    });
  });

schedule
  .command('describe')
  .description('show a schedule: spec, timing, state, recent runs with their status, next run times')
  .argument('<scheduleId>')
  .option('--json', 'print JSON')
  .action(async (id: string, opts: { json?: boolean }) => {
    await withClient(settings, async (client) => {
      const view = await describeSchedule(client, id);
      print(opts.json ? JSON.stringify(view, null, 2) : formatScheduleView(view));
    });
  });

schedule
  .command('pause')
  .description('stop starting runs (running ones go on)')
  .argument('<scheduleId>')
  .option('--note <text>', 'why')
  .option('--json', 'print JSON')
  .action(async (id: string, opts: { note?: string; json?: boolean }) => {
    await withClient(settings, async (client) => {
      await pauseSchedule(client, id, opts.note);
      if (opts.json) return printJson({ scheduleId: id, paused: true });
      print(`Paused schedule ${id}`);
    });
  });

schedule
  .command('unpause')
  .description('start runs again at the scheduled times')
  .argument('<scheduleId>')
  .option('--note <text>', 'why')
  .option('--json', 'print JSON')
  .action(async (id: string, opts: { note?: string; json?: boolean }) => {
    await withClient(settings, async (client) => {
      await unpauseSchedule(client, id, opts.note);
      if (opts.json) return printJson({ scheduleId: id, paused: false });
      print(`Unpaused schedule ${id}`);
    });
  });

schedule
  .command('trigger')
  .description('start a run now, unless one of this schedule is still running')
  .argument('<scheduleId>')
  .option('--json', 'print JSON: triggered is false when a running run made this trigger start nothing')
  .action(async (id: string, opts: { json?: boolean }) => {
    await withClient(settings, async (client) => {
      const { runningIds } = await triggerSchedule(client, id);
      if (opts.json) return printJson({ scheduleId: id, triggered: runningIds.length === 0, runningIds });
      if (runningIds.length > 0)
        print(`Run ${runningIds.join(', ')} is still running; with overlap SKIP this trigger starts nothing`);
      else print(`Triggered schedule ${id}; the run's id starts with ${id}-`);
    });
  });

schedule
  .command('delete')
  .description('delete a schedule; runs it started go on')
  .argument('<scheduleId>')
  .option('--json', 'print JSON: runningIds are the runs it started that go on')
  .action(async (id: string, opts: { json?: boolean }) => {
    await withClient(settings, async (client) => {
      const { runningIds } = await deleteSchedule(client, id);
      if (opts.json) return printJson({ scheduleId: id, deleted: true, runningIds });
      print(`Deleted schedule ${id}`);
      for (const run of runningIds) print(`Run ${run} is still running (tuneforge cancel ${run} stops it)`);
    });
  });

addSetupNamespaceCommand(program, settings);
addLogsCommand(program, settings);

addAboutCommands(program);

/** One line on stderr: text for people, or with --json `{"error", "code", "exitCode"}` and nothing else. */
function reportError(err: unknown): number {
  const described = describeError(err);
  const exitCode = described.code === EXIT.ok ? EXIT.error : described.code;
  console.error(
    jsonWanted ? JSON.stringify({ error: described.message, code: described.type, exitCode }) : `tuneforge: ${described.message}`,
  );
  return exitCode;
}

function settingsOrExit(): ClientSettings {
  try {
    return clientSettings(process.env, profileArgument(process.argv.slice(2)));
  } catch (err) {
    process.exit(reportError(err));
  }
}

program.parseAsync(process.argv).catch((err: unknown) => {
  process.exitCode = reportError(err);
});
