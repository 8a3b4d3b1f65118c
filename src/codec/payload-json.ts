// Payloads in the codec server's wire form: proto3 JSON of temporal.api.common.v1.Payloads (bytes as base64).
import type { Payload } from '@temporalio/common';

export interface JsonPayload {
  metadata?: Record<string, string> | null;
  data?: string | null;
}

export interface JsonPayloads {
  payloads: JsonPayload[];
}

/** The request body was not `{payloads: [...]}` with base64 strings; the message names the field. */
export class BadPayloadsJson extends Error {
  override readonly name = 'BadPayloadsJson';
}

// proto3 JSON accepts standard and URL-safe base64, padded or not.
const BASE64_PATTERN = /^[A-Za-z0-9+/_-]*={0,2}$/;

export function payloadsFromJson(body: unknown): Payload[] {
  if (typeof body !== 'object' || body === null || !('payloads' in body) || !Array.isArray(body.payloads)) {
    throw new BadPayloadsJson('body must be {"payloads": [...]}');
  }
  const list: unknown[] = body.payloads;
  return list.map((item, index) => payloadFromJson(item, `payloads[${index}]`));
}

function payloadFromJson(item: unknown, path: string): Payload {
  if (typeof item !== 'object' || item === null || Array.isArray(item)) throw new BadPayloadsJson(`${path} must be an object`);
  const { metadata, data } = item as { metadata?: unknown; data?: unknown };
  const payload: Payload = {};
  if (metadata !== undefined && metadata !== null) {
    if (typeof metadata !== 'object' || Array.isArray(metadata)) throw new BadPayloadsJson(`${path}.metadata must be an object`);
    payload.metadata = Object.fromEntries(
      Object.entries(metadata).map(([key, value]): [string, Uint8Array] => [
        key,
        bytesFromBase64(value, `${path}.metadata.${key}`),
      ]),
    );
  }
  if (data !== undefined && data !== null) payload.data = bytesFromBase64(data, `${path}.data`);
  return payload;
}

function bytesFromBase64(value: unknown, path: string): Buffer {
  if (typeof value !== 'string' || !BASE64_PATTERN.test(value)) throw new BadPayloadsJson(`${path} must be a base64 string`);
  return Buffer.from(value, 'base64');
}

export function payloadsToJson(payloads: Payload[]): JsonPayloads {
  return { payloads: payloads.map(payloadToJson) };
}

function payloadToJson(payload: Payload): JsonPayload {
  const json: JsonPayload = {};
  if (payload.metadata) {
    json.metadata = Object.fromEntries(Object.entries(payload.metadata).map(([key, value]) => [key, base64(value)]));
  }
  if (payload.data && payload.data.length > 0) json.data = base64(payload.data);
  return json;
}

function base64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}
