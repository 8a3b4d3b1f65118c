// Activities that return plausible records without touching nodes, for testing the workflow's logic.
import { setTimeout as sleep } from 'node:timers/promises';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { Activities } from '../../src/activities';
import type { QaScores, TrainResult } from '../../src/activities/types';
import { decidePromotion } from '../../src/common/promotion';
import type { CpuTopology } from '../../src/cluster/topology';
import type { NodeRecord } from '../../src/providers/provider';

/** What the fake training reports; evaluation is on by default. */
export const FAKE_SCORES: QaScores = { exactMatch: 62.5, f1: 71.25, samples: 64 };

export const FAKE_TRAIN_RESULT: TrainResult = {
  globalStep: 10,
  worldSize: 3,
  firstLoss: 5,
  finalLoss: 3,
  evalLoss: null,
  samplesPerSecond: 20,
  stepsPerSecond: 1,
  runtimeSeconds: 10,
  lastCheckpoint: 'tuneforge/output/checkpoint-10',
  resumedStep: 0,
  epochs: 1,
  eval: FAKE_SCORES,
};

export function fakeNode(name: string): NodeRecord {
  return {
    name,
    role: name === 'master' ? 'master' : 'worker',
    providerId: name,
    address: '127.0.0.1',
    privateAddress: '127.0.0.1',
    sshPort: 22,
    hostKey: 'ssh-ed25519 AAAA',
    state: 'running',
    instanceType: 'fake',
    market: 'on-demand',
    launchedAt: new Date(0).toISOString(),
  };
}

/** This machine's layout: two cores, one socket, no AMX. */
export const TWO_CORES: CpuTopology = {
  logicalCpus: 2,
  physicalCores: 2,
  sockets: 1,
  numaNodes: 1,
  coresPerNumaNode: 2,
  ranksPerNode: 1,
  threadsPerRank: 1,
  amx: false,
  avx512Bf16: false,
};

/** The activities a successful run schedules, in order. */
export const RUN_ACTIVITIES = [
  'prepareArtifacts',
  'provisionMaster',
  'installDeps',
  'bakeImage',
  'launchWorkers',
  'wireSsh',
  'sanityRun',
  'distributedTrain',
  'deliverModel',
  'uploadLogs',
  'teardown',
  'recordRun',
];

export interface CallLog {
  calls: string[];
  teardownInputs: Array<{ keepCluster: boolean; succeeded: boolean }>;
  /** What record-run was asked to write (run.json). */
  records: unknown[];
}

