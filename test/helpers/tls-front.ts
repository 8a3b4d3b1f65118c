// A team's Temporal as tests meet it: a TLS endpoint on loopback in front of the plaintext dev server, that
// requires client certificates (mTLS) or an API key, with certificates the test makes with openssl.
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import {
  connect,
  constants,
  createSecureServer,
  type ClientHttp2Session,
  type Http2SecureServer,
  type IncomingHttpHeaders,
  type OutgoingHttpHeaders,
  type ServerHttp2Stream,
} from 'node:http2';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';

const GRPC_UNAUTHENTICATED = '16';

/** PEM files made for one test: two unrelated CAs, a server cert for localhost, client certs of either CA. */
export interface TestCertificates {
  dir: string;
  caCert: string;
  serverCert: string;
  serverKey: string;
  /** Signed by the CA the front trusts. */
  clientCert: string;
  clientKey: string;
  /** A CA the front knows nothing of (a client that trusts it rejects the server: "wrong CA"). */
  otherCaCert: string;
  /** A client certificate signed by the other CA: the front refuses it. */
  strangerCert: string;
  strangerKey: string;
  remove: () => Promise<void>;
}

function openssl(dir: string, ...args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

function makeCa(dir: string, name: string): void {
  openssl(
    dir,
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-days',
    '2',
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.pem`,
    '-subj',
    `/CN=${name}`,
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  );
}

/** A leaf certificate (v3, with the SANs and extended key usage rustls and BoringSSL check). */
function makeLeaf(dir: string, name: string, ca: string, usage: 'serverAuth' | 'clientAuth'): void {
  openssl(
    dir,
    'req',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.csr`,
    '-subj',
    `/CN=${name}`,
  );
  const ext = join(dir, `${name}.ext`);
  const san = usage === 'serverAuth' ? 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' : '';
  execFileSync('sh', [
    '-c',
    `printf '%s' "$1" > "$2"`,
    'sh',
    `${san}basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=${usage}\n`,
    ext,
  ]);
  openssl(
    dir,
    'x509',
    '-req',
    '-in',
    `${name}.csr`,
    '-CA',
    `${ca}.pem`,
    '-CAkey',
    `${ca}.key`,
    '-CAcreateserial',
    '-days',
    '2',
    '-out',
    `${name}.pem`,
    '-extfile',
    ext,
  );
}

export async function makeTestCertificates(): Promise<TestCertificates> {
  const dir = await mkdtemp(join(tmpdir(), 'tf-tls-'));
  makeCa(dir, 'test-ca');
  makeCa(dir, 'other-ca');
  makeLeaf(dir, 'localhost', 'test-ca', 'serverAuth');
  makeLeaf(dir, 'tuneforge-client', 'test-ca', 'clientAuth');
  makeLeaf(dir, 'stranger', 'other-ca', 'clientAuth');
  const at = (file: string) => join(dir, file);
  return {
    dir,
    caCert: at('test-ca.pem'),
    serverCert: at('localhost.pem'),
    serverKey: at('localhost.key'),
    clientCert: at('tuneforge-client.pem'),
    clientKey: at('tuneforge-client.key'),
    otherCaCert: at('other-ca.pem'),
    strangerCert: at('stranger.pem'),
    strangerKey: at('stranger.key'),
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}

export interface TlsFrontOptions {
  certs: TestCertificates;
  /** host:port of the plaintext dev server. */
  upstream: string;
  /** 'mtls': a client certificate of the test CA is required; 'api-key': TLS plus `authorization: Bearer <key>`. */
  mode: 'mtls' | 'api-key';
  apiKey?: string;
}

export interface TlsFront {
  /** localhost:<port>, for TEMPORAL_ADDRESS. */
  address: string;
  /** The client certificates' subjects (CN) of the connections the front accepted. */
  clientSubjects: Set<string>;
  /** Calls the front refused for a missing or wrong API key. */
  refusedCalls: () => number;
  close: () => Promise<void>;
}

/** Header names that belong to one HTTP/2 hop (the front's connection), not to the call. */
const HOP_HEADERS = new Set([':scheme', ':authority']);

function forwardable(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !HOP_HEADERS.has(name)));
}

function refuse(stream: ServerHttp2Stream, message: string): void {
  stream.respond(
    { ':status': 200, 'content-type': 'application/grpc', 'grpc-status': GRPC_UNAUTHENTICATED, 'grpc-message': message },
    { endStream: true },
  );
}

/** One call: request headers and body up, response headers, body and trailers (where gRPC's status is) down. */
function proxyStream(upstream: ClientHttp2Session, stream: ServerHttp2Stream, headers: IncomingHttpHeaders): void {
  const call = upstream.request(forwardable(headers));
  let trailers: OutgoingHttpHeaders = {};
  call.on('response', (responseHeaders, flags) => {
    if (stream.destroyed) return;
    // A trailers-only response (an error at once) ends in its headers: nothing else will come.
    if ((flags & constants.NGHTTP2_FLAG_END_STREAM) !== 0)
      return stream.respond(forwardable(responseHeaders), { endStream: true });
    stream.respond(forwardable(responseHeaders), { waitForTrailers: true });
    call.pipe(stream);
  });
  call.on('trailers', (received) => (trailers = forwardable(received)));
  stream.on('wantTrailers', () => stream.sendTrailers(trailers));
  stream.pipe(call);
  // A cancelled call (the client resets it) or a broken upstream ends the other side too.
  stream.on('close', () => {
    if (!call.closed) call.close(constants.NGHTTP2_CANCEL);
  });
  // A normal end flows through the pipe and the trailers; only an upstream reset is passed on as one.
  call.on('close', () => {
    if (stream.closed || call.rstCode === constants.NGHTTP2_NO_ERROR) return;
    if (!stream.headersSent) refuse(stream, 'upstream closed');
    else stream.close(call.rstCode);
  });
  call.on('error', () => undefined);
  stream.on('error', () => undefined);
}

export async function startTlsFront(options: TlsFrontOptions): Promise<TlsFront> {
  const { certs } = options;
  const mtls = options.mode === 'mtls';
  const server: Http2SecureServer = createSecureServer({
    key: await readFile(certs.serverKey),
    cert: await readFile(certs.serverCert),
    ca: await readFile(certs.caCert),
    requestCert: mtls,
    rejectUnauthorized: mtls,
    allowHTTP1: false,
  });
  const upstream = connect(`http://${options.upstream}`);
  upstream.on('error', () => undefined);
  const clientSubjects = new Set<string>();
  let refused = 0;
  server.on('secureConnection', (socket: TLSSocket) => {
    const subject = socket.getPeerCertificate().subject;
    if (subject?.CN) clientSubjects.add(String(subject.CN));
  });
  server.on('stream', (stream, headers) => {
    if (!mtls && headers.authorization !== `Bearer ${options.apiKey ?? ''}`) {
      refused++;
      return refuse(stream, 'invalid API key');
    }
    proxyStream(upstream, stream, headers);
  });
  server.on('sessionError', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    address: `localhost:${port}`,
    clientSubjects,
    refusedCalls: () => refused,
    close: async () => {
      upstream.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Long polls of a worker still connected would hold close() open.
        setTimeout(resolve, 2000).unref();
      });
    },
  };
}
