// EC2 quota errors: which Service Quotas limit a failed launch ran into and how to raise it. A quota is an
// account limit, not a shortage: another zone or type of the same family hits the same limit, so it is
// never retried or failed over like a capacity error.
import type { ApplicationFailure } from '@temporalio/common';
import { quotaExceeded, type QuotaData } from '../../common/errors';
import type { Market } from '../provider';

/** EC2 error codes that mean an account quota is used up. */
export const QUOTA_CODES: ReadonlySet<string> = new Set([
  'VcpuLimitExceeded',
  'MaxSpotInstanceCountExceeded',
  'InstanceLimitExceeded',
]);

/** Families counted in the "Standard" vCPU quotas (r7iz, m7i, c7i... are all in it). */
export const STANDARD_FAMILIES = new Set(['a', 'c', 'd', 'h', 'i', 'm', 'r', 't', 'z']);
const STANDARD_FAMILY_LIST = 'A, C, D, H, I, M, R, T, Z';
/** Service Quotas codes of the two quotas the post's r7iz cluster needs (service code ec2). */
const STANDARD_ON_DEMAND = { quota: `Running On-Demand Standard (${STANDARD_FAMILY_LIST}) instances`, quotaCode: 'L-1216C47A' };
const STANDARD_SPOT = { quota: `All Standard (${STANDARD_FAMILY_LIST}) Spot Instance Requests`, quotaCode: 'L-34B43A08' };

export function family(instanceType: string): string {
  return /^[a-z-]+?(?=\d)/.exec(instanceType)?.[0] ?? instanceType.split('.')[0] ?? instanceType;
}

/** The quota a launch of this type in this market counts against; the code only for the standard families. */
export function quotaOf(instanceType: string, market: Market): { quota: string; quotaCode?: string } {
  const name = family(instanceType);
  if (STANDARD_FAMILIES.has(name)) return market === 'spot' ? STANDARD_SPOT : STANDARD_ON_DEMAND;
  const upper = name.toUpperCase();
  return { quota: market === 'spot' ? `All ${upper} Spot Instance Requests` : `Running On-Demand ${upper} instances` };
}

export interface QuotaContext {
  code: string;
  instanceType: string;
  market: Market;
  region: string;
  /** What was being done, e.g. "launching worker-2 (r7iz.metal-16xl, spot)". */
  what: string;
}

export function quotaFailure(context: QuotaContext): ApplicationFailure {
  const { quota, quotaCode } = quotaOf(context.instanceType, context.market);
  const console = `the Service Quotas console (Amazon EC2, "${quota}", region ${context.region})`;
  const fix =
    quotaCode === undefined
      ? `Request an increase in ${console}; the quota counts vCPUs: nodes x vCPUs per instance.`
      : `Request an increase in ${console} or with "aws service-quotas request-service-quota-increase --service-code ec2 --quota-code ${quotaCode} --desired-value <vCPUs: nodes x vCPUs per instance> --region ${context.region}".`;
  const data: QuotaData = { code: context.code, quota, ...(quotaCode === undefined ? {} : { quotaCode }), fix };
  return quotaExceeded(data, context.what);
}
