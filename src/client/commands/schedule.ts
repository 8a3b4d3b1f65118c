// `tuneforge schedule ...`: recurring fine-tunes as Temporal Schedules whose action starts the fineTune workflow.
import { resolve } from 'node:path';
import {
  ScheduleAlreadyRunning,
  ScheduleNotFoundError,
  ScheduleOverlapPolicy,
  WorkflowNotFoundError,
  type Client,
  type ScheduleDescription,
  type ScheduleSpec,
  type ScheduleSpecDescription,
} from '@temporalio/client';
import { msToNumber } from '@temporalio/common/lib/time';
import { SCHEDULE_ID_PREFIX, WORKFLOW_TYPE } from '../../common/names';
import { loadRunSpec } from '../../run-spec/load';
import type { RunSpec } from '../../run-spec/schema';
import type { FineTuneInput } from '../../workflows/definitions';
import type { ClientSettings } from '../connection';
import { runStaticMetadata } from '../run-metadata';

export const DEFAULT_CATCHUP_WINDOW = '10 minutes';
const MIN_EVERY_MS = 1000;
/** Temporal raises shorter catch-up windows to 10 s. */
const MIN_CATCHUP_MS = 10_000;
/** A scheduled run's cluster id is this id plus `-YYYYMMDD-HHMMSS`; the workflow allows 100 characters. */
const SCHEDULE_ID_PATTERN = /^[a-z0-9][a-z0-9-]{0,59}$/;
const PAUSE_NOTE = 'paused from the tuneforge CLI';
const UNPAUSE_NOTE = 'unpaused from the tuneforge CLI';

/** Bad schedule arguments (timing, durations, id): the CLI exits with the invalid-input code. */
export class ScheduleArgsInvalid extends Error {
  override readonly name = 'ScheduleArgsInvalid';
}

export class ScheduleExists extends Error {
  override readonly name = 'ScheduleExists';
  constructor(readonly scheduleId: string) {
    super(
      `a schedule with id ${scheduleId} already exists; pick another id with --id, or delete it first (tuneforge schedule delete ${scheduleId})`,
    );
  }
}

export interface CreateScheduleOptions {
  cron?: string;
  every?: string;
  id?: string;
  catchupWindow: string;
  paused?: boolean;
  note?: string;
}

export interface CreatedSchedule {
  scheduleId: string;
  specName: string;
  timing: string;
  paused: boolean;
}

/** Stored on the schedule so that list and describe show the spec and timing as given. */
interface ScheduleMemo {
  specName: string;
  specFile: string;
  timing: string;
}

interface Timing {
  spec: ScheduleSpec;
  text: string;
}

function durationMs(flag: string, value: string, minMs: number): number {
  let ms: number;
  try {
    ms = msToNumber(value as Parameters<typeof msToNumber>[0]);
  } catch {
    throw new ScheduleArgsInvalid(`${flag} ${JSON.stringify(value)} is not a duration (e.g. 20s, 15m, 6h, 1d, "10 minutes")`);
  }
  if (!(ms >= minMs)) throw new ScheduleArgsInvalid(`${flag} must be at least ${formatMs(minMs)} (got ${value})`);
  return ms;
}

function timingOf(opts: Pick<CreateScheduleOptions, 'cron' | 'every'>): Timing {
  if (opts.cron !== undefined && opts.every !== undefined)
    throw new ScheduleArgsInvalid('give either --cron or --every, not both');
  if (opts.cron !== undefined) return { spec: { cronExpressions: [opts.cron] }, text: `cron ${opts.cron}` };
  if (opts.every !== undefined)
    return { spec: { intervals: [{ every: durationMs('--every', opts.every, MIN_EVERY_MS) }] }, text: `every ${opts.every}` };
  throw new ScheduleArgsInvalid('give the timing: --cron "<expression>" or --every <duration>');
}

/** A schedule's arguments and spec, checked on this machine before Temporal is contacted: bad ones create nothing. */
export interface ScheduleToCreate {
  scheduleId: string;
  timing: Timing;
  catchupWindowMs: number;
  spec: RunSpec;
  memo: ScheduleMemo;
  opts: CreateScheduleOptions;
}

