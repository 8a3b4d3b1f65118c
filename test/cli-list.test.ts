// `tuneforge list`: the visibility query built from the filters, the table, and real listings on the dev server.
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, describe, it } from 'node:test';
import { isGrpcServiceError, type Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import {
  attributesUsed,
  buildListQuery,
  filterValue,
  InvalidFilter,
  listRuns,
  parseLimit,
  parseScore,
  parseStatus,
  SearchAttributesNotRegistered,
  type RunRow,
} from '../src/client/commands/list';
import { EXIT } from '../src/client/exit-codes';
import { palette } from '../src/client/render/colors';
import { formatRunTable } from '../src/client/render/run-table';
import { WORKFLOW_TYPE } from '../src/common/names';
import { SEARCH_ATTRIBUTES } from '../src/common/search-attributes';
import { fakeActivities } from './helpers/fake-activities';
import { killAll, runPiped } from './helpers/pty';
import { TEMPORAL_ADDRESS, testClient, uniqueId, withWorker } from './helpers/temporal';

const MAIN = resolve(__dirname, '../src/client/main.js');
const GRPC_ALREADY_EXISTS = 6;
const VISIBILITY_WAIT_MS = 15_000;

describe('list query builder', () => {
  it('always filters on the workflow type', () => {
    assert.equal(buildListQuery({}), `WorkflowType = '${WORKFLOW_TYPE}' AND ExecutionStatus != 'ContinuedAsNew'`);
  });

  it('adds one quoted clause per filter on the custom search attributes and the status', () => {
    const query = buildListQuery({
      stage: 'distributed-train',
      provider: 'aws',
      recipe: 'tiny-qa',
      name: 'nightly',
      status: 'cancelled',
    });
    assert.equal(
      query,
      "WorkflowType = 'fineTune' AND ExecutionStatus != 'ContinuedAsNew' AND TuneforgeStage = 'distributed-train' AND TuneforgeProvider = 'aws' AND TuneforgeRecipe = 'tiny-qa' AND TuneforgeRunName = 'nightly' AND ExecutionStatus = 'Canceled'",
    );
    assert.deepEqual(attributesUsed({ stage: 'x', status: 'running' }), ['TuneforgeStage']);
  });

  it('refuses values that could break out of the quotes, and empty ones', () => {
    for (const bad of ["it's", 'say "hi"', 'back\\slash', 'tick`', 'new\nline', '']) {
      assert.throws(() => filterValue(bad), InvalidFilter, JSON.stringify(bad));
      assert.throws(() => buildListQuery({ name: bad }), InvalidFilter);
    }
    assert.equal(filterValue('ok-name_1.2 x'), 'ok-name_1.2 x');
  });

  it('filters on score lower bounds with >=, in plain decimal notation', () => {
    assert.equal(
      buildListQuery({ recipe: 'distilbert-squad', minF1: 85.5, minExactMatch: 77 }),
      "WorkflowType = 'fineTune' AND ExecutionStatus != 'ContinuedAsNew' AND TuneforgeRecipe = 'distilbert-squad' AND TuneforgeF1 >= 85.5 AND TuneforgeExactMatch >= 77",
    );
    assert.equal(
      buildListQuery({ minF1: 0.0000001 }),
      "WorkflowType = 'fineTune' AND ExecutionStatus != 'ContinuedAsNew' AND TuneforgeF1 >= 0",
    );
    assert.deepEqual(attributesUsed({ minF1: 80, status: 'completed' }), ['TuneforgeF1']);
    assert.deepEqual(attributesUsed({ minExactMatch: 1, name: 'x' }), ['TuneforgeRunName', 'TuneforgeExactMatch']);
  });

  it('refuses score bounds that are not numbers from 0 to 100', () => {
    assert.equal(parseScore('85'), 85);
    assert.equal(parseScore('85.25'), 85.25);
    assert.equal(parseScore('100'), 100);
    assert.equal(parseScore('0'), 0);
    for (const bad of ['', 'x', '-1', '100.5', '101', '1e2', '85.123456', '85 OR 1=1', ' 85', 'NaN', 'Infinity', '0x50']) {
      assert.throws(() => parseScore(bad), InvalidFilter, JSON.stringify(bad));
    }
    for (const bad of [-1, 101, Number.NaN, Number.POSITIVE_INFINITY]) {
      assert.throws(() => buildListQuery({ minF1: bad }), InvalidFilter, String(bad));
    }
  });

  it('parses statuses and limits', () => {
    assert.equal(parseStatus('timed-out'), 'timed-out');
    assert.throws(() => parseStatus('done'), /running, completed/);
    assert.throws(() => parseStatus('toString'), InvalidFilter);
    assert.equal(parseLimit('5'), 5);
    for (const bad of ['0', '-1', '1.5', 'x']) assert.throws(() => parseLimit(bad), InvalidFilter);
  });
});

/** Just enough of a Client: a listing the server refuses, and the namespace's registered custom attributes. */
function refusingClient(registered: string[]): Client {
  const refused = new Error('invalid query');
  const fake = {
    options: { namespace: 'default' },
    workflow: {
      list: () => ({
        [Symbol.asyncIterator]: () => ({ next: () => Promise.reject(refused) }),
      }),
    },
    connection: {
      operatorService: {
        listSearchAttributes: async () => ({ customAttributes: Object.fromEntries(registered.map((name) => [name, 2])) }),
      },
    },
  };
  return fake as unknown as Client;
}

describe('a listing the server refuses', () => {
  it('names the unregistered attributes and says how to register them', async () => {
    await assert.rejects(listRuns(refusingClient(['TuneforgeProvider']), { stage: 'x', provider: 'aws' }), (err: unknown) => {
      assert.ok(err instanceof SearchAttributesNotRegistered);
      assert.deepEqual(err.missing, ['TuneforgeStage']);
      assert.match(err.message, /start the worker once: it registers them/);
      return true;
    });
  });

  it('keeps the server error when every attribute used is registered, or none is used', async () => {
    await assert.rejects(listRuns(refusingClient(['TuneforgeStage']), { stage: 'x' }), /invalid query/);
    await assert.rejects(listRuns(refusingClient([]), { status: 'running' }), /invalid query/);
  });
});

describe('list table', () => {
  const row: RunRow = {
    workflowId: 'nightly-1',
    runId: 'r',
    status: 'RUNNING',
    stage: 'wire-ssh',
    provider: 'aws',
    recipe: 'tiny-qa',
    runName: 'nightly',
    nodes: 3,
    recoveries: 0,
    costUsd: null,
    exactMatch: 77.73,
    f1: 85.81,
    startTime: '2026-01-02T03:04:05.678Z',
    closeTime: null,
  };

  it('aligns columns, with or without colour', () => {
    const plain = formatRunTable(
      [row, { ...row, workflowId: 'x', status: 'COMPLETED', stage: null, nodes: null, exactMatch: null, f1: null }],
      palette(false),
    ).split('\n');
    assert.match(plain[0] ?? '', /^ID\s+STATUS\s+STAGE\s+PROVIDER\s+RECIPE\s+NODES\s+EM\s+F1\s+STARTED \(UTC\)$/);
    assert.match(plain[1] ?? '', /^nightly-1\s+RUNNING\s+wire-ssh\s+aws\s+tiny-qa\s+3\s+77\.7\s+85\.8\s+2026-01-02 03:04:05$/);
    assert.match(plain[2] ?? '', /^x\s+COMPLETED\s+-\s+aws\s+tiny-qa\s+-\s+-\s+-\s+2026-01-02 03:04:05$/);
    assert.equal(plain[1]?.indexOf('85.8'), plain[0]?.indexOf('F1'), 'the F1 column lines up with its header');
    assert.equal(plain[1]?.indexOf('2026'), plain[2]?.indexOf('2026'));
    assert.equal(plain[1]?.indexOf('RUNNING'), plain[2]?.indexOf('COMPLETED'));
    assert.match(formatRunTable([row], palette(true)), /\u001b\[36mRUNNING/);
    assert.equal(formatRunTable([], palette(false)), 'No runs match.');
  });
});

async function registerSearchAttributes(): Promise<void> {
  const { connection, close } = await testClient();
  const types = {
    KEYWORD: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
    INT: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_INT,
    DOUBLE: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_DOUBLE,
    BOOL: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_BOOL,
  } as const;
  try {
    for (const key of Object.values(SEARCH_ATTRIBUTES)) {
      const searchAttributes = { [key.name]: types[key.type as keyof typeof types] };
      await connection.operatorService.addSearchAttributes({ namespace: 'default', searchAttributes }).catch((err: unknown) => {
        if (!(isGrpcServiceError(err) && err.code === GRPC_ALREADY_EXISTS)) throw err;
      });
    }
  } finally {
    await close();
  }
}

/** Runs `tuneforge list ... --json` until `accept` likes the rows (visibility is eventually consistent). */
async function listUntil(args: string[], accept: (rows: RunRow[]) => boolean): Promise<RunRow[]> {
  const deadline = Date.now() + VISIBILITY_WAIT_MS;
  for (;;) {
    const cli = runPiped([process.execPath, MAIN, 'list', ...args, '--json'], { env: { ...process.env, TEMPORAL_ADDRESS } });
    assert.equal(await cli.exited, EXIT.ok, cli.stderr());
    const rows = JSON.parse(cli.output()) as RunRow[];
    if (accept(rows) || Date.now() > deadline) return rows;
    await sleep(250);
  }
}

describe('tuneforge list refuses bad score bounds (built CLI, before connecting to anything)', () => {
  after(killAll);

  for (const [option, value] of [
    ['--min-f1', 'high'],
    ['--min-exact-match', '120'],
    ['--min-f1', '80; DROP'],
  ]) {
    it(`${option} ${value}: exit code 2 and why`, async () => {
      // An address nothing answers on: a refusal must come from the argument check, not from a connection error.
      const cli = runPiped([process.execPath, MAIN, 'list', option as string, value as string], {
        env: { ...process.env, TEMPORAL_ADDRESS: '127.0.0.1:9' },
      });
      assert.equal(await cli.exited, EXIT.invalidInput, cli.stderr());
      assert.match(cli.stderr(), /scores are numbers from 0 to 100/);
    });
  }
});

describe('tuneforge list (built CLI, dev server)', () => {
  after(killAll);

  it('lists a finished run by its run name and status, with its search attributes', { timeout: 60_000 }, async () => {
    await registerSearchAttributes();
    const name = uniqueId('list').slice(0, 40).replace(/-$/, '');
    const spec = { name, provider: 'local', recipe: 'tiny-qa', nodes: 2, training: { maxSteps: 10 } };
    const { activities } = fakeActivities();
    const workflowId = await withWorker(activities, async ({ client, taskQueue }) => {
      const handle = await client.workflow.start(WORKFLOW_TYPE, {
        taskQueue,
        workflowId: uniqueId('list-run'),
        args: [{ spec }],
      });
      await handle.result();
      return handle.workflowId;
    });
    const mine = (rows: RunRow[]) => rows.find((r) => r.workflowId === workflowId);
    const completed = await listUntil(['--name', name, '--status', 'completed'], (rows) => mine(rows)?.stage === 'completed');
    assert.equal(completed.length, 1);
    assert.deepEqual(
      {
        status: mine(completed)?.status,
        provider: mine(completed)?.provider,
        recipe: mine(completed)?.recipe,
        nodes: mine(completed)?.nodes,
      },
      { status: 'COMPLETED', provider: 'local', recipe: 'tiny-qa', nodes: 2 },
    );
    const running = await listUntil(['--name', name, '--status', 'running'], () => true);
    assert.equal(mine(running), undefined);
  });

  it('refuses a quote in a filter with exit code 2 and says why', async () => {
    const cli = runPiped([process.execPath, MAIN, 'list', '--stage', "x' OR 'a'='a"], {
      env: { ...process.env, TEMPORAL_ADDRESS },
    });
    assert.equal(await cli.exited, EXIT.invalidInput);
    assert.match(cli.stderr(), /cannot contain quotes, backslashes/);
  });
});
