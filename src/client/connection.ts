// The CLI's Temporal connection settings: a Temporal profile (TOML and TEMPORAL_* variables) plus tuneforge's own.
import { Client, Connection, isGrpcServiceError } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import { dataConverterFor } from '../codec/encryption-codec';
import { loadCodecKeys } from '../codec/keys';
import { DEFAULT_UI_URL, TASK_QUEUE, workflowUiUrl } from '../common/names';
import { connectionOptions, readTemporalProfile, type TemporalProfile } from '../common/temporal-profile';

export interface ClientSettings extends TemporalProfile {
  taskQueue: string;
  uiUrl: string;
  /** Encrypts payloads when TUNEFORGE_CODEC_KEYS or TUNEFORGE_CODEC_KEY_FILE is set. */
  dataConverter?: DataConverter;
}

/** profileName: the global --profile option (else TEMPORAL_PROFILE, else "default" when the file has one). */
export function clientSettings(env: NodeJS.ProcessEnv = process.env, profileName?: string): ClientSettings {
  return {
    ...readTemporalProfile(env, profileName),
    taskQueue: env.TUNEFORGE_TASK_QUEUE ?? TASK_QUEUE,
    uiUrl: env.TEMPORAL_UI_URL ?? DEFAULT_UI_URL,
    dataConverter: dataConverterFor(loadCodecKeys(env)),
  };
}

export async function withClient<T>(settings: ClientSettings, use: (client: Client) => Promise<T>): Promise<T> {
  let connection: Connection;
  try {
    connection = await Connection.connect({ ...connectionOptions(settings), connectTimeout: '5 seconds' });
  } catch (err) {
    throw new TemporalUnreachable(settings, err);
  }
  try {
    return await use(new Client({ connection, namespace: settings.namespace, dataConverter: settings.dataConverter }));
  } catch (err) {
    throw isAuthFailure(err) ? new TemporalUnreachable(settings, err) : err;
  } finally {
    await connection.close();
  }
}

export function runUrl(settings: ClientSettings, workflowId: string): string {
  return workflowUiUrl(settings.uiUrl, settings.namespace, workflowId);
}

const GRPC_UNAVAILABLE = 14;
const GRPC_UNAUTHENTICATED = 16;
const GRPC_PERMISSION_DENIED = 7;

/** A server that refuses our credentials (or a TLS handshake that failed mid-call) is "cannot reach", exit 3. */
function isAuthFailure(err: unknown): boolean {
  return (
    isGrpcServiceError(err) &&
    (err.code === GRPC_UNAUTHENTICATED || err.code === GRPC_PERMISSION_DENIED || err.code === GRPC_UNAVAILABLE)
  );
}

export class TemporalUnreachable extends Error {
  override readonly name = 'TemporalUnreachable';
  constructor(profile: Pick<TemporalProfile, 'address' | 'tls' | 'apiKey'>, cause: unknown) {
    // With credentials in play the likely fix is theirs; without, a server that is not running.
    const hint =
      profile.tls !== undefined || profile.apiKey !== undefined
        ? 'check the TLS certificates, server name and API key of the connection profile (docs/team-temporal.md)'
        : 'start one with "npm run demo" or set TEMPORAL_ADDRESS';
    super(`cannot reach the Temporal server at ${profile.address} (${causeText(cause)}); ${hint}`);
  }
}

/** The cause in one line: gRPC errors carry multi-line details and TLS errors a chain; keep the first line. */
function causeText(cause: unknown): string {
  const text = cause instanceof Error ? cause.message : String(cause);
  return (text.split('\n')[0] ?? text).trim();
}

/**
 * The global --profile option, read before commander parses: settings are made once, before any command runs.
 * Commander still declares the option (help, unknown-option checks); this only finds its value early.
 */
export function profileArgument(argv: readonly string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (arg === '--') return undefined;
    if (arg === '--profile') return argv[i + 1];
    if (arg.startsWith('--profile=')) return arg.slice('--profile='.length);
  }
  return undefined;
}
