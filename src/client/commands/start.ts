// `tuneforge start <spec.yaml>`: validate the spec, start a run, print its id and UI link.
import { randomBytes } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { CLUSTER_ID_PATTERN, clusterIdOf } from '../../common/cluster-id';
import { specInvalid } from '../../common/errors';
import { WORKFLOW_TYPE } from '../../common/names';
import { awsSpecProblems } from '../../providers/aws/spec-checks';
import { routeByProvider } from '../../providers/capabilities';
import { loadRunSpec } from '../../run-spec/load';
import type { RunSpec } from '../../run-spec/schema';
import type { FineTuneInput } from '../../workflows/definitions';
import { runUrl, type ClientSettings } from '../connection';
import { runStaticMetadata } from '../run-metadata';

export interface StartedRun {
  workflowId: string;
  url: string;
  spec: RunSpec;
}

export function newRunId(spec: RunSpec, now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `${spec.name}-${stamp}-${randomBytes(2).toString('hex')}`;
}

/** A workflow id names the cluster and tags its resources: refused here, before anything starts. */
export function checkRunId(id: string): void {
  if (!CLUSTER_ID_PATTERN.test(clusterIdOf(id))) {
    const shown = JSON.stringify(id.length > 60 ? `${id.slice(0, 57)}...` : id);
    throw specInvalid([
      { path: '--id', message: `${shown} must be 1-100 lowercase letters, digits and dashes, starting with a letter or digit` },
    ]);
  }
}

export interface RunToStart {
  spec: RunSpec;
  workflowId: string;
}

/** Everything start checks on this machine, before it contacts Temporal: a bad spec or id starts nothing. */
export async function prepareRun(specPath: string, id?: string): Promise<RunToStart> {
  if (id !== undefined) checkRunId(id);
  const spec = await loadRunSpec(specPath);
  // The SSH range may come from the worker's TUNEFORGE_OPERATOR_CIDR, which only the worker knows: it checks that one.
  const problems = await routeByProvider(spec, {
    local: async () => [],
    aws: (aws) => awsSpecProblems(aws.aws, { checkSshCidr: false }),
  });
  if (problems.length > 0) throw specInvalid(problems);
  return { spec, workflowId: id ?? newRunId(spec) };
}

export async function startRun(client: Client, settings: ClientSettings, run: RunToStart): Promise<StartedRun> {
  const { spec, workflowId } = run;
  const input: FineTuneInput = { spec };
  await client.workflow.start(WORKFLOW_TYPE, {
    taskQueue: settings.taskQueue,
    workflowId,
    args: [input],
    ...runStaticMetadata(spec),
  });
  return { workflowId, url: runUrl(settings, workflowId), spec };
}
