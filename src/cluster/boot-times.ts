// How long a node may take to boot, by instance family: the one source for every per-node wait (the
// provider's wait for `running`, and SSH readiness at master launch, worker launch and replacement).
// Pure: no Node APIs, so any layer may import it.
import { LOCAL_INSTANCE_TYPE } from '../providers/local/capabilities';

export interface BootWait {
  /** From launch until the instance is `running`. */
  runningMs: number;
  /** From `running` until SSH answers with the pinned host key. */
  sshReadyMs: number;
  /** What the run tells users while it waits, e.g. "metal boots take up to 20 min". */
  expectation: string;
}

const MINUTE_MS = 60_000;

/**
 * AWS documents that a bare-metal instance can take about 20 minutes from `running` until it answers
 * on the network (it boots its own firmware and hardware, no hypervisor). 30 minutes leaves room for
 * cloud-init to start sshd on a slow first boot; launching another one would take as long again.
 */
const METAL: BootWait = { runningMs: 20 * MINUTE_MS, sshReadyMs: 30 * MINUTE_MS, expectation: 'metal boots take up to 20 min' };
/** Nitro virtual instances answer SSH within a minute or two of `running`. */
const VIRTUAL: BootWait = { runningMs: 10 * MINUTE_MS, sshReadyMs: 5 * MINUTE_MS, expectation: 'boots take 1-2 min' };
/** A local node's sshd listens within a second, unless the local provider is set to model a slow boot. */
const LOCAL: BootWait = { runningMs: MINUTE_MS, sshReadyMs: 5 * MINUTE_MS, expectation: 'local nodes start within seconds' };

/** Every family's wait, by family: what activity timeouts are checked against (test/activity-timeouts.test.ts). */
export const BOOT_WAITS: Readonly<Record<'metal' | 'virtual' | 'local', BootWait>> = {
  metal: METAL,
  virtual: VIRTUAL,
  local: LOCAL,
};

/** EC2 bare metal: `c5.metal`, `m7i.metal-24xl`, `r7iz.metal-16xl`. */
export function isBareMetal(instanceType: string): boolean {
  return /\.metal(-|$)/.test(instanceType);
}

export interface BootingNode {
  instanceType: string;
  /** A boot delay the provider states for the node (the local provider's slow-boot knob). */
  bootDelayMs?: number;
}

export function bootWaitFor(node: BootingNode): BootWait {
  const delay = node.bootDelayMs ?? 0;
  if (node.instanceType === LOCAL_INSTANCE_TYPE) {
    if (delay <= 0) return LOCAL;
    return { ...LOCAL, sshReadyMs: LOCAL.sshReadyMs + delay, expectation: `set to boot in ${formatWait(delay)}` };
  }
  const family = isBareMetal(node.instanceType) ? METAL : VIRTUAL;
  return delay > 0 ? { ...family, sshReadyMs: family.sshReadyMs + delay } : family;
}

/** The longest of the nodes' waits (a launch that fell over to another type may mix families). */
export function longestBootWait(nodes: readonly BootingNode[]): BootWait {
  const waits = nodes.map(bootWaitFor);
  const slowest = waits.reduce<BootWait | undefined>(
    (a, b) => (a === undefined || b.sshReadyMs > a.sshReadyMs ? b : a),
    undefined,
  );
  return {
    runningMs: Math.max(0, ...waits.map((w) => w.runningMs)),
    sshReadyMs: slowest?.sshReadyMs ?? 0,
    expectation: slowest?.expectation ?? '',
  };
}

/** "12 s" under a minute, else whole minutes ("7 min"). */
export function formatWait(ms: number): string {
  return ms < MINUTE_MS ? `${Math.round(ms / 1000)} s` : `${Math.floor(ms / MINUTE_MS)} min`;
}
