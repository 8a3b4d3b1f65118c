// What every AWS module needs (client, region, retry deps, the caller's abort signal) and the one way they call EC2.
import type { EC2Client } from '@aws-sdk/client-ec2';
import type { AwsSettings } from '../../run-spec/schema';
import { ec2AuthFailure, isEc2Error } from './errors';
import { API_RETRY, withRetry, type RetryDeps } from './retry';

/** One region's EC2: what listing and removing need. */
export interface AwsContext {
  ec2: EC2Client;
  region: string;
  retry: RetryDeps;
  /** Ends requests, backoff sleeps and waiters early (the activity was cancelled). */
  signal?: AbortSignal;
}

/** A call that creates or launches: it also needs the run's settings. */
export interface LaunchContext extends AwsContext {
  settings: AwsSettings;
}

export function withSignal<C extends AwsContext>(ctx: C, signal: AbortSignal | undefined): C {
  return signal === undefined ? ctx : { ...ctx, signal };
}

/** The per-request options of an SDK `send`: the abort signal, so a cancelled caller stops a request in flight. */
export function sendOptions(ctx: AwsContext): { abortSignal?: AbortSignal } {
  return ctx.signal === undefined ? {} : { abortSignal: ctx.signal };
}

/**
 * Sends one EC2 call with the API retry policy. Auth errors become AuthFailed; every other error
 * is rethrown for the caller to classify (capacity, duplicate, not-found...).
 */
export async function call<T>(ctx: AwsContext, operation: string, send: () => Promise<T>): Promise<T> {
  try {
    return await withRetry(send, API_RETRY, ctx.retry, ctx.signal);
  } catch (error) {
    if (isEc2Error(error, 'auth')) throw ec2AuthFailure(error, ctx.region, operation);
    throw error;
  }
}

/** Like `call`, but an error of the "already gone" kind ends the call quietly. */
export async function callIgnoringMissing(ctx: AwsContext, operation: string, send: () => Promise<unknown>): Promise<void> {
  try {
    await call(ctx, operation, send);
  } catch (error) {
    if (!isEc2Error(error, 'not-found')) throw error;
  }
}
