import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  ApplicationFailure,
  DefaultFailureConverter,
  defaultPayloadConverter,
  METADATA_ENCODING_KEY,
  type LogLevel,
  type LogMetadata,
  type Payload,
} from '@temporalio/common';
import {
  dataConverterFor,
  EncryptionCodec,
  ENCRYPTED_ENCODING,
  FAILURE_CONVERTER_PATH,
  isEncrypted,
  KEY_ID_METADATA,
} from '../src/codec/encryption-codec';
import { CodecKeyConfigError, PayloadDecryptError } from '../src/codec/errors';
import { failureConverter } from '../src/codec/failure-converter';
import { describeKeys, formatKeyEntry, generateKey, loadCodecKeys, parseKeyList, type CodecKeys } from '../src/codec/keys';
import { REDACTED, redactingLogger } from '../src/codec/redacting-logger';

const text = (bytes: Uint8Array | null | undefined) => Buffer.from(bytes ?? new Uint8Array()).toString('utf8');
const keyB64 = () => generateKey('x').key.toString('base64');
const toPayload = (value: unknown): Payload => defaultPayloadConverter.toPayload(value);
const fromPayload = (payload: Payload): unknown => defaultPayloadConverter.fromPayload(payload);

function keysOf(...ids: string[]): CodecKeys {
  return parseKeyList(ids.map((id) => formatKeyEntry(generateKey(id))).join(','));
}

function expectKeyError(fn: () => unknown, source: string, problem: RegExp): void {
  assert.throws(
    fn,
    (err: unknown) => err instanceof CodecKeyConfigError && err.source.startsWith(source) && problem.test(err.message),
  );
}

describe('codec keys', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tuneforge-keys-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('is off when neither variable is set (blank counts as unset)', () => {
    assert.equal(loadCodecKeys({}), undefined);
    assert.equal(loadCodecKeys({ TUNEFORGE_CODEC_KEYS: '  ' }), undefined);
  });

  it('reads a comma-separated list whose first key is current', () => {
    const a = keyB64();
    const keys = loadCodecKeys({ TUNEFORGE_CODEC_KEYS: `new:${a}, old:${keyB64()}` });
    assert.equal(keys?.currentKeyId, 'new');
    assert.deepEqual([...(keys?.keys.keys() ?? [])], ['new', 'old']);
    assert.equal(keys?.keys.get('new')?.toString('base64'), a);
    assert.equal(keys && describeKeys(keys), 'new (current), old');
  });

  it('names the variable and the problem, never the key text', () => {
    const secretish = 'c2VjcmV0LWJ1dC10b28tc2hvcnQ=';
    const cases: Array<[string, RegExp]> = [
      [`k1:${secretish}`, /key "k1" is 20 bytes; AES-256 needs 32/],
      ['k1:not base64!', /key "k1" is not valid base64/],
      [`k1:${keyB64()},k1:${keyB64()}`, /duplicate key id "k1"/],
      [secretish, /entry 1 is not keyId:base64-key/],
      [`bad id:${keyB64()}`, /key id "bad id" must be/],
    ];
    for (const [value, problem] of cases) {
      expectKeyError(() => loadCodecKeys({ TUNEFORGE_CODEC_KEYS: value }), 'TUNEFORGE_CODEC_KEYS', problem);
      assert.throws(
        () => loadCodecKeys({ TUNEFORGE_CODEC_KEYS: value }),
        (err: unknown) => err instanceof Error && !err.message.includes(secretish),
      );
    }
  });

  it('refuses both variables at once', () => {
    expectKeyError(
      () => loadCodecKeys({ TUNEFORGE_CODEC_KEYS: `a:${keyB64()}`, TUNEFORGE_CODEC_KEY_FILE: '/nope' }),
      'TUNEFORGE_CODEC_KEYS',
      /only one of/,
    );
  });

  it('reads an owner-only key file and checks its current id', () => {
    const path = join(dir, 'keys.json');
    writeFileSync(path, JSON.stringify({ current: 'b', keys: { a: keyB64(), b: keyB64() } }), { mode: 0o600 });
    const keys = loadCodecKeys({ TUNEFORGE_CODEC_KEY_FILE: path });
    assert.equal(keys?.currentKeyId, 'b');
    assert.equal(keys?.keys.size, 2);

    writeFileSync(path, JSON.stringify({ current: 'zz', keys: { a: keyB64() } }));
    expectKeyError(
      () => loadCodecKeys({ TUNEFORGE_CODEC_KEY_FILE: path }),
      'TUNEFORGE_CODEC_KEY_FILE',
      /current key id "zz" is not among the keys/,
    );
    writeFileSync(path, '{"current": "a", "keys": {"a": "c2Vj');
    expectKeyError(() => loadCodecKeys({ TUNEFORGE_CODEC_KEY_FILE: path }), 'TUNEFORGE_CODEC_KEY_FILE', /is not valid JSON$/);
    writeFileSync(path, JSON.stringify({ keys: [] }));
    expectKeyError(() => loadCodecKeys({ TUNEFORGE_CODEC_KEY_FILE: path }), 'TUNEFORGE_CODEC_KEY_FILE', /must be \{"current"/);
    expectKeyError(
      () => loadCodecKeys({ TUNEFORGE_CODEC_KEY_FILE: join(dir, 'missing.json') }),
      'TUNEFORGE_CODEC_KEY_FILE',
      /cannot read/,
    );
  });

  it('refuses a key file that group or others can read', { skip: process.platform === 'win32' }, () => {
    const path = join(dir, 'open.json');
    writeFileSync(path, JSON.stringify({ current: 'a', keys: { a: keyB64() } }));
    chmodSync(path, 0o644);
    expectKeyError(
      () => loadCodecKeys({ TUNEFORGE_CODEC_KEY_FILE: path }),
      'TUNEFORGE_CODEC_KEY_FILE',
      /readable by group or others \(mode 0644\); run: chmod 600/,
    );
  });

  it('generates 32-byte keys in the id:base64 form the list reads', () => {
    const key = generateKey();
    assert.match(key.id, /^k\d{8}-[0-9a-f]{4}$/);
    assert.equal(key.key.length, 32);
    assert.equal(parseKeyList(formatKeyEntry(key)).keys.get(key.id)?.equals(key.key), true);
  });
});

