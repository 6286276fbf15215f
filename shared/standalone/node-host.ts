import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { errorRegistry, type ErrorCode } from '../core/errors/error-registry.js';
import type { Gateway } from '../core/gateway.js';
import { AnswerHeaders } from '../core/http/answer-headers.js';
import type { GatewayRequest, GatewayResponse } from '../core/http/gateway-request.js';
import type { HeaderMap } from '../core/http/header-map.js';
import { RawRequestHeaders } from '../core/http/raw-request-headers.js';
import { CallerBody } from './caller-body.js';
import { DECLARED_DRAIN_BYTES, discardBody, isDraining, type DrainLimit } from './discard-body.js';
import { requestUrl } from './request-url.js';

// node:http through require, not `import`: on Node 22 an ES import builds the module's namespace, which reads its
// lazy `WebSocket`, `CloseEvent` and `MessageEvent` getters and so loads Node's bundled undici (~3 MB more
// resident in this process, ADR 0061) that nothing here uses. require() leaves the getters unread.
const { createServer, STATUS_CODES } = createRequire(import.meta.url)('node:http') as typeof import('node:http');

/** A running Node host. */
export interface NodeHost {
  readonly url: string;
  readonly port: number;
  readonly server: Server;
  /**
   * Stops listening and closes the connections: at once by default; with `connectionGraceMs`, idle ones at
   * once and busy ones when their response has ended (a cut stream's terminal event is flushed), at most that
   * long.
   */
  close(options?: { readonly connectionGraceMs?: number }): Promise<void>;
}

/** Options of {@link startNodeHost}. */
export interface NodeHostOptions {
  readonly host?: string;
  readonly port?: number;
  /** Largest accepted request header block (431 above). */
  readonly maxHeaderBytes?: number;
  /** Time allowed to receive a whole request, headers and body (408 `GW_ERR_REQUEST_TIMEOUT` past it). */
  readonly requestTimeoutMs?: number;
  /** The largest request body the engine takes now (`limits.maxBodyBytes`): a refused declared body that size is
   * drained, not cut (discard-body.ts). */
  readonly largestBodyBytes?: () => number;
}

/**
 * The standalone host: `node:http` in front of the engine. It adapts a Node request into the
 * engine's {@link GatewayRequest} (the socket body as an async iterable, an `AbortSignal` that fires
 * when the caller goes away) and writes the {@link GatewayResponse} back with backpressure. A body
 * iterator that throws (a stream cut mid-answer) destroys the socket, so the caller sees an abnormal
 * end rather than a complete chunked response.
 *
 * @example
 * const host = await startNodeHost(gateway, { port: 8000 });
 */
