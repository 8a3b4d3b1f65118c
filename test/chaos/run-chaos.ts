// npm run test:chaos: runs the chaos scenarios one after another against a Temporal dev server of its
// own, prints a table and writes artifacts/chaos.json (worker and server logs under artifacts/chaos/).
// Exits 1 if any scenario failed.
//
//   CHAOS_ONLY=<regex> (or --only <regex>)   run only the scenarios whose name matches
//   --list                                   print the scenario names and exit
//   TUNEFORGE_TEST_LAB                       the lab root runs reuse the baked image from (default the test lab)
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';
import { DEFAULT_NAMESPACE } from '../../src/common/names';
import { packageRoot } from '../../src/common/package-root';
import { ensureSearchAttributes } from '../../src/worker/search-attributes';
import { TEST_LAB_ROOT } from '../helpers/local-lab';
import { DevServer, freePort, TemporalAccess } from './dev-server';
import { allScenarios, runScenario, type ChaosEnv, type ChaosRow } from './scenarios';

function parseArgs(argv: string[]): { only?: string; list: boolean } {
  let only = process.env.CHAOS_ONLY || undefined;
  let list = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (arg === '--list') list = true;
    else if (arg === '--only') only = argv[++i];
    else if (arg.startsWith('--only=')) only = arg.slice('--only='.length);
    else throw new Error(`unknown argument ${arg} (use --only <regex> or --list)`);
  }
  return { only, list };
}

function cell(value: number | string | boolean | null): string {
  if (value === null) return '-';
  if (typeof value === 'boolean') return value ? 'yes' : 'NO';
  return String(value);
}

export function renderTable(rows: ChaosRow[]): string {
  const header = ['scenario', 'passed', 'steps repeated', 'recovery s', 'nodes launched', 'nodes left', 'time s'];
  const body = rows.map((r) => [
    r.scenario,
    cell(r.passed),
    cell(r.stepsRepeated),
    cell(r.recoverySeconds),
    r.nodesLaunched === null ? '-' : `${r.nodesLaunched}/${cell(r.nodesNeeded)}`,
    cell(r.nodesLeft),
    cell(r.durationSeconds),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => (row[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

async function main(): Promise<number> {
  const { only, list } = parseArgs(process.argv.slice(2));
  const pattern = only ? new RegExp(only) : undefined;
  const scenarios = allScenarios().filter((s) => !pattern || pattern.test(s.name));
  if (list) {
    for (const s of scenarios) console.log(s.name);
    return 0;
  }
  if (scenarios.length === 0) throw new Error(`no scenario matches ${only}`);
  if (process.getuid?.() !== 0) throw new Error('the chaos suite needs root (the local provider creates namespaces)');

  const root = packageRoot();
  const artifacts = join(root, 'artifacts');
  const logDir = join(artifacts, 'chaos');
  await rm(logDir, { recursive: true, force: true });
  await mkdir(logDir, { recursive: true });
  const workDir = await mkdtemp(join(tmpdir(), 'tuneforge-chaos-'));
  const server = new DevServer({
    binary: join(root, '.tools/venv/bin/temporal'),
    dbFile: join(workDir, 'chaos.db'),
    port: await freePort(),
    uiPort: await freePort(),
    logFile: join(logDir, 'temporal.log'),
  });
  const temporal = new TemporalAccess(server.address);
  const suiteStarted = Date.now();
  const rows: ChaosRow[] = [];
  const writeReport = async (finished: boolean) => {
    const report = {
      startedAt: new Date(suiteStarted).toISOString(),
      finished,
      totalSeconds: Math.round((Date.now() - suiteStarted) / 1000),
      temporal: server.address,
      labs: { main: TEST_LAB_ROOT, fresh: `${TEST_LAB_ROOT}-chaos-fresh` },
      passed: rows.filter((r) => r.passed).length,
      failed: rows.filter((r) => !r.passed).length,
      rows,
    };
    await writeFile(join(artifacts, 'chaos.json'), `${JSON.stringify(report, null, 2)}\n`);
  };

  const onSignal = () => {
    console.error('[chaos] interrupted: stopping the dev server');
    void server.stop().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  try {
    console.log(
      `[chaos] ${scenarios.length} scenario(s); dev server ${server.address} on ${join(workDir, 'chaos.db')}; lab ${TEST_LAB_ROOT}`,
    );
    await server.start();
    await temporal.connect();
    await ensureSearchAttributes(temporal.connection, DEFAULT_NAMESPACE);
    const bundle = await bundleWorkflowCode({
      workflowsPath: require.resolve('../../src/workflows'),
      logger: new DefaultLogger('ERROR'),
    });
    const bundlePath = join(workDir, 'workflow-bundle.js');
    await writeFile(bundlePath, bundle.code);
    const env: ChaosEnv = {
      server,
      temporal,
      bundlePath,
      mainLab: TEST_LAB_ROOT,
      freshLab: `${TEST_LAB_ROOT}-chaos-fresh`,
      workDir,
      logDir,
    };

    for (const scenario of scenarios) {
      const clock = new Date().toISOString().slice(11, 19);
      console.log(`[chaos] ${clock} ${scenario.name} ...`);
      const row = await runScenario(scenario, env);
      rows.push(row);
      console.log(`[chaos]          ${row.passed ? 'passed' : 'FAILED'} in ${row.durationSeconds} s: ${row.detail}`);
      await writeReport(false);
    }
  } finally {
    await temporal.close();
    await server.stop();
    await rm(workDir, { recursive: true, force: true });
  }
  await writeReport(true);
  const total = Math.round((Date.now() - suiteStarted) / 1000);
  console.log('');
  console.log(renderTable(rows));
  console.log('');
  for (const r of rows.filter((row) => !row.passed)) console.log(`FAILED ${r.scenario}: ${r.detail}`);
  const failed = rows.filter((r) => !r.passed).length;
  console.log(
    `${rows.length - failed} passed, ${failed} failed, in ${Math.floor(total / 60)} min ${total % 60} s (artifacts/chaos.json, logs in artifacts/chaos/)`,
  );
  return failed === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