describe('encryption codec', () => {
  const value = { spec: { training: { extraArgs: { token: 'hunter2-unit' } } } };

  it('round-trips and hides the plaintext, metadata included', async () => {
    const codec = new EncryptionCodec(keysOf('k1'));
    const [encoded] = await codec.encode([toPayload(value)]);
    assert.ok(encoded);
    assert.equal(text(encoded.metadata?.[METADATA_ENCODING_KEY]), ENCRYPTED_ENCODING);
    assert.equal(text(encoded.metadata?.[KEY_ID_METADATA]), 'k1');
    assert.ok(!text(encoded.data).includes('hunter2') && !text(encoded.data).includes('json/plain'));
    const [decoded] = await codec.decode([encoded]);
    assert.ok(decoded);
    assert.deepEqual(fromPayload(decoded), value);
    assert.equal(text(decoded.metadata?.[METADATA_ENCODING_KEY]), 'json/plain');
  });

  it('uses a fresh IV per payload', async () => {
    const codec = new EncryptionCodec(keysOf('k1'));
    const [a, b] = await codec.encode([toPayload(value), toPayload(value)]);
    assert.notDeepEqual(a?.data, b?.data);
  });

  it('refuses tampered data', async () => {
    const codec = new EncryptionCodec(keysOf('k1'));
    const [encoded] = await codec.encode([toPayload(value)]);
    assert.ok(encoded?.data);
    const data = Buffer.from(encoded.data);
    data[20] = (data[20] ?? 0) ^ 1;
    await assert.rejects(
      codec.decode([{ ...encoded, data }]),
      (err: unknown) => err instanceof PayloadDecryptError && err.problem === 'authentication-failed' && err.keyId === 'k1',
    );
    await assert.rejects(
      codec.decode([{ ...encoded, data: data.subarray(0, 10) }]),
      (err: unknown) => err instanceof PayloadDecryptError && err.problem === 'too-short',
    );
  });

  it('rotates: old payloads still decrypt, new ones use the new current key', async () => {
    const oldKeys = keysOf('k1');
    const [old] = await new EncryptionCodec(oldKeys).encode([toPayload(value)]);
    assert.ok(old);
    const fresh = generateKey('k2');
    const rotated = parseKeyList([formatKeyEntry(fresh), `k1:${oldKeys.keys.get('k1')?.toString('base64')}`].join(','));
    const codec = new EncryptionCodec(rotated);
    const [decodedOld] = await codec.decode([old]);
    assert.ok(decodedOld);
    assert.deepEqual(fromPayload(decodedOld), value);
    const [fresher] = await codec.encode([toPayload(value)]);
    assert.equal(text(fresher?.metadata?.[KEY_ID_METADATA]), 'k2');
    // A process that only has the old key cannot read the new payloads, and says which key it lacks.
    await assert.rejects(
      new EncryptionCodec(oldKeys).decode(fresher ? [fresher] : []),
      (err: unknown) =>
        err instanceof PayloadDecryptError && err.problem === 'unknown-key-id' && err.keyId === 'k2' && /"k2"/.test(err.message),
    );
  });

  it('passes plain payloads through, so history written before encryption stays readable', async () => {
    const plain = toPayload('hello');
    const [decoded] = await new EncryptionCodec(keysOf('k1')).decode([plain]);
    assert.equal(decoded, plain);
    assert.equal(isEncrypted(plain), false);
  });

  it('refuses an encrypted payload without a key id', async () => {
    const [encoded] = await new EncryptionCodec(keysOf('k1')).encode([toPayload(1)]);
    const metadata = { [METADATA_ENCODING_KEY]: encoded?.metadata?.[METADATA_ENCODING_KEY] ?? new Uint8Array() };
    await assert.rejects(
      new EncryptionCodec(keysOf('k1')).decode([{ metadata, data: encoded?.data ?? null }]),
      (err: unknown) => err instanceof PayloadDecryptError && err.problem === 'missing-key-id',
    );
  });
});