export async function startNodeHost(gateway: Gateway, options: NodeHostOptions = {}): Promise<NodeHost> {
  const requestTimeoutMs = options.requestTimeoutMs ?? 120_000;
  const largest = options.largestBodyBytes;
  const drain: DrainLimit = () => Math.max(DECLARED_DRAIN_BYTES, largest === undefined ? 0 : largest());
  // requestTimeout bounds receiving a request (headers and body: a caller trickling its body cannot hold a
  // socket forever); it does not limit the streamed response. Node checks it every
  // connectionsCheckingInterval, so that interval follows a short timeout.
  const server = createServer(
    {
      maxHeaderSize: options.maxHeaderBytes ?? 32 * 1024,
      keepAliveTimeout: 65_000,
      requestTimeout: requestTimeoutMs,
      connectionsCheckingInterval: Math.min(30_000, Math.max(50, Math.floor(requestTimeoutMs / 4))),
      // A missing Host is answered by requestUrl in our envelope, not by node:http's bare 400.
      requireHostHeader: false,
    },
    (req, res) => {
      void serve(gateway, req, res, drain);
    },
  );
  // Malformed requests, oversized headers and a request not received in time never reach the engine.
  server.on('clientError', (error, socket) => {
    // Never write after a response has begun on this socket (the caller would read a corrupt stream).
    const inFlight = (socket as { _httpMessage?: ServerResponse | null })._httpMessage;
    // Nor while a refused body is drained after its answer (a request timeout then): that socket just closes.
    if (!socket.writable || inFlight?.headersSent === true || isDraining(socket)) return void socket.destroy();
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'HPE_HEADER_OVERFLOW') socket.end(rawErrorResponse('GW_ERR_REQUEST_HEADERS_TOO_LARGE'));
    else if (code === 'ERR_HTTP_REQUEST_TIMEOUT') socket.end(rawErrorResponse('GW_ERR_REQUEST_TIMEOUT'));
    else if (code === 'HPE_INVALID_URL') socket.end(rawErrorResponse('GW_ERR_REQUEST_INVALID_TARGET'));
    else socket.end(rawErrorResponse('GW_ERR_REQUEST_INVALID_HEADER', 'The request could not be parsed.'));
  });
  // node:http hands CONNECT and unknown expectations to these events instead of the request handler.
  server.on('connect', (_req, socket) => {
    socket.end(rawErrorResponse('GW_ERR_REQUEST_METHOD_NOT_ALLOWED', 'CONNECT is not served.'));
  });
  server.on('checkExpectation', (req: IncomingMessage, res: ServerResponse) => {
    discardBody(req, res, 0, drain);
    writeError(res, 'GW_ERR_REQUEST_EXPECTATION_FAILED', undefined, 'expect');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  const hostForUrl =
    address.family === 'IPv6' ? `[${address.address}]` : address.address === '0.0.0.0' ? '127.0.0.1' : address.address;
  return {
    url: `http://${hostForUrl}:${address.port}`,
    port: address.port,
    server,
    close: (closeOptions = {}) =>
      new Promise<void>((resolve) => {
        const graceMs = closeOptions.connectionGraceMs ?? 0;
        const timer = graceMs > 0 ? setTimeout(() => server.closeAllConnections(), graceMs) : undefined;
        server.close(() => {
          clearTimeout(timer);
          resolve();
        });
        if (timer === undefined) server.closeAllConnections();
        else server.closeIdleConnections();
      }),
  };
}

async function serve(gateway: Gateway, req: IncomingMessage, res: ServerResponse, drain: DrainLimit): Promise<void> {
  const controller = new AbortController();
  res.once('close', () => {
    if (!res.writableFinished) controller.abort(new Error('caller went away'));
  });
  const raw = req.rawHeaders;
  const hosts: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i]!.length === 4 && raw[i]!.toLowerCase() === 'host') hosts.push(raw[i + 1]!);
  }
  const method = req.method ?? 'GET';
  const url = requestUrl({ method, target: req.url ?? '', httpVersion: req.httpVersion, hosts });
  if (!url.ok) {
    discardBody(req, res, 0, drain);
    return writeError(res, url.code, url.message, url.param);
  }
  const body = method === 'GET' || method === 'HEAD' ? null : new CallerBody(req, res, drain);
  const request: GatewayRequest = {
    method,
    url: url.url,
    // Read in place: node:http's parser already refused malformed fields; the engine judges the values (ADR 0061).
    headers: new RawRequestHeaders(raw),
    // Read by events, or in one piece when it is all here already (caller-body.ts), not by Node's stream iterator.
    body,
    signal: controller.signal,
  };
  let response: GatewayResponse | undefined;
  try {
    response = await gateway.handle(request);
  } catch {
    response = undefined;
  }
  // A body the engine did not read is dropped in bounds before the answer goes out (discard-body.ts).
  if (body === null) discardBody(req, res, 0, drain);
  else body.releaseUnread();
  if (response === undefined) return writeError(res, 'GW_ERR_INTERNAL');
  await writeResponse(res, response);
}

/** Our error envelope for a request refused before the engine (the engine answers its own errors). */
function errorBody(code: ErrorCode, message: string | undefined, param: string | null, requestId: string): string {
  const definition = errorRegistry[code];
  return JSON.stringify({
    error: { message: message ?? definition.message, type: definition.type, code, param, request_id: requestId },
  });
}

