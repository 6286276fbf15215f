/** One change of the count of requests in progress. */
export interface ConcurrencySample {
  /** `performance.now()` of the change. */
  readonly atMs: number;
  readonly inFlight: number;
}

/**
 * Counts requests in progress at one or more simulated backends — give the same meter to every backend of
 * a pool to see what the pool as a whole takes at once. A request counts from its arrival until its
 * response has been handed to the socket (or the socket closed), which lies inside the gateway's lease for
 * the call: a count above the pool's capacity is a real over-admission, not a measuring artefact.
 *
 * @example
 * const meter = new ConcurrencyMeter();
 * const a = await startSimulator({ name: 'a', meter });
 * // … load …
 * meter.peak; // most requests ever in progress at once
 */
export class ConcurrencyMeter {
  private current = 0;
  private highest = 0;
  private readonly log: ConcurrencySample[] = [];

  constructor(private readonly maxSamples = 200_000) {}

  /** Requests in progress now. */
  get inFlight(): number {
    return this.current;
  }

  /** The most requests in progress at once since the meter was made. */
  get peak(): number {
    return this.highest;
  }

  /** A request arrived; returns the function that counts it out (idempotent). */
  enter(): () => void {
    this.change(1);
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.change(-1);
    };
  }

  /** The most requests in progress at once between two `performance.now()` readings. */
  peakBetween(fromMs: number, toMs: number): number {
    let peak = 0;
    let before = 0;
    for (const sample of this.log) {
      if (sample.atMs < fromMs) before = sample.inFlight;
      else if (sample.atMs <= toMs) peak = Math.max(peak, sample.inFlight);
    }
    return Math.max(peak, before);
  }

  /** Every change so far (bounded to the most recent `maxSamples`). */
  samples(): readonly ConcurrencySample[] {
    return this.log;
  }

  private change(delta: number): void {
    this.current += delta;
    this.highest = Math.max(this.highest, this.current);
    if (this.log.length >= this.maxSamples) this.log.splice(0, this.log.length - this.maxSamples + 1);
    this.log.push({ atMs: performance.now(), inFlight: this.current });
  }
}
