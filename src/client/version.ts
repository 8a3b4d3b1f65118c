// `tuneforge --version` and `tuneforge version --json`: what is installed, read from files next to the code
// (no git: an image or a copied checkout has no repository).
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../common/package-root';

export interface VersionInfo {
  version: string;
  /** When this CLI was compiled: the compiled entrypoint's modification time. */
  builtAt: string | null;
  node: string;
  platform: string;
  temporalSdk: string | null;
}

function packageVersion(manifest: string): string | null {
  try {
    const parsed = JSON.parse(readFileSync(manifest, 'utf8')) as { version?: unknown };
    return typeof parsed.version === 'string' ? parsed.version : null;
  } catch {
    return null;
  }
}

export function versionInfo(entry: string = join(__dirname, 'main.js')): VersionInfo {
  const root = packageRoot();
  let builtAt: string | null = null;
  try {
    builtAt = statSync(entry).mtime.toISOString();
  } catch {
    // Run from sources (ts-node or a test): there is no compiled entrypoint to date.
  }
  return {
    version: packageVersion(join(root, 'package.json')) ?? '0.0.0',
    builtAt,
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    temporalSdk: packageVersion(join(root, 'node_modules', '@temporalio', 'client', 'package.json')),
  };
}

export function formatVersion(info: VersionInfo): string {
  const details = [
    info.builtAt === null ? null : `built ${info.builtAt}`,
    `node ${info.node} ${info.platform}`,
    info.temporalSdk === null ? null : `Temporal SDK ${info.temporalSdk}`,
  ].filter((part) => part !== null);
  return `tuneforge ${info.version} (${details.join('; ')})`;
}
