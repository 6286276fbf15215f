import { Pool, errors } from './undici-parts.js';
import type { Dispatcher } from 'undici';
import {
  TransportError,
  type BackendRequest,
  type BackendResponse,
  type BackendTransport,
  type TransportErrorKind,
} from '../../ports/backend-transport.js';

/** Options for {@link createUndiciBackendTransport}. */
export interface UndiciTransportOptions {
  /** Keep-alive sockets per backend. */
  connectionsPerBackend?: number;
  /** Idle keep-alive socket lifetime. */
  keepAliveTimeoutMs?: number;
  /** HTTP/1.1 pipelining depth (1 = none; AI calls are long, so keep it off). */
  pipelining?: number;
}

/**
 * The Node transport: one undici `Pool` per backend origin (keep-alive, bounded sockets), streamed
 * request and response bodies, and undici's own deadlines mapped onto ours — `headersTimeout` is the
 * time-to-first-byte deadline and `bodyTimeout` is the idle gap between body chunks, so no extra
 * timers run per request. `bodyTimeout` bounds the bodies the engine reads without a watchdog (an error
 * body, a dump); relayed streams are judged by the engine's IdleWatchdog too. undici's timer does not
 * count the time its parser is paused for backpressure (a slow caller) and needs two of its ticks
 * without a byte, so neither a slow caller nor a starved turn trips it (ADR 0048).
 *
 * @example
 * const transport = createUndiciBackendTransport({ connectionsPerBackend: 256 });
 */
export function createUndiciBackendTransport(options: UndiciTransportOptions = {}): BackendTransport {
  const pools = new Map<string, Dispatcher>();
  const connections = options.connectionsPerBackend ?? 512;

  function poolFor(request: BackendRequest): Dispatcher {
    // The connect timeout is a pool setting: one pool per backend and configured connect timeout (a
    // handful per backend at most — it comes from config, never from a request).
    const key = `${request.backendId} ${request.origin} ${request.connectTimeoutMs}`;
    let pool = pools.get(key);
    if (pool === undefined) {
      pool = new Pool(request.origin, {
        connections,
        pipelining: options.pipelining ?? 1,
        keepAliveTimeout: options.keepAliveTimeoutMs ?? 30_000,
        connect: { timeout: request.connectTimeoutMs },
        // Deadlines are per request (below); the pool defaults must not cut long AI calls short.
        headersTimeout: 0,
        bodyTimeout: 0,
      });
      pools.set(key, pool);
    }
    return pool;
  }

  return {
    async send(request: BackendRequest): Promise<BackendResponse> {
      try {
        const response = await poolFor(request).request({
          path: request.path,
          method: request.method as Dispatcher.HttpMethod,
          headers: request.headers,
          body: request.body ?? undefined,
          signal: request.signal,
          headersTimeout: request.firstByteTimeoutMs,
          bodyTimeout: request.idleTimeoutMs,
        });
        const body = response.body;
        return {
          status: response.statusCode,
          headers: response.headers as Record<string, string | string[] | undefined>,
          body,
          errorKind: (error) => toTransportError(error).kind,
          dump: async () => {
            try {
              await body.dump({ limit: 64 * 1024 });
            } catch {
              // A failing body on a response we are discarding changes nothing.
            }
          },
        };
      } catch (error) {
        throw toTransportError(error);
      }
    },
    async close(): Promise<void> {
      const all = [...pools.values()];
      pools.clear();
      await Promise.allSettled(all.map((p) => p.destroy()));
    },
  };
}

function toTransportError(error: unknown): TransportError {
  if (error instanceof TransportError) return error;
  const err = error as { code?: string; name?: string; message?: string; cause?: { code?: string } };
  const code = err.code ?? err.cause?.code;
  let kind: TransportErrorKind = 'other';
  if (error instanceof errors.HeadersTimeoutError) kind = 'ttfb-timeout';
  else if (error instanceof errors.BodyTimeoutError) kind = 'idle-timeout';
  else if (error instanceof errors.ConnectTimeoutError || code === 'UND_ERR_CONNECT_TIMEOUT') kind = 'connect-timeout';
  else if (error instanceof errors.RequestAbortedError || err.name === 'AbortError' || code === 'ABORT_ERR')
    kind = 'aborted';
  else if (code === 'ECONNREFUSED') kind = 'connect-refused';
  else if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') kind = 'dns';
  else if (
    error instanceof errors.SocketError ||
    code === 'ECONNRESET' ||
    code === 'EPIPE' ||
    code === 'UND_ERR_SOCKET'
  )
    kind = 'reset';
  return new TransportError(kind, err.message ?? String(error), { cause: error });
}
