// Preflight: read-only checks of the account before a run creates anything, so a cluster that cannot be
// launched fails in seconds instead of after the master has booted, installed and baked (~38 min of metal).
// Each check answers ok (true), failed (false) or could-not-check (null, a warning that never blocks).
import { readFile } from 'node:fs/promises';
import {
  DescribeInstancesCommand,
  DescribeInstanceTypeOfferingsCommand,
  DescribeInstanceTypesCommand,
  type _InstanceType,
  type Instance,
} from '@aws-sdk/client-ec2';
import { ApplicationFailure } from '@temporalio/common';
import type { MarketPolicy } from '../../run-spec/schema';
import type { ClusterRef, Market, PreflightCheck } from '../provider';
import { call, type LaunchContext, sendOptions } from './context';
import { resolveBaseImage } from './images';
import { expandHome, readPrivateKey } from './operator-key';
import { family, quotaOf, STANDARD_FAMILIES } from './quotas';
import { keyFileProblems } from './spec-checks';
import { normalizePublicKey, publicKeyFromPrivateKey } from './ssh-keys';
import type { QuotaReader } from './service-quotas';
import { TAG } from './tags';

export interface PreflightInput {
  nodes: number;
  cluster?: ClusterRef;
  readQuota: QuotaReader;
}

export async function awsPreflight(ctx: LaunchContext, input: PreflightInput): Promise<PreflightCheck[]> {
  return [...(await quotaChecks(ctx, input)), await offeringCheck(ctx), await baseImageCheck(ctx), await keyPairCheck(ctx)];
}

/** The markets a policy may launch in: spot-then-on-demand may put every node in either. */
function marketsOf(policy: MarketPolicy): Market[] {
  return policy === 'spot-then-on-demand' ? ['spot', 'on-demand'] : [policy];
}

/** vCPUs the cluster needs per quota code: its nodes of the first instance type, by the market each may use. */
function neededByQuota(ctx: LaunchContext, nodes: number, vcpus: number): Map<string, number> {
  const needed = new Map<string, number>();
  const add = (policy: MarketPolicy, count: number): void => {
    for (const market of marketsOf(policy)) {
      const code = quotaOf(ctx.settings.instanceTypes[0] ?? '', market).quotaCode;
      if (code !== undefined) needed.set(code, (needed.get(code) ?? 0) + count * vcpus);
    }
  };
  add(ctx.settings.market, 1);
  add(ctx.settings.workerMarket ?? ctx.settings.market, nodes - 1);
  return needed;
}

async function quotaChecks(ctx: LaunchContext, input: PreflightInput): Promise<PreflightCheck[]> {
  const instanceType = ctx.settings.instanceTypes[0] ?? '';
  const base = { check: 'vcpu-quota', field: 'aws.instanceTypes' };
  if (!STANDARD_FAMILIES.has(family(instanceType))) {
    return [{ ...base, ok: null, message: `no vCPU quota code is known for the ${family(instanceType)} family; not checked` }];
  }
  const running = await runningInstances(ctx, input.cluster);
  const vcpus = await defaultVcpus(ctx, [instanceType, ...running.flatMap((i) => i.InstanceType ?? [])]);
  const perNode = vcpus.get(instanceType);
  if (perNode === undefined) return [{ ...base, ok: null, message: `EC2 did not say how many vCPUs ${instanceType} has` }];
  const checks: PreflightCheck[] = [];
  for (const [quotaCode, needed] of neededByQuota(ctx, input.nodes, perNode)) {
    const market: Market = quotaCode === quotaOf(instanceType, 'spot').quotaCode ? 'spot' : 'on-demand';
    const { quota } = quotaOf(instanceType, market);
    const reading = await input.readQuota(ctx.region, quotaCode, ctx.signal);
    if ('unreadable' in reading) {
      checks.push({ ...base, ok: null, message: `"${quota}" (${quotaCode}) could not be read: ${reading.unreadable}`, needed });
      continue;
    }
    const inUse = vcpusInUse(running, market, vcpus);
    const available = Math.max(0, Math.floor(reading.value - inUse));
    const ok = available >= needed;
    checks.push({
      ...base,
      ok,
      needed,
      available,
      message: `"${quota}" (${quotaCode}) in ${ctx.region}: ${needed} vCPUs needed (${input.nodes} x ${perNode}, ${instanceType}), ${available} available (quota ${reading.value}, ${inUse} in use by running instances)`,
      ...(ok ? {} : { fix: quotaFix(ctx.region, quota, quotaCode, inUse + needed) }),
    });
  }
  return checks;
}

function quotaFix(region: string, quota: string, quotaCode: string, desired: number): string {
  return (
    `Raise it to at least ${desired} in the Service Quotas console (Amazon EC2, "${quota}", region ${region}) or with ` +
    `"aws service-quotas request-service-quota-increase --service-code ec2 --quota-code ${quotaCode} --desired-value ${desired} --region ${region}", ` +
    'or stop other instances, or use fewer nodes or a smaller instance type.'
  );
}

/** Pending and running instances of the account in the region, except the run's own (a re-check must not count them). */
async function runningInstances(ctx: LaunchContext, cluster: ClusterRef | undefined): Promise<Instance[]> {
  const instances: Instance[] = [];
  let NextToken: string | undefined;
  do {
    const page = await call(ctx, 'DescribeInstances', () =>
      ctx.ec2.send(
        new DescribeInstancesCommand({ Filters: [{ Name: 'instance-state-name', Values: ['pending', 'running'] }], NextToken }),
        sendOptions(ctx),
      ),
    );
    for (const reservation of page.Reservations ?? []) instances.push(...(reservation.Instances ?? []));
    NextToken = page.NextToken || undefined;
  } while (NextToken !== undefined);
  const own = (i: Instance): boolean => i.Tags?.some((t) => t.Key === TAG.cluster && t.Value === cluster?.clusterId) ?? false;
  return cluster === undefined ? instances : instances.filter((i) => !own(i));
}

