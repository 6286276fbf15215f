/**
 * Event-loop turns of I/O after the deadline passed before a stall is declared: one reads the bytes already in
 * the socket, the next those a backend starved with the gateway sent in the first (measured: the slow-reader e2e
 * with recovery on tripped with one turn — backend, gateway and caller share a process there; ADR 0048).
 */
export const CONFIRM_TURNS = 2;

/**
 * The idle deadline of one response body: calls `onIdle` once when the backend has owed the gateway a chunk
 * for `limitMs`. Only the time the backend owes bytes counts — from {@link waiting} (the gateway asked for the
 * next chunk) to {@link received} (it came). The time the gateway spends handing a chunk to a caller that reads
 * slowly (its socket drains; the relay is suspended until the caller pulls) is the caller's, not the backend's
 * silence, and never trips the deadline.
 *
 * One timer per body, re-armed lazily rather than per chunk: when it fires it checks how long the backend has
 * owed a chunk, and either calls `onIdle` or sleeps for the rest of the window; when nothing is owed it stops,
 * and the next {@link waiting} arms it again. {@link stop} clears it. The deadline is confirmed after two turns
 * of I/O ({@link CONFIRM_TURNS}), so a process that was starved of CPU does not mistake its own pause for the
 * backend's silence: the first turn reads what already waits in the socket; the second, what a backend starved
 * together with the gateway (on the same host or in the same process) sends once the CPU is back — its queued
 * bytes leave its socket in the first turn and reach ours in the next.
 *
 * @example
 * const watchdog = new IdleWatchdog(30_000, () => clock.monotonicMs(), () => attempt.abort(STALLED));
 * watchdog.waiting(); const next = await body.next(); watchdog.received();
 * // … hand the chunk to the caller (not counted) …
 * watchdog.stop(); // the body ended
 */
export class IdleWatchdog {
  private owedSince: number | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private fired = false;
  private stopped = false;

  constructor(
    private readonly limitMs: number,
    private readonly now: () => number,
    private readonly onIdle: () => void,
  ) {}

  /** True once the deadline passed (`onIdle` was called). */
  get idle(): boolean {
    return this.fired;
  }

  /** A read from the backend begins: from now the backend owes a chunk (no-op while one is already owed). */
  waiting(): void {
    if (this.fired || this.stopped || this.owedSince !== undefined) return;
    this.owedSince = this.now();
    this.timer ??= setTimeout(this.check, this.limitMs);
  }

  /** A chunk (or the body's end) arrived: nothing is owed until the next {@link waiting}. */
  received(): void {
    this.owedSince = undefined;
  }

  /** How long the backend has owed a chunk, ms (0 when nothing is owed). */
  owedMs(): number {
    return this.owedSince === undefined ? 0 : this.now() - this.owedSince;
  }

  /** Clears the timer (the body ended or was abandoned); the watchdog never fires after this. */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.owedSince = undefined;
  }

  private readonly check = (): void => {
    this.timer = undefined;
    if (this.owedSince === undefined) return;
    const owedMs = this.now() - this.owedSince;
    if (owedMs < this.limitMs) {
      this.timer = setTimeout(this.check, this.limitMs - owedMs);
      return;
    }
    // Timers run before I/O in an event loop turn: after the process was starved (a loaded machine, a long GC
    // pause) the chunk may be waiting in the socket already, or be one turn away. Decide after that I/O.
    setImmediate(this.confirm, CONFIRM_TURNS);
  };

  private readonly confirm = (turns: number): void => {
    // A chunk came meanwhile: nothing is owed, or a new wait began (its `waiting()` armed a timer).
    if (this.stopped || this.fired || this.owedSince === undefined) return;
    if (this.now() - this.owedSince < this.limitMs) return;
    if (turns > 1) {
      setImmediate(this.confirm, turns - 1);
      return;
    }
    this.fired = true;
    this.owedSince = undefined;
    this.onIdle();
  };
}
