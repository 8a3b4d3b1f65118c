import assert from 'node:assert/strict';
import { request, type IncomingHttpHeaders } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { defaultPayloadConverter, type Payload, type PayloadCodec } from '@temporalio/common';
import { startCodecServer, type RunningCodecServer } from '../src/codec/codec-server';
import { DEFAULT_CODEC_HOST, DEFAULT_CODEC_PORT, readCodecServerConfig } from '../src/codec/codec-server-config';
import { EncryptionCodec } from '../src/codec/encryption-codec';
import { formatKeyEntry, generateKey, parseKeyList } from '../src/codec/keys';
import { payloadsFromJson, payloadsToJson, type JsonPayloads } from '../src/codec/payload-json';

const UI_ORIGIN = 'http://localhost:8233';
const MAX_BODY_BYTES = 4096;

interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: unknown;
}

function call(url: string, options: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: options.method ?? 'POST', headers: options.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text ? JSON.parse(text) : undefined });
      });
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

const json = { 'content-type': 'application/json' };
const post = (url: string, body: unknown, headers: Record<string, string> = {}) =>
  call(url, { headers: { ...json, ...headers }, body: JSON.stringify(body) });
const errorOf = (reply: Reply) => (reply.body as { error?: string }).error ?? '';

describe('codec server over HTTP', () => {
  const keys = parseKeyList(formatKeyEntry(generateKey('k1')));
  const errors: unknown[] = [];
  let server: RunningCodecServer;
  let failing: RunningCodecServer;

  before(async () => {
    server = await startCodecServer({
      codec: new EncryptionCodec(keys),
      allowedOrigins: [UI_ORIGIN],
      maxBodyBytes: MAX_BODY_BYTES,
      host: '127.0.0.1',
      port: 0,
    });
    const broken: PayloadCodec = { encode: async () => Promise.reject(new Error('boom')), decode: async (p: Payload[]) => p };
    failing = await startCodecServer({
      codec: broken,
      allowedOrigins: [],
      host: '127.0.0.1',
      port: 0,
      onError: (err) => errors.push(err),
    });
  });
  after(async () => {
    await server.close();
    await failing.close();
  });

  it('encodes and decodes the proto JSON form, with CORS for the UI origin', async () => {
    const plain = payloadsToJson([defaultPayloadConverter.toPayload({ token: 'hunter2-http' })]);
    const encoded = await post(`${server.url}/encode`, plain, { origin: UI_ORIGIN, 'x-namespace': 'default' });
    assert.equal(encoded.status, 200);
    assert.equal(encoded.headers['access-control-allow-origin'], UI_ORIGIN);
    assert.equal(encoded.headers['content-type'], 'application/json');
    const body = encoded.body as JsonPayloads;
    assert.equal(Buffer.from(body.payloads[0]?.metadata?.encoding ?? '', 'base64').toString(), 'binary/encrypted');
    assert.ok(!JSON.stringify(body).includes(Buffer.from('hunter2').toString('base64').slice(0, 8)));

    const decoded = await post(`${server.url}/decode`, body, { origin: UI_ORIGIN });
    assert.equal(decoded.status, 200);
    assert.deepEqual(decoded.body, plain);
    const [payload] = payloadsFromJson(decoded.body);
    assert.deepEqual(payload && defaultPayloadConverter.fromPayload(payload), { token: 'hunter2-http' });
  });

  it('serves /{namespace}/decode (the CLI template) and passes plain payloads through', async () => {
    const plain = payloadsToJson([defaultPayloadConverter.toPayload('hi')]);
    const reply = await post(`${server.url}/default/decode?x=1`, plain);
    assert.equal(reply.status, 200);
    assert.deepEqual(reply.body, plain);
    assert.equal(reply.headers['access-control-allow-origin'], undefined);
  });

  it('answers the UI preflight', async () => {
    const reply = await call(`${server.url}/decode`, {
      method: 'OPTIONS',
      headers: {
        origin: UI_ORIGIN,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type,x-namespace',
        'access-control-request-private-network': 'true',
      },
    });
    assert.equal(reply.status, 204);
    assert.equal(reply.headers['access-control-allow-origin'], UI_ORIGIN);
    assert.equal(reply.headers['access-control-allow-credentials'], 'true');
    assert.match(String(reply.headers['access-control-allow-methods']), /POST/);
    const allowed = String(reply.headers['access-control-allow-headers'])
      .split(',')
      .map((h) => h.trim());
    for (const header of ['content-type', 'x-namespace', 'authorization']) assert.ok(allowed.includes(header), header);
    assert.equal(reply.headers['access-control-allow-private-network'], 'true');
  });

  it('refuses other browser origins, preflight and POST alike', async () => {
    const evil = 'http://evil.example';
    const preflight = await call(`${server.url}/decode`, {
      method: 'OPTIONS',
      headers: { origin: evil, 'access-control-request-method': 'POST' },
    });
    assert.equal(preflight.status, 403);
    assert.equal(preflight.headers['access-control-allow-origin'], undefined);
    const reply = await post(`${server.url}/decode`, { payloads: [] }, { origin: evil });
    assert.equal(reply.status, 403);
    assert.match(errorOf(reply), /origin http:\/\/evil\.example is not allowed/);
  });

  it('limits the body size', async () => {
    const big = { payloads: [{ data: Buffer.alloc(MAX_BODY_BYTES).toString('base64') }] };
    const reply = await post(`${server.url}/decode`, big, { origin: UI_ORIGIN });
    assert.equal(reply.status, 413);
    assert.match(errorOf(reply), /larger than 4096 bytes/);
    assert.equal(reply.headers['access-control-allow-origin'], UI_ORIGIN, 'the UI can read the error');
  });

  it('answers clear JSON errors', async () => {
    const cases: Array<[Promise<Reply>, number, RegExp]> = [
      [call(`${server.url}/decode`, { headers: json, body: '{nope' }), 400, /body is not JSON/],
      [post(`${server.url}/decode`, { payload: [] }), 400, /body must be \{"payloads": \[\.\.\.\]\}/],
      [
        post(`${server.url}/decode`, { payloads: [{ metadata: { encoding: 'not base64!' } }] }),
        400,
        /payloads\[0\]\.metadata\.encoding must be a base64 string/,
      ],
      [call(`${server.url}/decode`, { headers: { 'content-type': 'text/plain' }, body: '{}' }), 415, /application\/json/],
      [call(`${server.url}/decode`, { method: 'GET' }), 405, /use POST/],
      [post(`${server.url}/metrics`, {}), 404, /POST \/encode or POST \/decode/],
      [post(`${server.url}//`, {}), 404, /no such endpoint/],
    ];
    for (const [pending, status, message] of cases) {
      const reply = await pending;
      assert.equal(reply.status, status, message.source);
      assert.match(errorOf(reply), message);
    }
  });

  it('answers 422 naming the key id it does not have', async () => {
    const other = new EncryptionCodec(parseKeyList(formatKeyEntry(generateKey('k9'))));
    const foreign = payloadsToJson(await other.encode([defaultPayloadConverter.toPayload('x')]));
    const reply = await post(`${server.url}/decode`, foreign);
    assert.equal(reply.status, 422);
    assert.match(errorOf(reply), /key id "k9"/);
  });

  it('hides unexpected errors behind a 500 and reports them', async () => {
    const reply = await post(`${failing.url}/encode`, { payloads: [] });
    assert.equal(reply.status, 500);
    assert.match(errorOf(reply), /internal error/);
    assert.equal(errors.length, 1);
  });
});

