/**
 * Options of the `PriorityScheduler`. `shared/config/scheduling-schema.ts` validates the same shape
 * from configuration (its parsed type is assignable to {@link SchedulerOptions}) and takes its defaults
 * from {@link DEFAULT_SCHEDULER_OPTIONS}, so the defaults live in one place.
 */

/** Settings of one priority level. Every field is optional. */
export interface LevelPolicy {
  /** Slots per pool that only this level may take (the seed's "priority workers"). Default 0. */
  readonly reservedSlots?: number;
  /** Waiting requests of this level per pool before new ones are rejected. Default: `maxQueueDepth`. */
  readonly maxQueueDepth?: number;
  /**
   * Spill-over policy: group id → ms a request of this level must have waited before it may use that
   * group (0 = at once). Groups not listed are never used by this level; the key `'*'` stands for every
   * group not listed. Omitted → every group at once.
   *
   * @example
   * { ptu: 0, payg: 0 }          // interactive: spill to PAYG at once
   * { ptu: 0 }                   // batch: wait for PTU
   * { ptu: 0, '*': 60_000 }      // batch: PTU, or anything else after waiting a minute
   */
  readonly groups?: Readonly<Record<string, number>>;
}

/**
 * Options of the scheduler; every field has a default ({@link DEFAULT_SCHEDULER_OPTIONS}).
 *
 * @example
 * const options: SchedulerOptions = {
 *   levels: 3,
 *   agingStepMs: 30_000,
 *   perLevel: { '1': { reservedSlots: 2 }, '3': { groups: { ptu: 0 } } },
 * };
 */
export interface SchedulerOptions {
  /** Number of priority levels; 1 is most urgent. Default 3. */
  readonly levels?: number;
  /** Level of a request that names none. Default 2. */
  readonly defaultLevel?: number;
  /**
   * A waiting request's effective level improves by one per this many ms of waiting; 0 disables aging. Default 30 000.
   */
  readonly agingStepMs?: number;
  /**
   * A user holding more than this share (0–1] of a pool's leases goes behind other users of the same level; 1 disables.
   * Default 0.25.
   */
  readonly userShareRatio?: number;
  /** A lease never released is reclaimed after this many ms (max call duration + margin). Default 600 000. */
  readonly leaseTtlMs?: number;
  /** Default per-level queue bound per pool. Default 1 000. */
  readonly maxQueueDepth?: number;
  /** `retry-after` for a full queue when no estimate is possible (or estimation is off), in ms. Default 1 000. */
  readonly retryAfterMs?: number;
  /** Upper bound of an estimated `retry-after`, in ms. Default 60 000. */
  readonly maxRetryAfterMs?: number;
  /** Estimate `retry-after` from recent lease durations and queue depth. Default true. */
  readonly estimateRetryAfter?: boolean;
  /** Per-level settings keyed by level (`"1"`, `"2"`, …). Default `{}`. */
  readonly perLevel?: Readonly<Record<string, LevelPolicy>>;
}

/** The defaults, also used by the config schema. */
export const DEFAULT_SCHEDULER_OPTIONS = {
  levels: 3,
  defaultLevel: 2,
  agingStepMs: 30_000,
  userShareRatio: 0.25,
  leaseTtlMs: 600_000,
  maxQueueDepth: 1_000,
  retryAfterMs: 1_000,
  maxRetryAfterMs: 60_000,
  estimateRetryAfter: true,
} as const;

/** Options with defaults applied and per-level settings indexed by level (index 0 unused). */
export interface ResolvedSchedulerOptions {
  readonly levels: number;
  readonly defaultLevel: number;
  readonly agingStepMs: number;
  readonly userShareRatio: number;
  readonly leaseTtlMs: number;
  readonly retryAfterMs: number;
  readonly maxRetryAfterMs: number;
  readonly estimateRetryAfter: boolean;
  readonly reservedSlots: readonly number[];
  readonly maxQueueDepth: readonly number[];
  /** `undefined` at a level = every group at once. */
  readonly groups: ReadonlyArray<Readonly<Record<string, number>> | undefined>;
}

