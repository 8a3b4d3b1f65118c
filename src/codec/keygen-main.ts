// `node lib/codec/keygen-main.js [key-id]`: prints a new `id:base64` key line for TUNEFORGE_CODEC_KEYS.
import { formatKeyEntry, generateKey, KEYS_ENV } from './keys';

function run(): void {
  const [id, ...rest] = process.argv.slice(2);
  if (rest.length > 0 || id === '--help' || id === '-h') {
    process.stderr.write('usage: keygen-main.js [key-id]\n');
    process.exitCode = 2;
    return;
  }
  process.stdout.write(`${formatKeyEntry(generateKey(id))}\n`);
  if (process.stdout.isTTY) {
    process.stderr.write(
      `Put it first in ${KEYS_ENV} (comma-separated) to make it the current key; keep older keys after it to read old runs.\n`,
    );
  }
}

try {
  run();
} catch (err) {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}