describe('codec server settings', () => {
  it('defaults to loopback, port 8234 and the dev UI origin', () => {
    const config = readCodecServerConfig({});
    assert.equal(config.host, DEFAULT_CODEC_HOST);
    assert.equal(config.host, '127.0.0.1');
    assert.equal(config.port, DEFAULT_CODEC_PORT);
    assert.equal(config.port, 8234);
    assert.deepEqual(config.allowedOrigins, ['http://localhost:8233', 'http://127.0.0.1:8233']);
  });

  it('follows TEMPORAL_UI_URL for the default origin', () => {
    assert.deepEqual(readCodecServerConfig({ TEMPORAL_UI_URL: 'http://localhost:9233/' }).allowedOrigins, [
      'http://localhost:9233',
      'http://127.0.0.1:9233',
    ]);
    assert.deepEqual(readCodecServerConfig({ TEMPORAL_UI_URL: 'https://temporal.example' }).allowedOrigins, [
      'https://temporal.example',
    ]);
  });

  it('reads the port and origins and names a bad value', () => {
    const config = readCodecServerConfig({
      TUNEFORGE_CODEC_PORT: '9000',
      TUNEFORGE_CODEC_ORIGINS: 'https://ui.example:8443, http://localhost:8080',
    });
    assert.equal(config.port, 9000);
    assert.deepEqual(config.allowedOrigins, ['https://ui.example:8443', 'http://localhost:8080']);
    assert.throws(() => readCodecServerConfig({ TUNEFORGE_CODEC_PORT: 'eighty' }), /TUNEFORGE_CODEC_PORT must be an integer/);
    assert.throws(() => readCodecServerConfig({ TUNEFORGE_CODEC_ORIGINS: 'http://localhost:8233/' }), /must be an origin/);
    assert.throws(() => readCodecServerConfig({ TUNEFORGE_CODEC_ORIGINS: 'localhost' }), /not a URL/);
  });
});