export async function prepareSchedule(specPath: string, opts: CreateScheduleOptions): Promise<ScheduleToCreate> {
  const timing = timingOf(opts);
  const catchupWindowMs = durationMs('--catchup-window', opts.catchupWindow, MIN_CATCHUP_MS);
  const spec = await loadRunSpec(specPath);
  const scheduleId = opts.id ?? `${SCHEDULE_ID_PREFIX}-${spec.name}`;
  if (!SCHEDULE_ID_PATTERN.test(scheduleId)) {
    throw new ScheduleArgsInvalid(
      `schedule id ${JSON.stringify(scheduleId)} must be 1-60 lowercase letters, digits and dashes (it starts each run's id)`,
    );
  }
  const memo: ScheduleMemo = { specName: spec.name, specFile: resolve(specPath), timing: timing.text };
  return { scheduleId, timing, catchupWindowMs, spec, memo, opts };
}

/**
 * The action every scheduled run starts: the fineTune workflow with this spec. The spec's file rides in the
 * started runs' memo: a schedule's own memo cannot change after creation, the action can (schedule update).
 */
function runAction(settings: Pick<ClientSettings, 'taskQueue'>, workflowId: string, spec: RunSpec, specFile: string) {
  const input: FineTuneInput = { spec };
  return {
    memo: { specFile },
    type: 'startWorkflow' as const,
    workflowType: WORKFLOW_TYPE,
    taskQueue: settings.taskQueue,
    // The schedule's id; Temporal appends the scheduled time: `<schedule id>-2026-11-26T14:00:00Z`.
    workflowId,
    args: [input],
    ...runStaticMetadata(spec),
  };
}

export async function createSchedule(
  client: Client,
  settings: ClientSettings,
  prepared: ScheduleToCreate,
): Promise<CreatedSchedule> {
  const { scheduleId, timing, catchupWindowMs, spec, memo, opts } = prepared;
  try {
    await client.schedule.create({
      scheduleId,
      spec: timing.spec,
      action: runAction(settings, scheduleId, spec, memo.specFile),
      policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: catchupWindowMs },
      state: { paused: opts.paused === true, note: opts.note },
      memo: { ...memo },
    });
  } catch (err) {
    if (err instanceof ScheduleAlreadyRunning) throw new ScheduleExists(scheduleId);
    // The SDK's way of reporting the server's "Invalid schedule spec" (a bad cron expression).
    if (err instanceof TypeError && opts.cron !== undefined)
      throw new ScheduleArgsInvalid(`--cron ${JSON.stringify(opts.cron)}: ${err.message}`);
    throw err;
  }
  return { scheduleId, specName: spec.name, timing: timing.text, paused: opts.paused === true };
}

export interface ScheduleRow {
  scheduleId: string;
  specName: string | null;
  timing: string;
  paused: boolean;
  nextRunAt: string | null;
  lastRunId: string | null;
}

function memoOf(memo: Record<string, unknown> | undefined): Partial<ScheduleMemo> {
  const text = (key: keyof ScheduleMemo): string | undefined => {
    const value = memo?.[key];
    return typeof value === 'string' ? value : undefined;
  };
  return { specName: text('specName'), specFile: text('specFile'), timing: text('timing') };
}

function timingText(memo: Partial<ScheduleMemo>, spec: ScheduleSpecDescription | undefined): string {
  if (memo.timing !== undefined) return memo.timing;
  const intervals = (spec?.intervals ?? []).map((i) => `every ${formatMs(i.every)}`);
  const calendars = (spec?.calendars ?? []).map(() => 'calendar');
  return [...intervals, ...calendars].join(', ') || 'none';
}

/** The schedules that start fineTune runs (listing is eventually consistent: a new one may take a moment to show). */
export async function listSchedules(client: Client): Promise<ScheduleRow[]> {
  const rows: ScheduleRow[] = [];
  for await (const s of client.schedule.list()) {
    if (s.action?.workflowType !== WORKFLOW_TYPE) continue;
    const memo = memoOf(s.memo);
    rows.push({
      scheduleId: s.scheduleId,
      specName: (await currentSpecName(client, s.scheduleId)) ?? memo.specName ?? null,
      timing: timingText(memo, s.spec),
      paused: s.state.paused,
      nextRunAt: s.info.nextActionTimes[0]?.toISOString() ?? null,
      lastRunId: s.info.recentActions.at(-1)?.action.workflow.workflowId ?? null,
    });
  }
  return rows.sort((a, b) => a.scheduleId.localeCompare(b.scheduleId));
}

