import { Pool, errors } from './undici-parts.js';
import type { Dispatcher } from 'undici';
import {
  TransportError,
  type BackendRequest,
  type BackendResponse,
  type BackendTransport,
} from '../../ports/backend-transport.js';
import { DispatchExchange } from './dispatch-exchange.js';
import { toTransportError } from './transport-error.js';

/** Options for {@link createUndiciBackendTransport}. */
export interface UndiciTransportOptions {
  /** Keep-alive sockets per backend, at least (a backend whose `concurrency` is higher gets that many). */
  connectionsPerBackend?: number;
  /** Idle keep-alive socket lifetime. */
  keepAliveTimeoutMs?: number;
  /** HTTP/1.1 pipelining depth (1 = none; AI calls are long, so keep it off). */
  pipelining?: number;
}

/**
 * The Node transport: one undici `Pool` per backend origin (keep-alive, bounded sockets), each attempt on the
 * pool's `dispatch` with a handler of our own ({@link DispatchExchange}: the body as a light async iterable with
 * backpressure, not a Node stream — ADR 0069), and undici's own deadlines mapped onto ours — `headersTimeout` is the
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
    // The connect timeout and the size are pool settings: one pool per backend, origin, connect timeout and size
    // (a handful per backend at most — all from config, never from a request; a reload that changes one leaves
    // the old pool idle until close()).
    // Never fewer sockets than calls the engine may send at once: the scheduler is the one queue (ADR 0069).
    const size = Math.max(connections, request.concurrency ?? 0);
    const key = `${request.backendId} ${request.origin} ${request.connectTimeoutMs} ${size}`;
    let pool = pools.get(key);
    if (pool === undefined) {
      pool = new Pool(request.origin, {
        connections: size,
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
    send(request: BackendRequest): Promise<BackendResponse> {
      if (request.signal.aborted)
        return Promise.reject(toTransportError(request.signal.reason ?? new errors.RequestAbortedError()));
      // A CONNECT would become an upgrade undici hands to a handler that takes none, and never settle.
      if (request.method.toUpperCase() === 'CONNECT')
        return Promise.reject(new TransportError('other', 'CONNECT is not relayed to a backend'));
      let pool: Dispatcher;
      try {
        pool = poolFor(request); // a pool undici refuses to build (a bad origin) throws here, before any listener
      } catch (error) {
        return Promise.reject(toTransportError(error));
      }
      const exchange = new DispatchExchange(request.signal);
      // dispatch reports what it refuses (a destroyed pool, bad options) to the handler, which rejects.
      pool.dispatch(
        {
          path: request.path,
          method: request.method as Dispatcher.HttpMethod,
          headers: request.headers,
          body: request.body,
          headersTimeout: request.firstByteTimeoutMs,
          bodyTimeout: request.idleTimeoutMs,
        },
        exchange,
      );
      return exchange.response;
    },
    async close(): Promise<void> {
      const all = [...pools.values()];
      pools.clear();
      await Promise.allSettled(all.map((p) => p.destroy()));
    },
  };
}
