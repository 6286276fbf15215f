import type { TransportErrorKind } from '../../ports/backend-transport.js';
import { WHEN_ENDED, type EndingBody } from '../lifecycle/call-drain.js';
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
export function relayBody(options: RelayOptions): EndingBody {
  // Single use: every call of [Symbol.asyncIterator] returns the same iterator (a second relay over the
  // same backend body would finish the call twice).
  const relay = new Relay(options);
  return { [Symbol.asyncIterator]: () => relay, [WHEN_ENDED]: (listener) => (relay.ended = listener) };
}

const END: IteratorResult<Uint8Array> = Object.freeze({ done: true, value: undefined });
const NO_SOURCE: AsyncIterator<Uint8Array> = { next: () => Promise.resolve(END) };

/**
 * Where a relay is: not started; open; `completing` — the source ended and the filter's held bytes went out;
 * `failed` — the terminal event went out and the next `next` throws; `done` — finished.
 */
type RelayState = 'idle' | 'open' | 'completing' | 'failed' | 'done';

/**
 * The relay as a plain iterator: each `next` is the source's `next` and one `then` (no generator and no async
 * step of its own per chunk; a stream is hundreds of chunks). The call finishes when the host asks past the end,
 * past the terminal event of a failure, or stops reading.
 */
class Relay implements AsyncIterator<Uint8Array> {
  /** The source's iterator, taken when the host first reads. */
  private source: AsyncIterator<Uint8Array> = NO_SOURCE;
  private readonly watchdog: IdleWatchdog | undefined;
  private state: RelayState = 'idle';
  private finished = false;
  private shutdownCut = false;
  /** What the source threw (the `failed` state). */
  private failure: unknown;
  private pending: Promise<unknown> | undefined;
  /** Told once the call finished (the shutdown drain's count of calls in flight), after `finish`. */
  ended: (() => void) | undefined;

  constructor(private readonly options: RelayOptions) {
    const { idleTimeoutMs, now } = options;
    // The idle deadline measures the backend's silence only: it counts while the relay waits for the backend's
    // next chunk, not while it waits for a slow caller to pull the last one.
    this.watchdog =
      idleTimeoutMs === undefined
        ? undefined
        : new IdleWatchdog(idleTimeoutMs, now, () => options.abort(new Error('stream idle deadline reached')));
  }

  next(): Promise<IteratorResult<Uint8Array>> {
    switch (this.state) {
      case 'done':
        return Promise.resolve(END);
      case 'completing':
        this.end('complete', undefined);
        return Promise.resolve(END);
      case 'failed': {
        const failure = this.failure; // end() forgets it
        this.end('cut', failure);
        return Promise.reject(failure);
      }
      case 'idle':
        this.start();
    }
    return this.pull();
  }

  /** The host stopped reading: the backend call is stopped and the call finishes (caller aborted). */
  async return(): Promise<IteratorResult<Uint8Array>> {
    await this.pending?.catch(() => undefined);
    const state = this.state;
    if (state === 'done') return END;
    if (state === 'failed') {
      this.end('cut', this.failure);
      return END;
    }
    // Stopped mid-stream: the source is closed first. Before anything was read (the caller left between the
    // headers and the body) it is only aborted — and the call still finishes, so the capacity lease, the quota
    // reservation and the usage record are never left behind.
    this.state = 'done';
    if (state === 'open') await this.source.return?.().catch(() => undefined);
    this.end('caller_aborted', undefined);
    return END;
  }

  private start(): void {
    const { shutdown } = this.options;
    this.state = 'open';
    this.source = this.options.source[Symbol.asyncIterator]();
    shutdown?.addEventListener('abort', this.onShutdown, { once: true });
    if (shutdown?.aborted === true) this.onShutdown();
  }

  /** The drain's cut: stops the source (a recovering stream then never recovers) and names the shutdown. */
  private readonly onShutdown = (): void => {
    this.shutdownCut = true;
    this.options.abort(this.options.shutdown?.reason);
  };

  private pull(): Promise<IteratorResult<Uint8Array>> {
    this.watchdog?.waiting();
    let next: Promise<IteratorResult<Uint8Array>>;
    try {
      next = this.source.next().then(this.onRead, this.onError);
    } catch (error) {
      next = new Promise((resolve) => resolve(this.onError(error)));
    }
    this.pending = next;
    return next;
  }

  private readonly onRead = (
    read: IteratorResult<Uint8Array>,
  ): IteratorResult<Uint8Array> | Promise<IteratorResult<Uint8Array>> => {
    this.pending = undefined;
    this.watchdog?.received();
    const { filter, observe } = this.options;
    try {
      if (read.done === true) return this.complete();
      const chunk = filter === undefined ? read.value : filter.push(read.value);
      // Nothing to forward yet (a line held by the filter): read on.
      if (chunk === undefined) return this.pull();
      observe?.(chunk);
      // A read the filter left as it was goes on as the source's own result (no object of the relay's own).
      return chunk === read.value ? read : { done: false, value: chunk };
    } catch (error) {
      // Our own filter or observer failed, not the source: the backend's body is closed, not left unread.
      void this.source.return?.().catch(() => undefined);
      return this.onError(error);
    }
  };

  /** The source ended: the filter's held bytes go out, and the call finishes on the next `next`. */
  private complete(): IteratorResult<Uint8Array> {
    const rest = this.options.filter?.end();
    if (rest === undefined) {
      this.end('complete', undefined);
      return END;
    }
    this.options.observe?.(rest);
    this.state = 'completing';
    return { done: false, value: rest };
  }

  private readonly onError = (error: unknown): IteratorResult<Uint8Array> => {
    this.pending = undefined;
    const { options } = this;
    if (options.callerSignal.aborted) {
      this.end('caller_aborted', undefined);
      return END;
    }
    if (!options.sse) {
      this.end('cut', error);
      throw error;
    }
    // The terminal event goes out first; the next `next` throws what the source threw.
    const kind = endKind(this.shutdownCut, this.watchdog, () => options.errorKind(error));
    this.state = 'failed';
    this.failure = error;
    return { done: false, value: terminalErrorEvent(options.shape, kind, options.requestId) };
  };

  /**
   * Finishes the call: stops the backend call unless the body completed or was cut. Once: a `finish` that throws
   * on completion fails the relay, and the `next` after would end it again (finish twice, the drain told twice).
   */
  private end(outcome: RelayOutcome, error: unknown): void {
    this.state = 'done';
    if (this.finished) return;
    this.finished = true;
    this.failure = undefined;
    this.options.shutdown?.removeEventListener('abort', this.onShutdown);
    this.watchdog?.stop();
    if (outcome === 'caller_aborted') this.options.abort(new Error('caller went away'));
    try {
      this.options.finish(outcome, error);
    } finally {
      this.ended?.();
    }
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