/**
 * The spec name the schedule's next run starts with: `schedule update` may have changed it since the memo (which
 * cannot change) was written, and a listing carries no action input. Undefined once the schedule is gone.
 */
async function currentSpecName(client: Client, scheduleId: string): Promise<string | undefined> {
  try {
    return actionSpec(await client.schedule.getHandle(scheduleId).describe()).specName;
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) return undefined;
    throw err;
  }
}

export interface ScheduledRun {
  workflowId: string;
  scheduledAt: string;
  takenAt: string;
  /** The run's execution status (RUNNING, COMPLETED, FAILED, ...), UNKNOWN once Temporal no longer keeps it. */
  status: string;
}

export interface ScheduleView {
  scheduleId: string;
  specName: string | null;
  specFile: string | null;
  timing: string;
  taskQueue: string;
  paused: boolean;
  note: string | null;
  overlap: string;
  catchupWindowMs: number;
  actionsTaken: number;
  skippedOverlap: number;
  missedCatchupWindow: number;
  recentRuns: ScheduledRun[];
  runningIds: string[];
  nextRunTimes: string[];
}

/**
 * The status of the run a scheduled action started, at the last run of its continue-as-new chain (an
 * action's workflow id is its own, so the id's latest run is that chain's).
 */
async function runStatus(client: Client, workflowId: string): Promise<string> {
  try {
    return (await client.workflow.getHandle(workflowId).describe()).status.name;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return 'UNKNOWN';
    throw err;
  }
}

async function recentRuns(client: Client, d: ScheduleDescription): Promise<ScheduledRun[]> {
  return Promise.all(
    d.info.recentActions.map(async (a) => ({
      workflowId: a.action.workflow.workflowId,
      scheduledAt: a.scheduledAt.toISOString(),
      takenAt: a.takenAt.toISOString(),
      status: await runStatus(client, a.action.workflow.workflowId),
    })),
  );
}

/** The spec the schedule's next run starts with (the action's input), as `schedule update` may have changed it. */
function actionSpec(d: ScheduleDescription): { specName?: string; specFile?: string } {
  if (d.action.type !== 'startWorkflow') return {};
  const [input] = d.action.args as Array<Partial<FineTuneInput> | undefined>;
  const specFile = d.action.memo?.specFile;
  return {
    specName: typeof input?.spec?.name === 'string' ? input.spec.name : undefined,
    specFile: typeof specFile === 'string' ? specFile : undefined,
  };
}

export async function describeSchedule(client: Client, scheduleId: string): Promise<ScheduleView> {
  const d = await client.schedule.getHandle(scheduleId).describe();
  const memo = memoOf(d.memo);
  const current = actionSpec(d);
  return {
    scheduleId,
    specName: current.specName ?? memo.specName ?? null,
    specFile: current.specFile ?? memo.specFile ?? null,
    timing: timingText(memo, d.spec),
    taskQueue: d.action.taskQueue,
    paused: d.state.paused,
    note: d.state.note || null,
    overlap: d.policies.overlap ?? ScheduleOverlapPolicy.SKIP, // unspecified: the server's default, SKIP
    catchupWindowMs: d.policies.catchupWindow,
    actionsTaken: d.info.numActionsTaken,
    skippedOverlap: d.info.numActionsSkippedOverlap,
    missedCatchupWindow: d.info.numActionsMissedCatchupWindow,
    recentRuns: await recentRuns(client, d),
    runningIds: d.info.runningActions.map((a) => a.workflow.workflowId),
    nextRunTimes: d.info.nextActionTimes.map((t) => t.toISOString()),
  };
}

export interface UpdatedSchedule {
  scheduleId: string;
  specName: string;
  specFile: string;
}

/** A schedule that starts something other than fineTune runs: update refuses to put a spec in it. */
export class NotAFineTuneSchedule extends Error {
  override readonly name = 'NotAFineTuneSchedule';
}

/** The spec for `schedule update`, checked as create checks it, before Temporal is contacted: a bad one changes nothing. */
export async function loadScheduleSpec(specPath: string): Promise<{ spec: RunSpec; specFile: string }> {
  return { spec: await loadRunSpec(specPath), specFile: resolve(specPath) };
}

