// What every AWS module needs (client, settings, retry deps) and the one way they call EC2.
import type { EC2Client } from '@aws-sdk/client-ec2';
import type { AwsSettings } from '../../spec/schema';
import { ec2AuthFailure, isEc2Error } from './errors';
import { API_RETRY, withRetry, type RetryDeps } from './retry';

export interface AwsContext {
  ec2: EC2Client;
  settings: AwsSettings;
  retry: RetryDeps;
}

/**
 * Sends one EC2 call with the API retry policy. Auth errors become AuthFailed; every other error
 * is rethrown for the caller to classify (capacity, duplicate, not-found...).
 */
export async function call<T>(ctx: AwsContext, operation: string, send: () => Promise<T>): Promise<T> {
  try {
    return await withRetry(send, API_RETRY, ctx.retry);
  } catch (error) {
    if (isEc2Error(error, 'auth')) throw ec2AuthFailure(error, ctx.settings.region, operation);
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
