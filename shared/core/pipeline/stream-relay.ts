import type { TransportErrorKind } from '../../ports/backend-transport.js';
import { IdleWatchdog } from '../resilience/idle-watchdog.js';
import type { ApiShape } from '../routing/request-target.js';

/** How a relayed response body ended. */
export type RelayOutcome = 'complete' | 'cut' | 'caller_aborted';

/** Options of {@link relayBody}. */
export interface RelayOptions {
  /** The backend body. */
  readonly source: AsyncIterable<Uint8Array>;
  /** Classifies what the body throws (a stall vs a cut). */
  readonly errorKind: (error: unknown) => TransportErrorKind;
  /** True for `text/event-stream` responses: a failure then ends with a terminal SSE error event. */
  readonly sse: boolean;
  readonly shape: ApiShape;
  readonly requestId: string;
  /** Sees every chunk that reaches the caller (usage metering). Must not throw. */
  readonly observe?: ((chunk: Uint8Array) => void) | undefined;
  /**
   * Meters (and may rewrite) the byte stream: each backend chunk goes in, what comes out goes to the
   * caller (e.g. the injected usage-only chunk removed); `end` returns what it still held.
   */
  readonly filter?: { push(chunk: Uint8Array): Uint8Array | undefined; end(): Uint8Array | undefined } | undefined;
  /** Stops the backend call (caller went away). */
  readonly abort: (reason?: unknown) => void;
  /** The caller's signal: a backend error after the caller left is the caller's abort, not a cut. */
  readonly callerSignal: AbortSignal;
  /**
   * Aborted when the shutdown drain's grace period ends: the relay stops the backend call and ends the stream
   * with the shutdown's terminal event (the gateway cut it, not the backend).
   */
  readonly shutdown?: AbortSignal | undefined;
  /**
   * Longest gap between two body chunks; a longer silence aborts the backend call (a stalled stream).
   * Undefined when the source keeps its own idle deadline (a recovering stream).
   */
  readonly idleTimeoutMs: number | undefined;
  /** Monotonic milliseconds (the engine's clock). */
  readonly now: () => number;
  /** Called exactly once when the body ends, however it ends. */
  readonly finish: (outcome: RelayOutcome, error: unknown) => void;
}

/**
 * Relays a backend body to the caller. After the first byte nothing is retried: when the backend
 * fails or stalls mid-stream, an SSE caller gets a terminal error event in its provider's error shape
 * and the iterator then throws, so the host ends the connection abnormally — never a clean end that
 * looks like a complete answer. When the caller goes away (the host returns from the iterator), the
 * backend call is aborted so it stops producing tokens.
 */
export function relayBody(options: RelayOptions): AsyncIterable<Uint8Array> {
  // Single use: every call of [Symbol.asyncIterator] returns the same iterator (a second relay over the
  // same backend body would finish the call twice).
  let iterator: AsyncIterator<Uint8Array> | undefined;
  return {
    [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
      if (iterator !== undefined) return iterator;
      const inner = relay(options);
      let started = false;
      iterator = {
        next: () => {
          started = true;
          return inner.next();
        },
        // A host that gives up before reading anything (the caller left between the headers and the body)
        // would leave a generator that never started — and its `finally` never runs. Finish it here, so the
        // capacity lease, the quota reservation and the usage record are never left behind.
        return: async () => {
          if (!started) {
            started = true;
            options.abort(new Error('caller went away'));
            options.finish('caller_aborted', undefined);
            return { value: undefined, done: true };
          }
          return inner.return(undefined);
        },
      };
      return iterator;
    },
  };
}

