import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Gateway } from '../core/gateway.js';
import type { GatewayRequest, GatewayResponse } from '../core/http/gateway-request.js';

/** A running Node host. */
export interface NodeHost {
  readonly url: string;
  readonly port: number;
  readonly server: Server;
  close(): Promise<void>;
}

/** Options of {@link startNodeHost}. */
export interface NodeHostOptions {
  readonly host?: string;
  readonly port?: number;
  /** Largest accepted request header block (431 above). */
  readonly maxHeaderBytes?: number;
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
  // requestTimeout bounds receiving a request (headers and body: a caller trickling its body cannot hold a
  // socket forever); it does not limit the streamed response.
  const server = createServer(
    { maxHeaderSize: options.maxHeaderBytes ?? 32 * 1024, keepAliveTimeout: 65_000, requestTimeout: 120_000 },
    (req, res) => {
      void serve(gateway, req, res);
    },
  );
  server.on('clientError', (error, socket) => {
    // Malformed requests and oversized headers never reach the engine; answer in our envelope.
    const code = (error as NodeJS.ErrnoException).code;
    const status = code === 'HPE_HEADER_OVERFLOW' ? 431 : 400;
    const errorCode = status === 431 ? 'GW_ERR_REQUEST_HEADERS_TOO_LARGE' : 'GW_ERR_REQUEST_INVALID_HEADER';
    if (socket.writable) {
      const body = JSON.stringify({
        error: {
          message: status === 431 ? 'The request headers are too large.' : 'The request could not be parsed.',
          type: 'invalid_request_error',
          code: errorCode,
          param: null,
          request_id: null,
        },
      });
      socket.end(
        `HTTP/1.1 ${status} ${status === 431 ? 'Request Header Fields Too Large' : 'Bad Request'}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nx-gateway-error-code: ${errorCode}\r\nconnection: close\r\n\r\n${body}`,
      );
    } else socket.destroy();
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
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function serve(gateway: Gateway, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const controller = new AbortController();
  res.once('close', () => {
    if (!res.writableFinished) controller.abort(new Error('caller went away'));
  });
  const headers = new Headers();
  const raw = req.rawHeaders;
  try {
    for (let i = 0; i < raw.length; i += 2) headers.append(raw[i]!, raw[i + 1]!);
  } catch {
    res.writeHead(400, { 'content-type': 'application/json', 'x-gateway-error-code': 'GW_ERR_REQUEST_INVALID_HEADER' });
    res.end(
      JSON.stringify({
        error: {
          message: 'A request header is invalid.',
          type: 'invalid_request_error',
          code: 'GW_ERR_REQUEST_INVALID_HEADER',
          param: null,
          request_id: null,
        },
      }),
    );
    return;
  }
  const request: GatewayRequest = {
    method: req.method ?? 'GET',
    url: `http://${req.headers.host ?? 'localhost'}${req.url ?? '/'}`,
    headers,
    body: req.method === 'GET' || req.method === 'HEAD' ? null : req,
    signal: controller.signal,
  };
  let response: GatewayResponse;
  try {
    response = await gateway.handle(request);
  } catch {
    res.writeHead(500, { 'content-type': 'application/json', 'x-gateway-error-code': 'GW_ERR_INTERNAL' });
    res.end(
      '{"error":{"message":"An internal error occurred.","type":"server_error","code":"GW_ERR_INTERNAL","param":null,"request_id":null}}',
    );
    return;
  }
  await writeResponse(res, response);
}

async function writeResponse(res: ServerResponse, response: GatewayResponse): Promise<void> {
  const flat: string[] = [];
  response.headers.forEach((value, name) => {
    flat.push(name, value);
  });
  res.writeHead(response.status, flat);
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
  let flushed: Promise<void> = Promise.resolve();
  try {
    for (;;) {
      if (res.destroyed) {
        await iterator.return?.();
        return;
      }
      const next = await iterator.next();
      if (next.done) break;
      flushed = new Promise((resolve) => {
        if (!res.write(next.value, () => resolve())) {
          void waitForDrain(res).then((drained) => {
            if (!drained) resolve();
          });
        }
      });
      if (res.writableNeedDrain) {
        const drained = await waitForDrain(res);
        if (!drained) {
          await iterator.return?.();
          return;
        }
      }
    }
    res.end();
  } catch {
    // The stream failed after the first byte: let the terminal error event reach the socket, then end
    // the connection abnormally (no clean last chunk), so the cut answer never looks complete.
    await Promise.race([flushed, new Promise((resolve) => setTimeout(resolve, 1000).unref())]);
    res.destroy();
  }
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
