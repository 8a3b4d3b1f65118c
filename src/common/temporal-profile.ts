// Where and how to reach Temporal: Temporal's own TOML profiles and TEMPORAL_* variables (@temporalio/envconfig),
// shared by the CLI, the worker and the codec server so that a team's mTLS or API-key setup is written once.
import { loadClientConfigProfile, toClientOptions, type ClientConfigProfile } from '@temporalio/envconfig';
import type { TLSConfig } from '@temporalio/client';
import { DEFAULT_NAMESPACE, DEFAULT_TEMPORAL_ADDRESS } from './names';

/** What a connection needs; plain data (no secrets are ever logged from it: see describeProfile). */
export interface TemporalProfile {
  address: string;
  namespace: string;
  /** false or undefined: plaintext, as the dev server speaks. */
  tls?: TLSConfig | boolean;
  apiKey?: string;
  metadata?: Record<string, string>;
  /** The profile's name when one was asked for (--profile or TEMPORAL_PROFILE). */
  profileName?: string;
}

export class TemporalProfileInvalid extends Error {
  override readonly name = 'TemporalProfileInvalid';
}

/**
 * Reads the profile: the TOML file at TEMPORAL_CONFIG_FILE (or ~/.config/temporalio/temporal.toml), the named
 * profile (or TEMPORAL_PROFILE, or "default"), then TEMPORAL_ADDRESS / TEMPORAL_NAMESPACE / TEMPORAL_API_KEY /
 * TEMPORAL_TLS* over it. With nothing set: the dev server's address and namespace, plaintext.
 */
export function readTemporalProfile(env: NodeJS.ProcessEnv = process.env, profileName?: string): TemporalProfile {
  const overrideEnvVars = definedOnly(env);
  const name = profileName ?? overrideEnvVars.TEMPORAL_PROFILE;
  let profile: ClientConfigProfile;
  let options: ReturnType<typeof toClientOptions>;
  try {
    profile = loadClientConfigProfile({ profile: name, overrideEnvVars });
    // Reads the certificate and key files: a path that does not exist is named here, not at connect time.
    options = toClientOptions(profile);
  } catch (err) {
    throw new TemporalProfileInvalid(`Temporal connection profile${name ? ` "${name}"` : ''}: ${reason(err)}`);
  }
  const { address, tls, apiKey } = options.connectionOptions;
  const metadata = profile.grpcMeta;
  return {
    address: address ?? DEFAULT_TEMPORAL_ADDRESS,
    namespace: options.namespace ?? DEFAULT_NAMESPACE,
    ...(tls !== undefined && tls !== null && tls !== false ? { tls } : {}),
    ...(typeof apiKey === 'string' && apiKey !== '' ? { apiKey } : {}),
    ...(metadata && Object.keys(metadata).length > 0 ? { metadata } : {}),
    ...(name ? { profileName: name } : {}),
  };
}

/** Connection options for Connection.connect and NativeConnection.connect (both take these four). */
export function connectionOptions(profile: TemporalProfile): {
  address: string;
  tls?: TLSConfig | boolean;
  apiKey?: string;
  metadata?: Record<string, string>;
} {
  return {
    address: profile.address,
    ...(profile.tls !== undefined ? { tls: profile.tls } : {}),
    ...(profile.apiKey !== undefined ? { apiKey: profile.apiKey } : {}),
    ...(profile.metadata !== undefined ? { metadata: profile.metadata } : {}),
  };
}

/** One line for logs and errors: address, namespace, and whether TLS / an API key are in use (never their values). */
export function describeProfile(profile: TemporalProfile): string {
  const tls = profile.tls === undefined ? 'plaintext' : hasClientCert(profile.tls) ? 'mTLS' : 'TLS';
  return `${profile.address} (namespace ${profile.namespace}, ${tls}${profile.apiKey ? ', API key' : ''}${
    profile.profileName ? `, profile ${profile.profileName}` : ''
  })`;
}

function hasClientCert(tls: TLSConfig | boolean): boolean {
  return typeof tls === 'object' && tls.clientCertPair !== undefined;
}

/** Empty counts as unset (compose passes `VAR=` for unset ones): an empty TEMPORAL_TLS would otherwise turn TLS off. */
function definedOnly(env: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined && e[1] !== ''));
}

function reason(err: unknown): string {
  if (err instanceof Error && 'code' in err && err.code === 'ENOENT' && 'path' in err) return `no such file ${String(err.path)}`;
  return err instanceof Error ? err.message : String(err);
}