async function* relay(options: RelayOptions): AsyncGenerator<Uint8Array> {
  let outcome: RelayOutcome = 'caller_aborted';
  let failure: unknown;
  const { source, observe, filter, now, idleTimeoutMs } = options;
  // The idle deadline measures the backend's silence only: it counts while the relay waits for the backend's
  // next chunk, not while it waits for a slow caller to pull the last one.
  const watchdog =
    idleTimeoutMs === undefined
      ? undefined
      : new IdleWatchdog(idleTimeoutMs, now, () => options.abort(new Error('stream idle deadline reached')));
  // The drain's cut: stops the source (a recovering stream then never recovers) and names the shutdown.
  let shutdownCut = false;
  const onShutdown = (): void => {
    shutdownCut = true;
    options.abort(options.shutdown?.reason);
  };
  options.shutdown?.addEventListener('abort', onShutdown, { once: true });
  try {
    if (options.shutdown?.aborted === true) onShutdown();
    watchdog?.waiting();
    for await (const input of source) {
      watchdog?.received();
      const chunk = filter === undefined ? input : filter.push(input);
      if (chunk !== undefined) {
        if (observe !== undefined) observe(chunk);
        yield chunk;
      }
      watchdog?.waiting();
    }
    const rest = filter?.end();
    if (rest !== undefined) {
      observe?.(rest);
      yield rest;
    }
    outcome = 'complete';
  } catch (error) {
    if (options.callerSignal.aborted) return;
    outcome = 'cut';
    failure = error;
    if (options.sse)
      yield terminalErrorEvent(
        options.shape,
        endKind(shutdownCut, watchdog, () => options.errorKind(error)),
        options.requestId,
      );
    throw error;
  } finally {
    options.shutdown?.removeEventListener('abort', onShutdown);
    watchdog?.stop();
    if (outcome === 'caller_aborted') options.abort(new Error('caller went away'));
    options.finish(outcome, failure);
  }
}

function endKind(
  shutdownCut: boolean,
  watchdog: IdleWatchdog | undefined,
  kind: () => TransportErrorKind,
): StreamEndKind {
  if (shutdownCut) return 'shutdown';
  return watchdog?.idle === true ? 'idle-timeout' : kind();
}

/** Why a stream ended early: how its backend failed, or `shutdown` (the drain's grace period ended). */
export type StreamEndKind = TransportErrorKind | 'shutdown';

const encoder = new TextEncoder();

/**
 * The terminal SSE event for a stream that failed after its first byte, in the provider's own error
 * shape so SDKs raise it as an error (OpenAI: `data: {"error":…}`; Anthropic: `event: error`; Gemini:
 * `data: {"error":{code,message,status}}`). A stream cut by the shutdown drain names the shutdown
 * (`GW_ERR_SERVICE_SHUTTING_DOWN`: retry the call, another instance will take it).
 */
export function terminalErrorEvent(shape: ApiShape, kind: StreamEndKind, requestId: string): Uint8Array {
  const { code, message, type, status } = TERMINAL[kind === 'shutdown' || kind === 'idle-timeout' ? kind : 'cut'];
  let text: string;
  if (shape === 'anthropic') {
    const error = { type: 'error', error: { type: 'api_error', message, code, request_id: requestId } };
    text = `event: error\ndata: ${JSON.stringify(error)}\n\n`;
  } else if (shape === 'gemini') {
    const error = { code: status, message, status: 'UNAVAILABLE', details: [{ code, request_id: requestId }] };
    text = `data: ${JSON.stringify({ error })}\n\n`;
  } else {
    text = `data: ${JSON.stringify({ error: { message, type, code, param: null, request_id: requestId } })}\n\n`;
  }
  return encoder.encode(text);
}

const TERMINAL = {
  'idle-timeout': {
    code: 'GW_ERR_STREAM_IDLE_TIMEOUT',
    message: 'The backend stream stalled; the answer is incomplete.',
    type: 'timeout_error',
    status: 504,
  },
  cut: {
    code: 'GW_ERR_STREAM_INTERRUPTED',
    message: 'The backend stream ended before the answer was complete.',
    type: 'server_error',
    status: 502,
  },
  shutdown: {
    code: 'GW_ERR_SERVICE_SHUTTING_DOWN',
    message: 'The gateway is shutting down and ended the stream; the answer is incomplete. Retry the call.',
    type: 'server_error',
    status: 503,
  },
} as const;
