import type { TransportErrorKind } from '../../ports/backend-transport.js';
import { IdleWatchdog } from '../resilience/idle-watchdog.js';

/** What {@link AttemptReader.next} gives: a body chunk, the body's end, or a heartbeat tick. */
export type AttemptRead =
  { readonly kind: 'chunk'; readonly bytes: Uint8Array } | { readonly kind: 'end' } | { readonly kind: 'tick' };

/** A body that failed: how (the terminal event's kind), and what was thrown. */
export class AttemptFailure extends Error {
  constructor(
    readonly kind: TransportErrorKind,
    override readonly cause: unknown,
  ) {
    super(`the stream failed (${kind})`);
  }
}

const STALLED = new Error('stream idle deadline reached');

/**
 * Reads one attempt's body under the idle deadline — when the backend owes a chunk for `idleTimeoutMs` the
 * attempt is aborted and the read fails with kind `idle-timeout` — and, when asked, gives a `tick` every
 * `tickMs` while the body is silent (heartbeats to the caller during a recovery). The deadline counts only
 * while a read is pending ({@link IdleWatchdog}): the time between two reads, when the caller is slow to take
 * what was read, is not the backend's silence. Every wait has a timer that is cleared when the wait ends.
 */
export class AttemptReader {
  private readonly iterator: AsyncIterator<Uint8Array>;
  private readonly watchdog: IdleWatchdog;
  private pending: Promise<IteratorResult<Uint8Array>> | undefined;
  /** The body was read to its end: there is nothing left to stop. */
  private ended = false;

  constructor(
    body: AsyncIterable<Uint8Array>,
    private readonly attempt: {
      readonly abort: (reason?: unknown) => void;
      readonly errorKind: (error: unknown) => TransportErrorKind;
    },
    idleTimeoutMs: number,
    now: () => number,
  ) {
    this.iterator = body[Symbol.asyncIterator]();
    this.watchdog = new IdleWatchdog(idleTimeoutMs, now, () => this.attempt.abort(STALLED));
  }

  /** The next chunk, the end, or (with `tickMs`) a tick after that much silence. Throws {@link AttemptFailure}. */
  async next(tickMs?: number): Promise<AttemptRead> {
    let result: IteratorResult<Uint8Array> | 'tick';
    try {
      result = tickMs === undefined ? await this.read() : await this.raced(tickMs);
    } catch (error) {
      throw this.failed(error);
    }
    if (result === 'tick') return { kind: 'tick' };
    this.received(result);
    return result.done === true ? { kind: 'end' } : { kind: 'chunk', bytes: result.value };
  }

  /**
   * The body's next read as it comes (the healthy path: no object or async step of the reader's own per read).
   * Its outcome must be handed to {@link received} or {@link failed}.
   */
  read(): Promise<IteratorResult<Uint8Array>> {
    this.watchdog.waiting();
    return (this.pending ??= this.iterator.next());
  }

  /** A {@link read} answered: the deadline stops counting (and stops for good at the body's end). */
  received(result: IteratorResult<Uint8Array>): void {
    this.pending = undefined;
    this.watchdog.received();
    if (result.done === true) {
      this.ended = true;
      this.watchdog.stop();
    }
  }

  /** A {@link read} failed: the failure to throw (`idle-timeout` when the deadline tripped it). */
  failed(error: unknown): AttemptFailure {
    this.pending = undefined;
    this.watchdog.stop();
    return new AttemptFailure(this.watchdog.idle ? 'idle-timeout' : this.attempt.errorKind(error), error);
  }

  /** The recovery path: the pending read raced against a tick (the watchdog still bounds the silence). */
  private async raced(tickMs: number): Promise<IteratorResult<Uint8Array> | 'tick'> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const tick = new Promise<'tick'>((resolve) => (timer = setTimeout(() => resolve('tick'), tickMs)));
    try {
      return await Promise.race([this.read(), tick]);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Stops the body (the attempt is abandoned). A body read to its end is left as it is: aborting a finished attempt
   * would do nothing but build the abort's `DOMException` (a stack trace) for every stream that ends well.
   */
  async close(reason?: unknown): Promise<void> {
    this.watchdog.stop();
    if (this.ended) return;
    this.attempt.abort(reason);
    const pending = this.pending;
    this.pending = undefined;
    await pending?.catch(() => undefined);
    await this.iterator.return?.().catch(() => undefined);
  }
}