function writeError(res: ServerResponse, code: ErrorCode, message?: string, param: string | null = null): void {
  const requestId = randomUUID();
  const body = errorBody(code, message, param, requestId);
  res.writeHead(errorRegistry[code].status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    'x-gateway-error-code': code,
    'x-gateway-request-id': requestId,
  });
  res.end(body);
}

/** A whole HTTP/1.1 error response for a socket node:http gave up parsing (the connection then closes). */
function rawErrorResponse(code: ErrorCode, message?: string): string {
  const requestId = randomUUID();
  const body = errorBody(code, message, null, requestId);
  const status = errorRegistry[code].status;
  return (
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\ncontent-type: application/json\r\n` +
    `content-length: ${Buffer.byteLength(body)}\r\nx-gateway-error-code: ${code}\r\n` +
    `x-gateway-request-id: ${requestId}\r\nconnection: close\r\n\r\n${body}`
  );
}

async function writeResponse(res: ServerResponse, response: GatewayResponse): Promise<void> {
  // Status and every header in one writeHead, from an array node:http takes as it is (no per-header setHeader).
  res.writeHead(response.status, flatHeaders(response.headers));
  if (response.body === null) {
    res.end();
    return;
  }
  const iterator = response.body[Symbol.asyncIterator]();
  // A small body of declared length (a non-streaming answer) goes out with its headers in one write.
  const declared = Number(response.headers.get('content-length') ?? NaN);
  if (declared <= SMALL_BODY_BYTES) {
    const chunks: Uint8Array[] = [];
    let received = 0;
    let sent = false;
    try {
      for (let next = await iterator.next(); !next.done; next = await iterator.next()) {
        chunks.push(next.value);
        received += next.value.byteLength;
        // Answer as soon as the declared bytes are in; the engine's bookkeeping runs after.
        if (received === declared && !sent) {
          sent = true;
          if (!res.destroyed) res.end(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks));
        }
      }
    } catch {
      res.destroy();
      return;
    }
    if (!sent && !res.destroyed) {
      if (received === declared) res.end(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks));
      else res.destroy(); // a backend that sent fewer bytes than it declared: never a clean end
    }
    return;
  }
  try {
    for (;;) {
      if (res.destroyed) {
        await iterator.return?.();
        return;
      }
      const next = await iterator.next();
      if (next.done) break;
      // No callback and no promise per chunk (a stream is hundreds of chunks); wait only when the socket is full.
      res.write(next.value);
      if (res.writableNeedDrain && !(await waitForDrain(res))) {
        await iterator.return?.();
        return;
      }
    }
    res.end();
  } catch {
    // The stream failed after the first byte: let the terminal error event reach the socket, then end
    // the connection abnormally (no clean last chunk), so the cut answer never looks complete.
    await Promise.race([written(res), new Promise((resolve) => setTimeout(resolve, 1000).unref())]);
    res.destroy();
  }
}

/** `[name, value, …]`: prepared by {@link AnswerHeaders}, or read from web `Headers` the engine built. */
function flatHeaders(headers: HeaderMap): string[] {
  if (headers instanceof AnswerHeaders) return headers.flat();
  const flat: string[] = [];
  headers.forEach((value, name) => {
    flat.push(name, value);
  });
  return flat;
}

const NO_BYTES = new Uint8Array(0);

/**
 * Resolves once everything written so far has gone to the socket: an empty write adds no bytes (not even a
 * chunk frame) and its callback runs after the writes queued before it.
 */
function written(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    if (res.destroyed) resolve();
    else res.write(NO_BYTES, () => resolve());
  });
}

/** Bodies of at most this declared length are written in one piece with their headers. */
const SMALL_BODY_BYTES = 64 * 1024;

function waitForDrain(res: ServerResponse): Promise<boolean> {
  return new Promise((resolve) => {
    const onDrain = (): void => {
      res.off('close', onClose);
      resolve(true);
    };
    const onClose = (): void => {
      res.off('drain', onDrain);
      resolve(false);
    };
    res.once('drain', onDrain);
    res.once('close', onClose);
  });
}
