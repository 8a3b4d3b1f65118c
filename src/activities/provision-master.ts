// provision-master: the cluster's shared resources and its first node, from a baked image when an
// earlier run already baked one for the same recipe fingerprint.
import { Context } from '@temporalio/activity';
import { amxMissing } from '../common/errors';
import { recipeFingerprint } from '../recipes/recipe-bundle';
import { recipeFor } from '../recipes/recipe';
import type { RemoteShell } from '../remote/remote-shell';
import type { SshTarget } from '../remote/ssh-session';
import { clusterRef, targetFor, type ActivityDeps } from './deps';
import { keepAlive } from './keep-alive';
import type { CpuInfo, ProvisionResult, RunContext } from './types';

export const SSH_READY_TIMEOUT_MS = 5 * 60_000;
const AMX_FLAGS = ['amx_bf16', 'amx_tile', 'amx_int8'];

export function createProvisionActivities(deps: ActivityDeps) {
  return {
    provisionMaster: (ctx: RunContext): Promise<ProvisionResult> => keepAlive(() => provisionMaster(deps, ctx)),
  };
}

async function provisionMaster(deps: ActivityDeps, ctx: RunContext): Promise<ProvisionResult> {
  const provider = deps.providerFor(ctx.spec);
  const ref = clusterRef(ctx);
  const cluster = await provider.bootstrap(ref);
  const fingerprint = await recipeFingerprint(recipeFor(ctx.spec));
  const image = await provider.findImage(fingerprint);
  const [master] = await provider.launchNodes({ cluster: ref, role: 'master', names: ['master'], image });
  if (!master) throw new Error('the provider launched no master');
  const target = await targetFor(deps, ctx, master);
  await deps.remote.waitReady(target, SSH_READY_TIMEOUT_MS, Context.current().cancellationSignal);
  const cpu = await probeCpu(deps.remote, target);
  if (ctx.spec.provider === 'aws' && ctx.spec.aws.requireAmx && !cpu.amx) throw amxMissing(master.name, cpu.flags);
  return { cluster, master, fingerprint, imageReused: image !== undefined, cpu: { logicalCpus: cpu.logicalCpus, amx: cpu.amx } };
}

async function probeCpu(remote: RemoteShell, target: SshTarget): Promise<CpuInfo & { flags: string[] }> {
  const result = await remote.check(target, `nproc; grep -m1 '^flags' /proc/cpuinfo | cut -d: -f2`, { label: 'read CPU info' });
  const [nproc = '1', flagLine = ''] = result.stdout.split('\n');
  const flags = flagLine.trim().split(/\s+/);
  const amxFlags = AMX_FLAGS.filter((f) => flags.includes(f));
  return { logicalCpus: Number(nproc) || 1, amx: amxFlags.length === AMX_FLAGS.length, flags: amxFlags };
}
