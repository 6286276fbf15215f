/** How a request ended, as far as the simulator is concerned. */
export type AttemptOutcome =
  'pending' | 'ok' | 'error' | 'reset' | 'hang' | 'cut' | 'stall' | 'malformed' | 'no-done' | 'client-aborted';

/**
 * One request the simulator saw (control requests under `/_sim/` excluded).
 *
 * Compatibility note: returned by `GET /_sim/attempts`; fields are only ever added.
 */
export interface SimAttempt {
  /** 1-based sequence number since start or the last reset. */
  readonly seq: number;
  /** Arrival time, ms since the epoch (the simulator's clock). */
  readonly timeMs: number;
  readonly method: string;
  /** Path without the query. */
  readonly path: string;
  /** Raw query string without `?`, '' when none. */
  readonly query: string;
  /** API the request was routed to (`chat`, `anthropic`…), or null. */
  readonly api: string | null;
  /** Requested base model or deployment, without any `#` fault suffix; null when none. */
  readonly model: string | null;
  readonly stream: boolean;
  /** Request headers, names lower-cased, repeated headers joined with `, `. */
  readonly headers: Readonly<Record<string, string>>;
  /** Canonical text of the fault rule(s) applied, or null. */
  fault: string | null;
  /** HTTP status sent; null while pending or when no headers were ever sent (reset, hang). */
  status: number | null;
  outcome: AttemptOutcome;
}

/** A bounded ring of attempts: the oldest entries are dropped once `capacity` is reached. */
export class AttemptLog {
  private readonly ring: SimAttempt[] = [];
  private head = 0;

  constructor(private readonly capacity: number) {}

  /** Adds an attempt, evicting the oldest when full. */
  push(attempt: SimAttempt): void {
    if (this.capacity <= 0) return;
    if (this.ring.length < this.capacity) {
      this.ring.push(attempt);
      return;
    }
    this.ring[this.head] = attempt;
    this.head = (this.head + 1) % this.capacity;
  }

  /** The attempts held, oldest first (a new array; the entries are live until their outcome is known). */
  list(): SimAttempt[] {
    if (this.head === 0) return this.ring.slice();
    return this.ring.slice(this.head).concat(this.ring.slice(0, this.head));
  }

  /** Forgets everything. */
  clear(): void {
    this.ring.length = 0;
    this.head = 0;
  }
}