/** vCPUs the standard instances of a market hold: their CPU options, else their type's default. */
function vcpusInUse(instances: Instance[], market: Market, vcpus: Map<string, number>): number {
  return instances
    .filter((i) => STANDARD_FAMILIES.has(family(i.InstanceType ?? '')))
    .filter((i) => (i.InstanceLifecycle === 'spot') === (market === 'spot'))
    .reduce((sum, i) => {
      const { CoreCount: cores, ThreadsPerCore: threads } = i.CpuOptions ?? {};
      const fromOptions = cores !== undefined && threads !== undefined ? cores * threads : undefined;
      return sum + (fromOptions ?? vcpus.get(i.InstanceType ?? '') ?? 0);
    }, 0);
}

async function defaultVcpus(ctx: LaunchContext, types: string[]): Promise<Map<string, number>> {
  const unique = [...new Set(types)] as _InstanceType[];
  const vcpus = new Map<string, number>();
  // DescribeInstanceTypes takes at most 100 types per call.
  for (let start = 0; start < unique.length; start += 100) {
    const page = await call(ctx, 'DescribeInstanceTypes', () =>
      ctx.ec2.send(new DescribeInstanceTypesCommand({ InstanceTypes: unique.slice(start, start + 100) }), sendOptions(ctx)),
    );
    for (const info of page.InstanceTypes ?? []) {
      const count = info.VCpuInfo?.DefaultVCpus;
      if (info.InstanceType !== undefined && count !== undefined) vcpus.set(info.InstanceType, count);
    }
  }
  return vcpus;
}

/** Every listed type must be offered in at least one of the zones the run may use; failover to a type offered nowhere is a spec error. */
async function offeringCheck(ctx: LaunchContext): Promise<PreflightCheck> {
  const { instanceTypes, availabilityZones: zones } = ctx.settings;
  const page = await call(ctx, 'DescribeInstanceTypeOfferings', () =>
    ctx.ec2.send(
      new DescribeInstanceTypeOfferingsCommand({
        LocationType: 'availability-zone',
        Filters: [
          { Name: 'instance-type', Values: instanceTypes },
          ...(zones.length > 0 ? [{ Name: 'location', Values: zones }] : []),
        ],
      }),
      sendOptions(ctx),
    ),
  );
  const offered = new Map<string, Set<string>>();
  for (const offering of page.InstanceTypeOfferings ?? []) {
    if (offering.InstanceType === undefined || offering.Location === undefined) continue;
    offered.set(offering.InstanceType, (offered.get(offering.InstanceType) ?? new Set()).add(offering.Location));
  }
  const where = zones.length > 0 ? `zone(s) ${zones.join(', ')}` : `any zone of ${ctx.region}`;
  const missing = instanceTypes.filter((t) => (offered.get(t)?.size ?? 0) === 0);
  const lines = instanceTypes.map((t) => `${t}: ${[...(offered.get(t) ?? [])].sort().join(', ') || 'none'}`);
  const base = { check: 'instance-type', field: 'aws.instanceTypes' };
  if (missing.length === 0) return { ...base, ok: true, message: `offered in ${where} (${lines.join('; ')})` };
  return {
    ...base,
    ok: false,
    message: `${missing.join(', ')} not offered in ${where} (${lines.join('; ')})`,
    fix: `Choose another instance type or zone ("aws ec2 describe-instance-type-offerings --location-type availability-zone --filters Name=instance-type,Values=${missing[0] ?? ''} --region ${ctx.region}" lists its zones).`,
  };
}

async function baseImageCheck(ctx: LaunchContext): Promise<PreflightCheck> {
  const base = { check: 'base-image', field: 'aws.baseImage' };
  try {
    const image = await resolveBaseImage(ctx);
    return { ...base, ok: true, message: `${image.imageId} (${image.rootDeviceName})` };
  } catch (error) {
    if (!(error instanceof ApplicationFailure)) throw error;
    return {
      ...base,
      ok: false,
      message: error.message,
      fix: 'Set aws.baseImage to an available image of this region (id, or name and owner).',
    };
  }
}

/** The key files are readable and, when both are named, the public key is the private key's own. */
async function keyPairCheck(ctx: LaunchContext): Promise<PreflightCheck> {
  const base = { check: 'key-pair', field: 'aws.privateKeyPath' };
  const problems = await keyFileProblems(ctx.settings);
  if (problems.length > 0) {
    return {
      ...base,
      ok: false,
      message: problems.map((p) => `${p.path}: ${p.message}`).join('; '),
      fix: 'Fix the key files named in the spec.',
    };
  }
  const { publicKeyPath } = ctx.settings;
  if (publicKeyPath === undefined)
    return { ...base, ok: true, message: 'the private key is readable; its public key is imported' };
  const derived = publicKeyFromPrivateKey((await readPrivateKey(ctx.settings)).toString('utf8'));
  const given = normalizePublicKey((await readFile(expandHome(publicKeyPath))).toString('utf8'));
  if (derived === undefined || derived === given)
    return { ...base, ok: true, message: `${publicKeyPath} is imported as the cluster's key pair` };
  return {
    ...base,
    field: 'aws.publicKeyPath',
    ok: false,
    message: `${publicKeyPath} is not the public key of ${ctx.settings.privateKeyPath}: EC2 would install a key the worker cannot log in with`,
    fix: 'Point aws.publicKeyPath at the .pub file of aws.privateKeyPath, or leave it out (the public key is then derived).',
  };
}