function check(condition: boolean, message: string): void {
  if (!condition) throw new RangeError(`Invalid scheduler option: ${message}`);
}

function isNonNegativeInteger(value: number): boolean {
  return Number.isInteger(value) && value >= 0;
}

/**
 * Applies defaults and validates; throws `RangeError` on an invalid option (configuration is validated
 * earlier by the zod schema, so this only trips on programming errors).
 *
 * @example
 * resolveSchedulerOptions({ levels: 4 }).defaultLevel; // 2
 */
export function resolveSchedulerOptions(options: SchedulerOptions = {}): ResolvedSchedulerOptions {
  const d = DEFAULT_SCHEDULER_OPTIONS;
  const levels = options.levels ?? d.levels;
  const defaultLevel = options.defaultLevel ?? Math.min(d.defaultLevel, levels);
  const agingStepMs = options.agingStepMs ?? d.agingStepMs;
  const userShareRatio = options.userShareRatio ?? d.userShareRatio;
  const leaseTtlMs = options.leaseTtlMs ?? d.leaseTtlMs;
  const defaultDepth = options.maxQueueDepth ?? d.maxQueueDepth;
  const retryAfterMs = options.retryAfterMs ?? d.retryAfterMs;
  const maxRetryAfterMs = options.maxRetryAfterMs ?? d.maxRetryAfterMs;
  check(Number.isInteger(levels) && levels >= 1 && levels <= 100, 'levels must be an integer in 1..100');
  check(Number.isInteger(defaultLevel) && defaultLevel >= 1 && defaultLevel <= levels, 'defaultLevel must be a level');
  check(isNonNegativeInteger(agingStepMs), 'agingStepMs must be a non-negative integer');
  check(userShareRatio > 0 && userShareRatio <= 1, 'userShareRatio must be in (0, 1]');
  check(Number.isInteger(leaseTtlMs) && leaseTtlMs > 0, 'leaseTtlMs must be a positive integer');
  check(isNonNegativeInteger(defaultDepth), 'maxQueueDepth must be a non-negative integer');
  check(
    isNonNegativeInteger(retryAfterMs) && isNonNegativeInteger(maxRetryAfterMs),
    'retryAfterMs and maxRetryAfterMs must be non-negative integers',
  );

  const reservedSlots: number[] = [0];
  const maxQueueDepth: number[] = [0];
  const groups: Array<Readonly<Record<string, number>> | undefined> = [undefined];
  const perLevel = options.perLevel ?? {};
  for (const key of Object.keys(perLevel)) {
    const level = Number(key);
    check(
      Number.isInteger(level) && level >= 1 && level <= levels,
      `perLevel key "${key}" is not a level in 1..${levels}`,
    );
  }
  for (let level = 1; level <= levels; level += 1) {
    const policy = perLevel[String(level)] ?? {};
    const reserved = policy.reservedSlots ?? 0;
    const depth = policy.maxQueueDepth ?? defaultDepth;
    check(isNonNegativeInteger(reserved), `perLevel.${level}.reservedSlots must be a non-negative integer`);
    check(isNonNegativeInteger(depth), `perLevel.${level}.maxQueueDepth must be a non-negative integer`);
    for (const [groupId, afterMs] of Object.entries(policy.groups ?? {})) {
      check(isNonNegativeInteger(afterMs), `perLevel.${level}.groups.${groupId} must be a non-negative integer (ms)`);
    }
    reservedSlots.push(reserved);
    maxQueueDepth.push(depth);
    groups.push(policy.groups === undefined ? undefined : { ...policy.groups });
  }
  return {
    levels,
    defaultLevel,
    agingStepMs,
    userShareRatio,
    leaseTtlMs,
    retryAfterMs,
    maxRetryAfterMs,
    estimateRetryAfter: options.estimateRetryAfter ?? d.estimateRetryAfter,
    reservedSlots,
    maxQueueDepth,
    groups,
  };
}
