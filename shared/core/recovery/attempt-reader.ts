import type { TransportErrorKind } from '../../ports/backend-transport.js';

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
 * Reads one attempt's body under the idle deadline — a silence of `idleTimeoutMs` between two chunks aborts
 * the attempt, and the read fails with kind `idle-timeout` — and, when asked, gives a `tick` every
 * `tickMs` while the body is silent (heartbeats to the caller during a recovery). Every wait has a timer
 * that is cleared when the wait ends.
 */
export class AttemptReader {
  private readonly iterator: AsyncIterator<Uint8Array>;
  private pending: Promise<IteratorResult<Uint8Array>> | undefined;
  private lastChunkAt: number;
  private stalled = false;
  private watchdog: ReturnType<typeof setTimeout> | undefined;

  constructor(
    body: AsyncIterable<Uint8Array>,
    private readonly attempt: {
      readonly abort: (reason?: unknown) => void;
      readonly errorKind: (error: unknown) => TransportErrorKind;
    },
    private readonly idleTimeoutMs: number,
    private readonly now: () => number,
  ) {
    this.iterator = body[Symbol.asyncIterator]();
    this.lastChunkAt = now();
  }

  /** The next chunk, the end, or (with `tickMs`) a tick after that much silence. Throws {@link AttemptFailure}. */
  async next(tickMs?: number): Promise<AttemptRead> {
    for (;;) {
      if (this.now() - this.lastChunkAt >= this.idleTimeoutMs) this.stall();
      this.pending ??= this.iterator.next();
      let result: IteratorResult<Uint8Array> | 'tick';
      try {
        result = tickMs === undefined ? await this.watched() : await this.raced(tickMs);
      } catch (error) {
        this.pending = undefined;
        throw new AttemptFailure(this.stalled ? 'idle-timeout' : this.attempt.errorKind(error), error);
      }
      if (result === 'tick') {
        if (this.stalled) throw new AttemptFailure('idle-timeout', STALLED);
        return { kind: 'tick' };
      }
      this.pending = undefined;
      if (result.done === true) {
        this.stopWatchdog();
        return { kind: 'end' };
      }
      this.lastChunkAt = this.now();
      return { kind: 'chunk', bytes: result.value };
    }
  }

  /**
   * The hot path (no heartbeats): one lazily re-armed watchdog per body rather than a timer per chunk — it
   * fires, checks the silence, and either aborts the attempt (the pending read then fails) or sleeps on.
   */
  private watched(): Promise<IteratorResult<Uint8Array>> {
    if (this.watchdog === undefined) {
      const check = (): void => {
        const silentMs = this.now() - this.lastChunkAt;
        if (silentMs >= this.idleTimeoutMs) {
          this.watchdog = undefined;
          this.stall();
        } else this.watchdog = setTimeout(check, this.idleTimeoutMs - silentMs);
      };
      this.watchdog = setTimeout(check, Math.max(1, this.idleTimeoutMs - (this.now() - this.lastChunkAt)));
    }
    return this.pending!;
  }

  /** The recovery path: the next read raced against a tick, or the idle deadline if that comes first. */
  private async raced(tickMs: number): Promise<IteratorResult<Uint8Array> | 'tick'> {
    this.stopWatchdog();
    const silentMs = this.now() - this.lastChunkAt;
    const waitMs = Math.max(1, Math.min(this.idleTimeoutMs - silentMs, tickMs));
    let timer: ReturnType<typeof setTimeout> | undefined;
    const tick = new Promise<'tick'>((resolve) => (timer = setTimeout(() => resolve('tick'), waitMs)));
    try {
      const result = await Promise.race([this.pending!, tick]);
      if (result === 'tick' && this.now() - this.lastChunkAt >= this.idleTimeoutMs) {
        this.stall();
        await this.pending!.catch(() => undefined);
      }
      return result;
    } finally {
      clearTimeout(timer);
    }
  }

  private stopWatchdog(): void {
    clearTimeout(this.watchdog);
    this.watchdog = undefined;
  }

  /** Stops the body (the attempt is abandoned). */
  async close(reason?: unknown): Promise<void> {
    this.stopWatchdog();
    this.attempt.abort(reason);
    const pending = this.pending;
    this.pending = undefined;
    await pending?.catch(() => undefined);
    await this.iterator.return?.().catch(() => undefined);
  }

  private stall(): void {
    this.stopWatchdog();
    if (this.stalled) return;
    this.stalled = true;
    this.attempt.abort(STALLED);
  }
}
