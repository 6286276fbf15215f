/** Exponential backoff bounds. */
export interface BackoffOptions {
  /** Ceiling of the first retry's delay. */
  readonly baseDelayMs: number;
  /** Ceiling of any delay. */
  readonly maxDelayMs: number;
}

/**
 * Full-jitter exponential backoff: a delay drawn uniformly from `[0, min(maxDelayMs, baseDelayMs × 2^retry))`.
 * `retry` is 0 for the first retry. Full jitter spreads retries of many callers so that they do not
 * arrive in waves.
 *
 * @example
 * backoffDelayMs(2, { baseDelayMs: 200, maxDelayMs: 5_000 }, Math.random) // somewhere in [0, 800)
 */
export function backoffDelayMs(retry: number, options: BackoffOptions, random: () => number): number {
  const ceilingMs = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** Math.max(0, Math.min(retry, 52)));
  const r = Math.min(Math.max(random(), 0), 1);
  return Math.floor(r * ceilingMs);
}

/** Limits of one call's attempts. */
export interface AttemptBudgetOptions extends BackoffOptions {
  /** Attempts (first try included) one call may make across all backends. */
  readonly maxAttempts: number;
  /** Time from the call's start after which no new attempt starts. */
  readonly totalBudgetMs: number;
}

/**
 * Counts one call's attempts against an attempt budget and a total time budget, and gives the
 * backoff before a repeated attempt. Failing over to another backend needs no delay; backoff is for
 * retrying the same backend or starting another pass over the plan.
 *
 * @example
 * const budget = new AttemptBudget(options, clock.now());
 * while (budget.canAttempt(clock.now())) {
 *   budget.recordAttempt();
 *   // … send; on a retryable failure: await wait(budget.nextDelayMs(random, clock.now()));
 * }
 */
export class AttemptBudget {
  private attemptsMade = 0;

  constructor(
    private readonly options: AttemptBudgetOptions,
    /** When the call started. */
    readonly startedAtMs: number,
  ) {}

  /** Attempts recorded so far. */
  get attempts(): number {
    return this.attemptsMade;
  }

  /** True when another attempt may start at `nowMs`. */
  canAttempt(nowMs: number): boolean {
    return this.attemptsMade < this.options.maxAttempts && nowMs < this.startedAtMs + this.options.totalBudgetMs;
  }

  /** Counts an attempt that is about to start. */
  recordAttempt(): void {
    this.attemptsMade += 1;
  }

  /** Time budget left at `nowMs`, never negative. */
  remainingMs(nowMs: number): number {
    return Math.max(0, this.startedAtMs + this.options.totalBudgetMs - nowMs);
  }

  /**
   * Full-jitter delay before the next attempt, growing with the attempts made so far (none before the
   * first attempt). With `nowMs`, cut to the time budget left.
   */
  nextDelayMs(random: () => number, nowMs?: number): number {
    if (this.attemptsMade === 0) return 0;
    const delayMs = backoffDelayMs(this.attemptsMade - 1, this.options, random);
    return nowMs === undefined ? delayMs : Math.min(delayMs, this.remainingMs(nowMs));
  }
}
