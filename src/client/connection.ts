// The CLI's Temporal connection settings, from the environment.
import { Client, Connection } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import { dataConverterFor } from '../codec/encryption-codec';
import { loadCodecKeys } from '../codec/keys';
import { DEFAULT_NAMESPACE, DEFAULT_TEMPORAL_ADDRESS, DEFAULT_UI_URL, TASK_QUEUE, workflowUiUrl } from '../common/names';

export interface ClientSettings {
  address: string;
  namespace: string;
  taskQueue: string;
  uiUrl: string;
  /** Encrypts payloads when TUNEFORGE_CODEC_KEYS or TUNEFORGE_CODEC_KEY_FILE is set. */
  dataConverter?: DataConverter;
}

export function clientSettings(env: NodeJS.ProcessEnv = process.env): ClientSettings {
  return {
    address: env.TEMPORAL_ADDRESS ?? DEFAULT_TEMPORAL_ADDRESS,
    namespace: env.TEMPORAL_NAMESPACE ?? DEFAULT_NAMESPACE,
    taskQueue: env.TUNEFORGE_TASK_QUEUE ?? TASK_QUEUE,
    uiUrl: env.TEMPORAL_UI_URL ?? DEFAULT_UI_URL,
    dataConverter: dataConverterFor(loadCodecKeys(env)),
  };
}

export async function withClient<T>(settings: ClientSettings, use: (client: Client) => Promise<T>): Promise<T> {
  let connection: Connection;
  try {
    connection = await Connection.connect({ address: settings.address, connectTimeout: '5 seconds' });
  } catch (err) {
    throw new TemporalUnreachable(settings.address, err);
  }
  try {
    return await use(new Client({ connection, namespace: settings.namespace, dataConverter: settings.dataConverter }));
  } finally {
    await connection.close();
  }
}

export function runUrl(settings: ClientSettings, workflowId: string): string {
  return workflowUiUrl(settings.uiUrl, settings.namespace, workflowId);
}

export class TemporalUnreachable extends Error {
  override readonly name = 'TemporalUnreachable';
  constructor(address: string, cause: unknown) {
    super(
      `cannot reach the Temporal server at ${address} (${cause instanceof Error ? cause.message : String(cause)}); start one with "npm run demo" or set TEMPORAL_ADDRESS`,
    );
  }
}
