// Codec server entrypoint: load keys and settings, serve /encode and /decode until SIGINT/SIGTERM.
import { EncryptionCodec } from './encryption-codec';
import { describeKeys, KEY_FILE_ENV, KEYS_ENV, loadCodecKeys } from './keys';
import { readCodecServerConfig } from './codec-server-config';
import { startCodecServer } from './codec-server';

async function run(): Promise<void> {
  const keys = loadCodecKeys();
  if (!keys) throw new Error(`the codec server needs keys: set ${KEYS_ENV} or ${KEY_FILE_ENV} (see docs/encryption.md)`);
  const config = readCodecServerConfig();
  const server = await startCodecServer({
    ...config,
    codec: new EncryptionCodec(keys),
    onError: (err) => console.error('codec server error:', err instanceof Error ? `${err.name}: ${err.message}` : String(err)),
  });
  console.log(
    `tuneforge codec server at ${server.url} (keys: ${describeKeys(keys)}; UI origins: ${config.allowedOrigins.join(', ')})`,
  );
  console.log(`point the Web UI at it: temporal server start-dev --ui-codec-endpoint ${server.url}`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await server.close();
}

run().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