export function fakeActivities(overrides: Partial<Activities> = {}): { activities: Activities; log: CallLog } {
  const log: CallLog = { calls: [], teardownInputs: [], records: [] };
  const record =
    <A extends unknown[], R>(name: string, fn: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      log.calls.push(name);
      return fn(...args);
    };
  const base: Activities = {
    preflight: async () => [],
    prepareArtifacts: async () => ({ uri: 'file:///fake/artifacts/run/wf/' }),
    checkInputs: async () => ({
      train: { kind: 'asset', source: 'train' },
      validation: { kind: 'asset', source: 'validation' },
      model: { kind: 'asset', source: 'model' },
    }),
    stageInputs: async (input) => input.nodes.map((n) => ({ node: n.name, copied: [] })),
    checkHubData: async () => ({ trainRows: 1, validationRows: 1 }),
    fetchHubModel: async (input) => ({
      id: 'org/model',
      revision: 'main',
      commit: 'c'.repeat(40),
      files: 3,
      bytes: 1000,
      ...(input.hubModel ? { commit: input.hubModel.commit } : {}),
    }),
    fetchHubData: async () => ({ id: 'org/data', revision: 'main', commit: 'e'.repeat(40), files: 1, bytes: 1 }),
    stageHubRepos: async (input) => ({ pushed: input.nodes.filter((n) => n.role !== 'master').map((n) => n.name) }),
    deliverModel: async () => ({
      modelUri: 'file:///fake/artifacts/run/wf/model/',
      evaluationUri: null,
      files: 3,
      bytes: 1000,
      uploadSeconds: 0.1,
      packages: { torch: '2.13.0' },
      lossCurve: [{ step: 1, loss: 5 }],
    }),
    promoteModel: async (input) => decidePromotion(input.gate, input.value, undefined, input.workflowId),
    recordRun: async (input) => {
      log.records.push(input.record);
      return 'file:///fake/artifacts/run/wf/run.json';
    },
    provisionMaster: async () => ({
      cluster: { clusterId: 'c', provider: 'local', sshUser: 'ubuntu', rendezvousPort: 29500, nodesShareCpus: true },
      master: fakeNode('master'),
      fingerprint: 'f'.repeat(32),
      imageReused: false,
      cpu: TWO_CORES,
    }),
    installDeps: async () => ({ fingerprint: 'f'.repeat(32), skipped: false }),
    bakeImage: async () => ({ imageId: 'img', fingerprint: 'f'.repeat(32), createdAt: new Date(0).toISOString() }),
    launchWorkers: async (input) => input.names.map(fakeNode),
    wireSsh: async (input) => ({ hosts: input.nodes.map((n) => n.name) }),
    sanityRun: async () => ({ steps: 3, stepsPerSecond: 1, samplesPerSecond: 8, firstLoss: 5, finalLoss: 4 }),
    distributedTrain: async () => FAKE_TRAIN_RESULT,
    replaceNodes: async (input) => input.nodes.map((n) => fakeNode(n.name)),
    replaceMaster: async () => fakeNode('master'),
    useStandby: async (input) => {
      const lost = input.nodes.filter((n) => input.lost.includes(n.name));
      const taking = input.standby.slice(0, lost.length);
      const filled = Object.fromEntries(taking.map((s, i) => [lost[i]?.name ?? '', s.name]));
      const nodes = input.nodes.map((n) => {
        const standby = taking.find((s) => filled[n.name] === s.name);
        return standby ? { ...standby, role: n.role } : n;
      });
      return { nodes, standby: input.standby.slice(taking.length), filled, broken: [] };
    },
    uploadLogs: async () => ({ uploaded: [], skipped: [] }),
    // Sends nothing: notify tests put the real notify-run in front of an HTTP server of their own.
    notifyRun: async () => ({ sent: false, status: null, reason: 'fake activities send no notices' }),
    teardown: async (input) => {
      log.teardownInputs.push({ keepCluster: input.keepCluster, succeeded: input.succeeded });
      return {
        nodesTerminated: input.keepCluster ? 0 : 3,
        nodesLeft: input.keepCluster ? 3 : 0,
        kept: input.keepCluster,
        access: input.keepCluster ? ['master: ssh -i key -p 22 ubuntu@127.0.0.1'] : [],
      };
    },
  };
  const merged = { ...base, ...overrides } as Activities;
  const activities = Object.fromEntries(
    Object.entries(merged).map(([name, fn]) => [name, record(name, fn as (...args: unknown[]) => Promise<unknown>)]),
  ) as unknown as Activities;
  return { activities, log };
}

export function failingWith(type: string, nonRetryable = true) {
  return async (): Promise<never> => {
    throw ApplicationFailure.create({ type, message: `injected ${type}`, nonRetryable });
  };
}

/**
 * An activity body that heartbeats (as keepAlive does) until the activity is cancelled, then takes
 * `unwindMs` to stop (a provider call ending after its abort) and rethrows the cancellation.
 */
export async function untilCancelled(unwindMs = 0): Promise<never> {
  const ctx = Context.current();
  while (!ctx.cancellationSignal.aborted) {
    ctx.heartbeat();
    await sleep(100);
  }
  await sleep(unwindMs);
  throw ctx.cancellationSignal.reason;
}

/** Nodes priced by spec.local, launched `seconds` before the workflow sees them; replacements launched now. */
export function pricedNodes(seconds: number) {
  const base = fakeActivities().activities;
  const ago = () => new Date(Date.now() - seconds * 1000).toISOString();
  const now = () => new Date().toISOString();
  return {
    provisionMaster: async (ctx: Parameters<typeof base.provisionMaster>[0]) => {
      const provisioned = await base.provisionMaster(ctx);
      return { ...provisioned, master: { ...provisioned.master, instanceType: 'local', launchedAt: ago() } };
    },
    launchWorkers: async (input: Parameters<typeof base.launchWorkers>[0]) =>
      (await base.launchWorkers(input)).map((n) => ({ ...n, instanceType: 'local', launchedAt: ago() })),
    replaceNodes: async (input: Parameters<typeof base.replaceNodes>[0]) =>
      (await base.replaceNodes(input)).map((n) => ({ ...n, providerId: `${n.providerId}-2`, instanceType: 'local', launchedAt: now() })),
  };
}
