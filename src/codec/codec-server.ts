// Temporal's remote codec protocol over node:http: POST [/<namespace>]/encode and /decode with {payloads: [...]},
// CORS for the Web UI's origin, a body limit and JSON errors. The CLI (--codec-endpoint) and the UI call it.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { PayloadCodec } from '@temporalio/common';
import { PayloadDecryptError } from './errors';
import { BadPayloadsJson, payloadsFromJson, payloadsToJson } from './payload-json';

export const DEFAULT_MAX_BODY_BYTES = 8 * 1024 * 1024;
const ALLOWED_HEADERS = 'content-type, x-namespace, authorization';
const PREFLIGHT_MAX_AGE_SECONDS = 600;

export interface CodecServerOptions {
  codec: PayloadCodec;
  /** Browser origins allowed to call (the Web UI's, e.g. http://localhost:8233). Non-browser callers send none. */
  allowedOrigins: readonly string[];
  maxBodyBytes?: number;
  /** Told about unexpected errors (answered 500); never given payloads. */
  onError?: (err: unknown) => void;
}

type Route = 'encode' | 'decode';

class HttpError extends Error {
  override readonly name = 'HttpError';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export function createCodecServer(options: CodecServerOptions): Server {
  return createServer((req, res) => {
    handle(req, res, options).catch((err: unknown) => sendFailure(res, err, options));
  });
}

async function handle(req: IncomingMessage, res: ServerResponse, options: CodecServerOptions): Promise<void> {
  const origin = req.headers.origin;
  const originAllowed = origin !== undefined && options.allowedOrigins.includes(origin);
  if (originAllowed) setCorsHeaders(res, origin);
  const route = routeOf(req.url);
  if (!route) throw new HttpError(404, 'no such endpoint; use POST /encode or POST /decode');
  // A browser page from any other origin (or a DNS-rebinding host name) is refused outright.
  if (origin !== undefined && !originAllowed)
    throw new HttpError(403, `origin ${origin} is not allowed; add it to TUNEFORGE_CODEC_ORIGINS`);
  if (req.method === 'OPTIONS') return preflight(req, res);
  if (req.method !== 'POST') {
    res.setHeader('allow', 'POST, OPTIONS');
    throw new HttpError(405, `${req.method ?? 'this method'} is not allowed; use POST`);
  }
  if (!isJsonContentType(req.headers['content-type'])) throw new HttpError(415, 'content-type must be application/json');
  const body = await readJsonBody(req, options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES);
  const payloads = payloadsFromJson(body);
  const converted = route === 'encode' ? await options.codec.encode(payloads) : await options.codec.decode(payloads);
  sendJson(res, 200, payloadsToJson(converted));
}

/** Only the last path segment counts, so `/{namespace}/decode` (the CLI's template) works too. */
function routeOf(url: string | undefined): Route | undefined {
  const path = (url ?? '/').split('?')[0] ?? '/';
  const last = path.split('/').filter(Boolean).at(-1);
  return last === 'encode' || last === 'decode' ? last : undefined;
}

function setCorsHeaders(res: ServerResponse, origin: string): void {
  res.setHeader('access-control-allow-origin', origin);
  res.setHeader('access-control-allow-credentials', 'true');
  res.setHeader('vary', 'origin');
}

function preflight(req: IncomingMessage, res: ServerResponse): void {
  res.setHeader('access-control-allow-methods', 'POST, OPTIONS');
  res.setHeader('access-control-allow-headers', ALLOWED_HEADERS);
  res.setHeader('access-control-max-age', String(PREFLIGHT_MAX_AGE_SECONDS));
  // Chrome's Private Network Access asks this when a UI served from elsewhere calls a loopback server.
  if (req.headers['access-control-request-private-network'] === 'true')
    res.setHeader('access-control-allow-private-network', 'true');
  res.writeHead(204).end();
}

function isJsonContentType(value: string | undefined): boolean {
  return value !== undefined && value.split(';')[0]?.trim().toLowerCase() === 'application/json';
}

async function readJsonBody(req: IncomingMessage, maxBytes: number): Promise<unknown> {
  const tooLarge = () => new HttpError(413, `body is larger than ${maxBytes} bytes`);
  if (Number(req.headers['content-length'] ?? 0) > maxBytes) throw tooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const bytes = chunk as Buffer;
    size += bytes.length;
    if (size > maxBytes) throw tooLarge();
    chunks.push(bytes);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch (err) {
    throw new HttpError(400, `body is not JSON (${err instanceof Error ? err.message : String(err)})`);
  }
}

function sendFailure(res: ServerResponse, err: unknown, options: CodecServerOptions): void {
  if (err instanceof HttpError) return sendError(res, err.status, err.message);
  if (err instanceof BadPayloadsJson) return sendError(res, 400, err.message);
  if (err instanceof PayloadDecryptError) return sendError(res, 422, err.message);
  options.onError?.(err);
  sendError(res, 500, 'internal error in the codec server; see its log');
}

function sendError(res: ServerResponse, status: number, message: string): void {
  // After a refused body the rest of it is unread: close instead of reusing the connection.
  if (status === 413) res.setHeader('connection', 'close');
  sendJson(res, status, { error: message });
}

function sendJson(res: ServerResponse, status: number, body: object): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text);
}

export interface RunningCodecServer {
  url: string;
  close(): Promise<void>;
}

/** Listens on host:port (port 0 picks a free one) and resolves once it accepts connections. */
export async function startCodecServer(
  options: CodecServerOptions & { host: string; port: number },
): Promise<RunningCodecServer> {
  const server = createCodecServer(options);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  return {
    url: `http://${host}:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}
