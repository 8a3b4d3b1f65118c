// Heartbeats while a piece of work is pending, so a dead worker is noticed within the heartbeat timeout.
import { Context } from '@temporalio/activity';

const HEARTBEAT_EVERY_MS = 5000;

export async function keepAlive<T>(work: () => Promise<T>, details?: () => unknown): Promise<T> {
  const ctx = Context.current();
  const timer = setInterval(() => ctx.heartbeat(details?.()), HEARTBEAT_EVERY_MS);
  ctx.heartbeat(details?.());
  try {
    return await work();
  } finally {
    clearInterval(timer);
  }
}
