// EC2's own status checks of a cluster's live instances: a failed check is provider evidence that a
// node is lost, as good as a terminated state, so the node watch need not wait for probe misses.
import { DescribeInstanceStatusCommand, type InstanceStatus, type InstanceStatusSummary } from '@aws-sdk/client-ec2';
import { call, type AwsContext, sendOptions } from './context';
import { isEc2Error } from './errors';

/** DescribeInstanceStatus takes at most 100 explicit instance ids per call. */
const IDS_PER_CALL = 100;

/**
 * Why the instance is impaired, or undefined when EC2 reports no failed check. Only `impaired` counts:
 * `initializing` (a metal instance checks for minutes after boot) and `insufficient-data` say nothing
 * is wrong. Scheduled events (instance-retirement, instance-stop, system-reboot, system-maintenance)
 * do not count either: EC2 announces them days to weeks ahead and the instance trains normally until
 * their window, so replacing it at once would throw away a healthy node (a new metal node costs ~20
 * min). When EC2 acts on one, the instance shows stopping/stopped/terminated, which is a loss at once,
 * and hardware too degraded to wait fails the system check here first.
 */
export function impairmentOf(status: InstanceStatus): string | undefined {
  const failed = [
    failedCheck('system status', status.SystemStatus),
    failedCheck('instance status', status.InstanceStatus),
  ].filter((text): text is string => text !== undefined);
  return failed.length === 0 ? undefined : failed.join('; ');
}

function failedCheck(label: string, summary: InstanceStatusSummary | undefined): string | undefined {
  if (summary?.Status !== 'impaired') return undefined;
  const checks = (summary.Details ?? []).filter((detail) => detail.Status === 'failed').map((detail) => detail.Name);
  return checks.length === 0 ? `${label} impaired` : `${label} impaired (${checks.join(', ')} failed)`;
}

/** The impairment of each impaired instance among `instanceIds`, by instance id; healthy ones are absent. */
export async function describeImpairments(ctx: AwsContext, instanceIds: string[]): Promise<Map<string, string>> {
  const impairments = new Map<string, string>();
  for (let start = 0; start < instanceIds.length; start += IDS_PER_CALL) {
    for (const status of await describeStatuses(ctx, instanceIds.slice(start, start + IDS_PER_CALL))) {
      const impairment = impairmentOf(status);
      if (status.InstanceId !== undefined && impairment !== undefined) impairments.set(status.InstanceId, impairment);
    }
  }
  return impairments;
}

/**
 * What EC2's own instance check says of each instance's reachability (passed, failed, initializing,
 * insufficient-data), by instance id. `passed` means EC2 reaches the instance's OS: a worker that still
 * cannot reach port 22 is cut off by the network path (group range, NAT, firewall, public IP), not by the boot.
 */
export async function describeReachability(ctx: AwsContext, instanceIds: string[]): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  for (let start = 0; start < instanceIds.length; start += IDS_PER_CALL) {
    for (const status of await describeStatuses(ctx, instanceIds.slice(start, start + IDS_PER_CALL))) {
      const check = status.InstanceStatus?.Details?.find((detail) => detail.Name === 'reachability');
      if (status.InstanceId !== undefined && check?.Status !== undefined) found.set(status.InstanceId, check.Status);
    }
  }
  return found;
}

async function describeStatuses(ctx: AwsContext, instanceIds: string[]): Promise<InstanceStatus[]> {
  const statuses: InstanceStatus[] = [];
  let nextToken: string | undefined;
  try {
    do {
      const page = await call(ctx, 'DescribeInstanceStatus', () =>
        ctx.ec2.send(
          new DescribeInstanceStatusCommand({ InstanceIds: instanceIds, IncludeAllInstances: true, NextToken: nextToken }),
          sendOptions(ctx),
        ),
      );
      statuses.push(...(page.InstanceStatuses ?? []));
      nextToken = page.NextToken;
    } while (nextToken !== undefined && nextToken !== '');
  } catch (error) {
    // EC2 is eventually consistent: an instance DescribeInstances just listed can still be unknown here
    // (seconds after launch). That is no evidence of a fault; the next round asks again.
    if (isEc2Error(error, 'not-found')) return [];
    throw error;
  }
  return statuses;
}