describe('data converter', () => {
  it('is undefined without keys and encrypts payloads and failure text with them', () => {
    assert.equal(dataConverterFor(undefined), undefined);
    const converter = dataConverterFor(keysOf('k1'));
    assert.ok(converter?.payloadCodecs?.[0] instanceof EncryptionCodec);
    assert.equal(converter?.failureConverterPath, FAILURE_CONVERTER_PATH);
  });

  it('its failure converter moves message and stack into an encoded payload', () => {
    assert.ok(failureConverter instanceof DefaultFailureConverter);
    const failure = failureConverter.errorToFailure(
      ApplicationFailure.create({ message: 'hunter2-failure', type: 'T' }),
      defaultPayloadConverter,
    );
    assert.equal(failure.message, 'Encoded failure');
    assert.equal(failure.stackTrace, '');
    assert.ok(failure.encodedAttributes && text(failure.encodedAttributes.data).includes('hunter2-failure'));
  });
});

describe('redacting logger', () => {
  it('keeps messages and plain fields, drops error text and keeps error types', () => {
    const seen: Array<{ level: LogLevel; message: string; meta?: LogMetadata }> = [];
    const stamp = Symbol('ts');
    const inner = {
      log: (level: LogLevel, message: string, meta?: LogMetadata) => void seen.push({ level, message, meta }),
      trace: () => undefined,
      debug: () => undefined,
      info: () => undefined,
      warn: () => undefined,
      error: () => undefined,
    };
    const cause = ApplicationFailure.create({ type: 'TrainingFailed', message: 'hunter2-log' });
    const err = new Error('outer hunter2-log', { cause });
    redactingLogger(inner).warn('Activity failed', { error: err, durationMs: 5, [stamp]: 1n });
    redactingLogger(inner).error('teardown failed', { error: String(err), taskQueue: 'q' });
    assert.deepEqual(seen[0], {
      level: 'WARN',
      message: 'Activity failed',
      meta: {
        error: {
          name: 'Error',
          message: REDACTED,
          cause: { name: 'ApplicationFailure', type: 'TrainingFailed', message: REDACTED },
        },
        durationMs: 5,
        [stamp]: 1n,
      },
    });
    assert.deepEqual(seen[1]?.meta, { error: REDACTED, taskQueue: 'q' });
  });
});
