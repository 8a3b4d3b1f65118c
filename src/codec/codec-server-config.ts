// The codec server's settings, read once from the environment.
import { DEFAULT_UI_URL } from '../common/names';
import { DEFAULT_MAX_BODY_BYTES } from './codec-server';

export const DEFAULT_CODEC_PORT = 8234;
export const DEFAULT_CODEC_HOST = '127.0.0.1';

export interface CodecServerConfig {
  host: string;
  port: number;
  allowedOrigins: string[];
  maxBodyBytes: number;
}

export function readCodecServerConfig(env: NodeJS.ProcessEnv = process.env): CodecServerConfig {
  return {
    host: env.TUNEFORGE_CODEC_HOST?.trim() || DEFAULT_CODEC_HOST,
    port: intSetting(env, 'TUNEFORGE_CODEC_PORT', DEFAULT_CODEC_PORT, 0, 65_535),
    allowedOrigins: originsSetting(env.TUNEFORGE_CODEC_ORIGINS, env.TEMPORAL_UI_URL?.trim() || DEFAULT_UI_URL),
    maxBodyBytes: intSetting(env, 'TUNEFORGE_CODEC_MAX_BODY_BYTES', DEFAULT_MAX_BODY_BYTES, 1024, 256 * 1024 * 1024),
  };
}

function intSetting(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max)
    throw new Error(`${name} must be an integer from ${min} to ${max}, got "${raw}"`);
  return value;
}

/** Comma-separated origins such as http://localhost:8233; by default the Web UI's (TEMPORAL_UI_URL), by both loopback names. */
function originsSetting(raw: string | undefined, uiUrl: string): string[] {
  const listed =
    raw
      ?.split(',')
      .map((o) => o.trim())
      .filter(Boolean) ?? [];
  if (listed.length === 0) return uiOrigins(uiUrl);
  for (const origin of listed) {
    let parsed: URL;
    try {
      parsed = new URL(origin);
    } catch {
      throw new Error(`TUNEFORGE_CODEC_ORIGINS: "${origin}" is not a URL such as http://localhost:8233`);
    }
    if (parsed.origin !== origin)
      throw new Error(
        `TUNEFORGE_CODEC_ORIGINS: "${origin}" must be an origin (scheme://host:port, no path), e.g. ${parsed.origin}`,
      );
  }
  return listed;
}

function uiOrigins(uiUrl: string): string[] {
  let ui: URL;
  try {
    ui = new URL(uiUrl);
  } catch {
    throw new Error(`TEMPORAL_UI_URL: "${uiUrl}" is not a URL such as http://localhost:8233`);
  }
  const twin = new URL(ui.origin);
  if (twin.hostname === 'localhost') twin.hostname = '127.0.0.1';
  else if (twin.hostname === '127.0.0.1') twin.hostname = 'localhost';
  return [...new Set([ui.origin, twin.origin])];
}
