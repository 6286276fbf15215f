import type { GatewayResponse } from '../http/gateway-request.js';

/** The reason a stream still open at the end of the grace period is cut with (its terminal error event). */
export const SHUTDOWN_CUT: Error = new Error(
  'the gateway is shutting down: the grace period for calls in flight ended',
);

/** One call in flight, as the drain sees it. */
export interface DrainEntry {
  /**
   * Aborted with {@link SHUTDOWN_CUT} when the grace period ends while the call is in flight: its answer is
   * then cut by the gateway — a stream ends with the shutdown's terminal event, is never recovered on another
   * backend, and the backend is not blamed for it.
   */
  readonly signal: AbortSignal;
  /** The call has ended (its body was relayed to the end, however it ended). Idempotent. */
  end(): void;
}

/** What a drain did. */
export interface DrainReport {
  /** Calls in flight when the drain began. */
  readonly inFlightAtStart: number;
  /** Calls still in flight when the grace period ended (their answers were cut). */
  readonly cut: number;
  /** Calls that had not ended either when the drain gave up waiting for the cut ones. */
  readonly remaining: number;
}

/**
 * Shutdown drain of the calls in flight. Once {@link drain} has begun the engine refuses new calls (503
 * `GW_ERR_SERVICE_SHUTTING_DOWN`, `connection: close`) and readiness answers 503, while every call already
 * in flight may finish within the grace period; then the answers still open are cut — a stream ends with
 * its terminal SSE error event, never a clean end — and the host may close its connections.
 *
 * @example
 * const drain = new CallDrain();
 * const entry = drain.enter(); // per call, in the engine
 * const report = await drain.drain(30_000); // on SIGTERM / host shutdown
 */
export class CallDrain {
  private readonly open = new Map<DrainEntry, AbortController>();
  private idle: (() => void)[] = [];
  private started = false;

  /** True once the drain has begun: new calls are refused, readiness is false. */
  get draining(): boolean {
    return this.started;
  }

  /** Calls in flight now. */
  get inFlight(): number {
    return this.open.size;
  }

  /** Registers a call in flight. */
  enter(): DrainEntry {
    const cut = new AbortController();
    const entry: DrainEntry = {
      signal: cut.signal,
      end: () => {
        if (!this.open.delete(entry)) return;
        if (this.open.size === 0) for (const resolve of this.idle.splice(0)) resolve();
      },
    };
    this.open.set(entry, cut);
    return entry;
  }

  /**
   * Begins the drain (idempotent: a second call joins the same rules) and resolves when every call in flight
   * has ended, or `graceMs` has passed — then cuts what is still open and waits up to `cutWaitMs` for the cut
   * answers to end (their terminal event written).
   */
  async drain(graceMs: number, cutWaitMs = 1_000): Promise<DrainReport> {
    this.started = true;
    const inFlightAtStart = this.open.size;
    if (!(await this.idleWithin(graceMs))) {
      const open = [...this.open.values()];
      for (const cut of open) cut.abort(SHUTDOWN_CUT);
      await this.idleWithin(cutWaitMs);
      return { inFlightAtStart, cut: open.length, remaining: this.open.size };
    }
    return { inFlightAtStart, cut: 0, remaining: 0 };
  }

  /** Resolves true when no call is in flight, false when `ms` passed first. */
  private idleWithin(ms: number): Promise<boolean> {
    if (this.open.size === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.idle = this.idle.filter((w) => w !== done);
        resolve(false);
      }, ms);
      this.idle.push(done);
    });
  }
}

/**
 * A body that tells when it has ended — read to the end, failed, or given up by the host — once, after its own
 * end of call work (the engine's relay). The drain listens to it instead of wrapping it: no `then` per chunk.
 */
export const WHEN_ENDED: unique symbol = Symbol('whenEnded');

/** A body that calls the listener given to {@link WHEN_ENDED} exactly once, when it has ended. */
export interface EndingBody extends AsyncIterable<Uint8Array> {
  [WHEN_ENDED](listener: () => void): void;
}

/**
 * The response with `entry.end()` called when its body has ended — read to the end, failed, or given up by
 * the host — or at once when it has none. The body is not copied: each chunk passes through as it comes (a body
 * that tells when it ended, {@link EndingBody}, is not even wrapped).
 *
 * @example
 * return endsWith(await run(call), drain.enter());
 */
export function endsWith(response: GatewayResponse, entry: DrainEntry): GatewayResponse {
  const body = response.body;
  if (body === null) {
    entry.end();
    return response;
  }
  if (WHEN_ENDED in body) {
    (body as EndingBody)[WHEN_ENDED](() => entry.end());
    return response;
  }
  return { ...response, body: endingBody(body, entry) };
}

/** The body with `entry.end()` on its end: one `then` per chunk on the inner `next`, no async step of its own. */
function endingBody(body: AsyncIterable<Uint8Array>, entry: DrainEntry): AsyncIterable<Uint8Array> {
  const onResult = (next: IteratorResult<Uint8Array>): IteratorResult<Uint8Array> => {
    if (next.done === true) entry.end();
    return next;
  };
  const onError = (error: unknown): never => {
    entry.end();
    throw error;
  };
  return {
    [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
      const inner = body[Symbol.asyncIterator]();
      return {
        next: () => {
          try {
            return inner.next().then(onResult, onError);
          } catch (error) {
            // A `next` that threw instead of rejecting: the call has ended all the same.
            entry.end();
            return Promise.reject(error);
          }
        },
        return: async (value?: unknown) => {
          try {
            return (await inner.return?.(value)) ?? { done: true, value: undefined };
          } finally {
            entry.end();
          }
        },
      };
    },
  };
}
