// Finds the tuneforge checkout from compiled code, wherever tsc put it (lib/ or build-test/).
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

let cached: string | undefined;

export function packageRoot(): string {
  if (cached) return cached;
  for (let dir = __dirname; dir !== dirname(dir); dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'tuneforge') {
      cached = dir;
      return dir;
    }
  }
  throw new Error(`cannot find the tuneforge package root above ${__dirname}`);
}
