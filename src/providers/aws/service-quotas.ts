// Reads one EC2 quota's applied value from Service Quotas (GetServiceQuota). The SDK has a client for it,
// but it is not among this package's dependencies: the call is one signed JSON POST, so it is made here
// with the EC2 client's own credentials and a SigV4 signature (node:crypto).
import { createHash, createHmac } from 'node:crypto';
import type { EC2Client } from '@aws-sdk/client-ec2';

/** The JSON protocol's target prefix: `<prefix>.<Action>`; the IAM action is `servicequotas:<Action>`. */
export const SERVICE_QUOTAS_TARGET = 'ServiceQuotasV20190624';
const SIGNING_NAME = 'servicequotas';
const REQUEST_TIMEOUT_MS = 15_000;

/** A quota's value in the region (vCPUs for the EC2 standard quotas), or why it could not be read. */
export type QuotaReading = { value: number } | { unreadable: string };

/** Reads a Service Quotas value for service code ec2; tests inject one (moto has no EC2 quotas). */
export type QuotaReader = (region: string, quotaCode: string, signal?: AbortSignal) => Promise<QuotaReading>;

interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

const sha256 = (data: string): string => createHash('sha256').update(data, 'utf8').digest('hex');
const hmac = (key: Buffer | string, data: string): Buffer => createHmac('sha256', key).update(data, 'utf8').digest();

/** SigV4 headers for a POST of `body` to `url` (lower-case header names, sorted, as the spec needs). */
export function signPost(
  url: URL,
  headers: Record<string, string>,
  body: string,
  scope: { region: string; service: string; credentials: Credentials; now: Date },
): Record<string, string> {
  const amzDate = scope.now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
  const day = amzDate.slice(0, 8);
  const payloadHash = sha256(body);
  // The SDK's signer sends the payload hash as a header too; so does this one, to sign byte for byte alike.
  const all: Record<string, string> = { ...headers, host: url.host, 'x-amz-date': amzDate, 'x-amz-content-sha256': payloadHash };
  if (scope.credentials.sessionToken) all['x-amz-security-token'] = scope.credentials.sessionToken;
  const names = Object.keys(all)
    .map((name) => name.toLowerCase())
    .sort();
  const lower = Object.fromEntries(Object.entries(all).map(([k, v]) => [k.toLowerCase(), v.trim()]));
  const canonicalHeaders = names.map((name) => `${name}:${lower[name] ?? ''}\n`).join('');
  const signedHeaders = names.join(';');
  const canonical = ['POST', url.pathname || '/', '', canonicalHeaders, signedHeaders, payloadHash].join('\n');
  const credentialScope = `${day}/${scope.region}/${scope.service}/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', amzDate, credentialScope, sha256(canonical)].join('\n');
  let key = hmac(`AWS4${scope.credentials.secretAccessKey}`, day);
  for (const part of [scope.region, scope.service, 'aws4_request']) key = hmac(key, part);
  const signature = createHmac('sha256', key).update(toSign, 'utf8').digest('hex');
  return {
    ...all,
    authorization: `AWS4-HMAC-SHA256 Credential=${scope.credentials.accessKeyId}/${credentialScope}, SignedHeaders=${signedHeaders}, Signature=${signature}`,
  };
}

/**
 * Where Service Quotas answers: AWS_ENDPOINT_URL_SERVICE_QUOTAS (the SDK's own variable), else the EC2
 * client's custom endpoint (an emulator serving every service on one port), else the regional endpoint.
 */
async function serviceQuotasUrl(ec2: EC2Client, region: string): Promise<URL> {
  const fromEnv = process.env.AWS_ENDPOINT_URL_SERVICE_QUOTAS;
  if (fromEnv) return new URL(fromEnv);
  const custom = ec2.config.endpoint ? await ec2.config.endpoint() : undefined;
  if (custom) return new URL(`${custom.protocol}//${custom.hostname}${custom.port ? `:${custom.port}` : ''}${custom.path}`);
  return new URL(`https://servicequotas.${region}.amazonaws.com/`);
}

/** The reader a provider uses by default: GetServiceQuota with the EC2 client's credentials. */
export function serviceQuotasReader(ec2: EC2Client): QuotaReader {
  return async (region, quotaCode, signal) => {
    try {
      const url = await serviceQuotasUrl(ec2, region);
      const body = JSON.stringify({ ServiceCode: 'ec2', QuotaCode: quotaCode });
      const headers = signPost(
        url,
        { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': `${SERVICE_QUOTAS_TARGET}.GetServiceQuota` },
        body,
        { region, service: SIGNING_NAME, credentials: await ec2.config.credentials(), now: new Date() },
      );
      const timeout = AbortSignal.timeout(REQUEST_TIMEOUT_MS);
      const response = await fetch(url, {
        method: 'POST',
        headers,
        body,
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      });
      const answer = (await response.json()) as { Quota?: { Value?: number }; __type?: string; message?: string };
      const value = answer.Quota?.Value;
      if (response.ok && typeof value === 'number') return { value };
      return { unreadable: `GetServiceQuota answered ${response.status} ${answer.__type ?? ''} ${answer.message ?? ''}`.trim() };
    } catch (error) {
      signal?.throwIfAborted();
      return { unreadable: `GetServiceQuota failed: ${error instanceof Error ? error.message : String(error)}` };
    }
  };
}
