// provision-master: the cluster's shared resources and its first node, from a baked image when an
// earlier run already baked one for the same recipe fingerprint.
import { amxMissing } from '../common/errors';
import { capabilitiesOf } from '../providers/capabilities';
import { recipeFingerprint } from '../recipes/recipe-bundle';
import { recipeFor } from '../recipes/recipe';
import { LSCPU_COMMAND, parseLscpu } from '../cluster/topology';
import { activitySignal, clusterRef, runProvider, targetFor, type ActivityDeps } from './deps';
import { keepAlive } from './keep-alive';
import { SshWait } from './ssh-wait';
import type { ProvisionResult, RunContext } from './types';

export function createProvisionActivities(deps: ActivityDeps) {
  return {
    provisionMaster: (ctx: RunContext): Promise<ProvisionResult> => {
      const sshWait = new SshWait(deps, ctx, 'provision-master');
      return keepAlive(() => provisionMaster(deps, ctx, sshWait), sshWait.details);
    },
  };
}

async function provisionMaster(deps: ActivityDeps, ctx: RunContext, sshWait: SshWait): Promise<ProvisionResult> {
  const provider = runProvider(deps, ctx);
  const ref = clusterRef(ctx);
  const cluster = await provider.bootstrap(ref);
  const fingerprint = await recipeFingerprint(recipeFor(ctx.spec));
  const image = await provider.findImage(fingerprint);
  const [master] = await provider.launchNodes({ cluster: ref, role: 'master', names: ['master'], image });
  if (!master) throw new Error('the provider launched no master');
  await sshWait.untilReady([master]);
  const target = await targetFor(deps, ctx, master);
  const lscpu = await deps.remote.check(target, LSCPU_COMMAND, { label: 'read the CPU topology', signal: activitySignal() });
  const cpu = parseLscpu(lscpu.stdout);
  if (capabilitiesOf(ctx.spec).checksAmx && !cpu.amx) throw amxMissing(master.name);
  return { cluster, master, fingerprint, imageReused: image !== undefined, cpu };
}
