// Connection profiles as a team writes them: Temporal's TOML file and TEMPORAL_* variables, read the same way by
// the CLI and the worker; nothing set keeps today's dev-server defaults.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { clientSettings, profileArgument } from '../src/client/connection';
import { EXIT } from '../src/client/exit-codes';
import { describeProfile, readTemporalProfile, TemporalProfileInvalid } from '../src/common/temporal-profile';
import { readWorkerConfig, WorkerConfigInvalid } from '../src/worker/config';

const CLI = resolve(__dirname, '../src/client/main.js');

async function configFile(toml: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'tf-profile-'));
  const path = join(dir, 'temporal.toml');
  await writeFile(path, toml);
  return path;
}

describe('Temporal connection profiles', () => {
  it('with nothing set: the dev server, namespace default, plaintext, no API key (as before profiles)', () => {
    const profile = readTemporalProfile({});
    assert.deepEqual(profile, { address: 'localhost:7233', namespace: 'default' });
    const worker = readWorkerConfig({});
    assert.equal(worker.temporalAddress, 'localhost:7233');
    assert.equal(worker.namespace, 'default');
    assert.equal(worker.temporal.tls, undefined);
  });

  it('a named TOML profile gives address, namespace, client cert/key, CA and server name; variables override it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tf-certs-'));
    for (const f of ['ca.pem', 'client.pem', 'client.key']) await writeFile(join(dir, f), `contents of ${f}`);
    const path = await configFile(`
[profile.default]
address = "plain:7233"

[profile.prod]
address = "temporal.example.com:7233"
namespace = "ml-prod"
[profile.prod.tls]
client_cert_path = "${join(dir, 'client.pem')}"
client_key_path = "${join(dir, 'client.key')}"
server_ca_cert_path = "${join(dir, 'ca.pem')}"
server_name = "temporal.internal"
`);
    const prod = readTemporalProfile({ TEMPORAL_CONFIG_FILE: path }, 'prod');
    assert.equal(prod.address, 'temporal.example.com:7233');
    assert.equal(prod.namespace, 'ml-prod');
    assert.ok(typeof prod.tls === 'object');
    assert.equal(prod.tls.serverNameOverride, 'temporal.internal');
    assert.equal(Buffer.from(prod.tls.serverRootCACertificate ?? []).toString(), 'contents of ca.pem');
    assert.equal(Buffer.from(prod.tls.clientCertPair?.crt ?? []).toString(), 'contents of client.pem');
    assert.equal(Buffer.from(prod.tls.clientCertPair?.key ?? []).toString(), 'contents of client.key');
    assert.equal(describeProfile(prod), 'temporal.example.com:7233 (namespace ml-prod, mTLS, profile prod)');
    // Without --profile, TEMPORAL_PROFILE picks it; without either, [profile.default]; variables win over the file.
    assert.equal(readTemporalProfile({ TEMPORAL_CONFIG_FILE: path, TEMPORAL_PROFILE: 'prod' }).namespace, 'ml-prod');
    assert.equal(readTemporalProfile({ TEMPORAL_CONFIG_FILE: path }).address, 'plain:7233');
    const overridden = readTemporalProfile({ TEMPORAL_CONFIG_FILE: path, TEMPORAL_NAMESPACE: 'ml-staging' }, 'prod');
    assert.equal(overridden.namespace, 'ml-staging');
    // The CLI's settings and the worker's config read the same profile.
    assert.equal(clientSettings({ TEMPORAL_CONFIG_FILE: path }, 'prod').namespace, 'ml-prod');
    assert.equal(
      readWorkerConfig({ TEMPORAL_CONFIG_FILE: path, TEMPORAL_PROFILE: 'prod' }).temporalAddress,
      'temporal.example.com:7233',
    );
  });

  it('an API key from TEMPORAL_API_KEY turns TLS on (Temporal Cloud) and is never in the description', () => {
    const cloud = readTemporalProfile({ TEMPORAL_ADDRESS: 'ns.acct.tmprl.cloud:7233', TEMPORAL_API_KEY: 'sekrit-key' });
    assert.equal(cloud.apiKey, 'sekrit-key');
    assert.equal(cloud.tls, true);
    assert.doesNotMatch(describeProfile(cloud), /sekrit/);
    assert.match(describeProfile(cloud), /TLS, API key/);
    const plain = readTemporalProfile({ TEMPORAL_API_KEY: 'k', TEMPORAL_TLS: 'false' });
    assert.equal(plain.tls, undefined, 'TEMPORAL_TLS=false keeps an API key on a plaintext connection');
  });

  it('a missing profile, or a certificate path that does not exist, is named; the worker exits 2 on it', async () => {
    const path = await configFile('[profile.default]\naddress = "x:1"\n');
    assert.throws(
      () => readTemporalProfile({ TEMPORAL_CONFIG_FILE: path }, 'nope'),
      (err: unknown) => {
        assert.ok(err instanceof TemporalProfileInvalid);
        assert.match(err.message, /profile "nope".*Profile 'nope' not found/);
        return true;
      },
    );
    const env = { TEMPORAL_TLS_CLIENT_CERT_PATH: '/nonexistent/client.pem', TEMPORAL_TLS_CLIENT_KEY_PATH: '/nonexistent/k' };
    assert.throws(() => readWorkerConfig(env), /no such file \/nonexistent\/client\.pem/);
    assert.throws(() => readWorkerConfig(env), WorkerConfigInvalid);
    const worker = spawnSync(process.execPath, [resolve(__dirname, '../src/worker/main.js')], {
      encoding: 'utf8',
      env: { ...process.env, ...env },
      timeout: 60_000,
    });
    assert.equal(worker.status, 2, worker.stderr);
    assert.match(worker.stderr, /^tuneforge worker: Temporal connection profile: no such file \/nonexistent\/client\.pem\n$/);
  });

  it('--profile is a global option of the CLI, before or after the command', async () => {
    assert.equal(profileArgument(['--profile', 'prod', 'list']), 'prod');
    assert.equal(profileArgument(['list', '--profile=prod']), 'prod');
    assert.equal(profileArgument(['start', '--', '--profile', 'x']), undefined);
    const path = await configFile('[profile.dead]\naddress = "127.0.0.1:1"\n');
    const cli = spawnSync(process.execPath, [CLI, 'list', '--profile', 'dead'], {
      encoding: 'utf8',
      env: { ...process.env, TEMPORAL_CONFIG_FILE: path, TEMPORAL_ADDRESS: '' },
      timeout: 60_000,
    });
    assert.equal(cli.status, EXIT.temporalUnreachable, cli.stderr);
    assert.match(cli.stderr, /cannot reach the Temporal server at 127\.0\.0\.1:1 /);
  });
});
