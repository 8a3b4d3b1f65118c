// The aws settings checked before a run starts (by the CLI, and again by the worker before bootstrap
// creates anything): instance types, zones, key files and the SSH range. A provider never checks them.
import { ApplicationFailure } from '@temporalio/common';
import { FailureType, type SpecProblem } from '../../common/errors';
import type { AwsSettings } from '../../run-spec/schema';
import { readPrivateKey, readPublicKey } from './operator-key';
import { isKnownInstanceType } from './run-instance';

/** Instance types and zones that cannot exist: found from the spec alone. */
export function placementProblems(settings: AwsSettings): SpecProblem[] {
  const problems: SpecProblem[] = [];
  settings.instanceTypes.forEach((instanceType, index) => {
    if (!isKnownInstanceType(instanceType)) {
      problems.push({ path: `aws.instanceTypes.${index}`, message: `${instanceType} is not an EC2 instance type` });
    }
  });
  settings.availabilityZones.forEach((zone, index) => {
    if (!zone.startsWith(settings.region)) {
      problems.push({ path: `aws.availabilityZones.${index}`, message: `${zone} is not a zone of ${settings.region}` });
    }
  });
  return problems;
}

/** The SSH range the nodes' group allows: the spec's, else the worker's operator CIDR; one of them is required. */
export function sshCidrProblems(settings: AwsSettings, operatorCidr?: string): SpecProblem[] {
  const sshCidr = settings.sshCidr ?? operatorCidr;
  if (sshCidr === undefined) {
    return [{ path: 'aws.sshCidr', message: 'required: the only address range allowed to reach the nodes on port 22' }];
  }
  if (sshCidr.endsWith('/0')) {
    return [
      {
        path: 'aws.sshCidr',
        message: `${sshCidr} would open SSH to the whole internet; use your own address, e.g. 203.0.113.7/32`,
      },
    ];
  }
  return [];
}

/** Key files that are missing, unreadable, or hold no key EC2 can import, read as the worker reads them. */
export async function keyFileProblems(settings: AwsSettings): Promise<SpecProblem[]> {
  try {
    await readPublicKey(settings, await readPrivateKey(settings));
    return [];
  } catch (error) {
    if (error instanceof ApplicationFailure && error.type === FailureType.SpecInvalid) {
      const details = error.details?.[0] as { problems?: SpecProblem[] } | undefined;
      return details?.problems ?? [{ path: 'aws.privateKeyPath', message: error.message }];
    }
    throw error;
  }
}

/** Everything above; `operatorCidr` is the worker's TUNEFORGE_OPERATOR_CIDR (the CLI passes none and skips that check). */
export async function awsSpecProblems(
  settings: AwsSettings,
  options: { operatorCidr?: string; checkSshCidr: boolean },
): Promise<SpecProblem[]> {
  return [
    ...(options.checkSshCidr ? sshCidrProblems(settings, options.operatorCidr) : []),
    ...placementProblems(settings),
    ...(await keyFileProblems(settings)),
  ];
}