/**
 * Replaces the spec the schedule's runs start with, from its next run on: a run already going keeps the input it
 * started with. Timing, policies, state, task queue and the runs' id prefix stay as they are.
 */
export async function updateSchedule(
  client: Client,
  scheduleId: string,
  loaded: { spec: RunSpec; specFile: string },
): Promise<UpdatedSchedule> {
  const { spec, specFile } = loaded;
  await client.schedule.getHandle(scheduleId).update((previous) => {
    const action = previous.action;
    if (action.type !== 'startWorkflow' || action.workflowType !== WORKFLOW_TYPE)
      throw new NotAFineTuneSchedule(`schedule ${scheduleId} does not start ${WORKFLOW_TYPE} runs; it has no spec to update`);
    return { ...previous, action: runAction({ taskQueue: action.taskQueue }, action.workflowId, spec, specFile) };
  });
  return { scheduleId, specName: spec.name, specFile };
}

export async function pauseSchedule(client: Client, scheduleId: string, note?: string): Promise<void> {
  await client.schedule.getHandle(scheduleId).pause(note ?? PAUSE_NOTE);
}

export async function unpauseSchedule(client: Client, scheduleId: string, note?: string): Promise<void> {
  await client.schedule.getHandle(scheduleId).unpause(note ?? UNPAUSE_NOTE);
}

/** Starts a run now, unless one is still running (overlap SKIP); returns the runs running just before. */
export async function triggerSchedule(client: Client, scheduleId: string): Promise<{ runningIds: string[] }> {
  const handle = client.schedule.getHandle(scheduleId);
  const runningIds = (await handle.describe()).info.runningActions.map((a) => a.workflow.workflowId);
  await handle.trigger(ScheduleOverlapPolicy.SKIP);
  return { runningIds };
}

/** Deletes the schedule; runs it started keep running. Returns those still running. */
export async function deleteSchedule(client: Client, scheduleId: string): Promise<{ runningIds: string[] }> {
  const handle = client.schedule.getHandle(scheduleId);
  const runningIds = (await handle.describe()).info.runningActions.map((a) => a.workflow.workflowId);
  await handle.delete();
  return { runningIds };
}

export function formatMs(ms: number): string {
  const units: Array<[number, string]> = [
    [86_400_000, 'd'],
    [3_600_000, 'h'],
    [60_000, 'm'],
    [1000, 's'],
  ];
  const unit = units.find(([size]) => ms >= size && ms % size === 0);
  return unit ? `${ms / unit[0]}${unit[1]}` : `${ms}ms`;
}

export function formatScheduleView(v: ScheduleView): string {
  const state = v.paused ? 'paused' : 'active';
  const lines = [
    `Schedule ${v.scheduleId}: ${v.timing}, ${state}${v.note ? ` (${v.note})` : ''}`,
    `Spec:           ${v.specName ?? '?'}${v.specFile ? ` (${v.specFile})` : ''}`,
    `Task queue:     ${v.taskQueue}`,
    `Policies:       overlap ${v.overlap}, catch-up window ${formatMs(v.catchupWindowMs)}`,
    `Actions:        ${v.actionsTaken} taken, ${v.skippedOverlap} skipped (overlap), ${v.missedCatchupWindow} missed (catch-up window)`,
    'Recent runs:',
    ...(v.recentRuns.length === 0 ? ['  none yet'] : v.recentRuns.map((r) => `  ${r.scheduledAt}  ${r.workflowId}  ${r.status}`)),
    `Next runs:      ${v.paused ? '(paused)' : v.nextRunTimes.slice(0, 3).join(', ') || 'none'}`,
  ];
  return lines.join('\n');
}

export function formatScheduleTable(rows: ScheduleRow[]): string {
  if (rows.length === 0) return 'No schedules.';
  const table = [
    ['Schedule', 'Spec', 'Timing', 'State', 'Next run', 'Last run'],
    ...rows.map((r) => [
      r.scheduleId,
      r.specName ?? '?',
      r.timing,
      r.paused ? 'paused' : 'active',
      r.paused ? '-' : (r.nextRunAt ?? '-'),
      r.lastRunId ?? '-',
    ]),
  ];
  const widths = table[0].map((_, i) => Math.max(...table.map((row) => row[i].length)));
  return table
    .map((row) =>
      row
        .map((cell, i) => cell.padEnd(widths[i]))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}
