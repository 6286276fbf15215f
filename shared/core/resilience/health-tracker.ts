import type { Clock } from '../clock.js';
import type {
  BackendHealth,
  BackendHealthStore,
  BackendProbeRecord,
  BreakerStateName,
} from '../../ports/backend-health-store.js';
import {
  acquireCircuitBreaker,
  circuitBreakerAvailableAtMs,
  closedCircuitBreaker,
  DEFAULT_CIRCUIT_BREAKER_OPTIONS,
  recordCircuitBreakerFailure,
  recordCircuitBreakerSuccess,
  releaseCircuitBreakerTrial,
  tripCircuitBreaker,
  type CircuitBreakerOptions,
  type CircuitBreakerState,
} from './circuit-breaker.js';

/** Tuning of a {@link HealthTracker}. Replace at run time with {@link HealthTracker.setOptions}. */
export interface HealthTrackerOptions {
  readonly breaker: CircuitBreakerOptions;
  /** A snapshot older than this triggers a background re-read of the store. */
  readonly cacheTtlMs: number;
  /** Weight of the newest sample in the latency EWMA, 0..1. */
  readonly latencyEwmaAlpha: number;
  /** Consecutive failed probes that open a closed breaker; 0 = probes never open it. */
  readonly probeFailureThreshold: number;
  /** A longer cooling is written to the store only when it extends the last written one by more than this. */
  readonly coolingWriteSlackMs: number;
}

/** Defaults of {@link HealthTrackerOptions}. */
export const DEFAULT_HEALTH_TRACKER_OPTIONS: HealthTrackerOptions = {
  breaker: DEFAULT_CIRCUIT_BREAKER_OPTIONS,
  cacheTtlMs: 1_000,
  latencyEwmaAlpha: 0.3,
  probeFailureThreshold: 3,
  coolingWriteSlackMs: 1_000,
};

/** What the hot path needs to know about one backend, computed without I/O. */
export interface BackendHealthView {
  readonly backendId: string;
  /** Effective breaker state: an open breaker whose interval has passed reads as `half-open`. */
  readonly state: BreakerStateName;
  /** True when {@link HealthTracker.tryAcquire} would grant an attempt now. */
  readonly usable: boolean;
  /** True when the breaker is not closed and the one trial call is available now. */
  readonly trialAvailable: boolean;
  /** When the backend becomes usable (≤ now when it is). */
  readonly availableAtMs: number;
  /** Set while the backend is cooling (Retry-After). */
  readonly coolingUntilMs?: number;
  /** Set while the breaker is open. */
  readonly openUntilMs?: number;
  readonly consecutiveOpens: number;
  /** EWMA of real call latency (time to response headers). */
  readonly latencyEwmaMs?: number;
  readonly lastProbe?: BackendProbeRecord;
}

/** The answer of {@link HealthTracker.tryAcquire}. */
export type HealthAcquisition =
  | { readonly granted: true; /** This attempt is the breaker's half-open trial. */ readonly trial: boolean }
  | { readonly granted: false; readonly reason: 'open' | 'trial-in-flight' | 'cooling'; readonly retryAtMs: number };

/** A backend became usable or stopped being usable. */
export interface HealthChange {
  readonly backendId: string;
  readonly usable: boolean;
  readonly view: BackendHealthView;
}

/** What the dispatch loop reports for a failed attempt (from the classifier's verdict). */
export interface FailureReport {
  readonly countsAsBreakerFailure: boolean;
  /** Put the backend in cooling this long (Retry-After). */
  readonly coolDownMs?: number;
}

/** A probe result for {@link HealthTracker.recordProbe}. */
export interface ProbeReport {
  readonly ok: boolean;
  readonly latencyMs: number;
  readonly status?: number;
  /** When the probe finished; defaults to the clock's now. */
  readonly atMs?: number;
}

/** Dependencies of a {@link HealthTracker}. */
export interface HealthTrackerDeps {
  readonly store: BackendHealthStore;
  readonly clock: Clock;
  /** Store failures (reads and writes are fire-and-forget) and listener errors end up here. */
  readonly onError: (
    error: unknown,
    context: { readonly operation: 'read' | 'write' | 'listener'; readonly backendId?: string },
  ) => void;
}

interface Entry {
  breaker: CircuitBreakerState;
  coolingUntilMs: number | undefined;
  latencyEwmaMs: number | undefined;
  lastProbe: BackendProbeRecord | undefined;
  consecutiveProbeFailures: number;
  /** When this instance last closed the breaker (so an older remote trip is not adopted). */
  closedAtMs: number;
  /** Highest store version merged. */
  seenVersion: number;
  writtenCoolingUntilMs: number;
  lastUsable: boolean | undefined;
}

/**
 * The per-instance view of backend health that the hot path reads synchronously. It keeps each
 * breaker's sliding window locally, writes the shared {@link BackendHealthStore} only on state
 * transitions (trip, half-open, close, cooling set, probe verdict flips) and re-reads the store in the
 * background when its copy is older than `cacheTtlMs`, so a trip written by another instance is seen
 * within about a second. No method awaits I/O.
 *
 * Across instances the half-open trial is one per instance (claiming it in the store would put a
 * round trip on the hot path); the first trial to report decides for everyone through the store.
 *
 * @example
 * const tracker = new HealthTracker({ store, clock, onError: (e, c) => log.warn('health store', c, e) });
 * const grant = tracker.tryAcquire('aoai-east', clock.now());
 * if (grant.granted) {
 *   // … attempt; then, from the classifier's verdict:
 *   tracker.recordSuccess('aoai-east', 840);
 *   // or tracker.recordFailure('aoai-east', { countsAsBreakerFailure: true, coolDownMs: 2_000 });
 * }
 */
export class HealthTracker {
  private readonly entries = new Map<string, Entry>();
  private readonly listeners = new Set<(change: HealthChange) => void>();
  private readonly pendingWrites = new Set<Promise<void>>();
  private refreshing: Promise<void> | undefined;
  private lastRefreshStartedAtMs = Number.NEGATIVE_INFINITY;
  private options: HealthTrackerOptions;

  constructor(
    private readonly deps: HealthTrackerDeps,
    options: Partial<HealthTrackerOptions> = {},
  ) {
    this.options = { ...DEFAULT_HEALTH_TRACKER_OPTIONS, ...options };
  }

  /** Replaces the options; the next decision uses them (hot reload). */
  setOptions(options: Partial<HealthTrackerOptions>): void {
    this.options = { ...this.options, ...options };
  }

  /** The backend's health now. Never does I/O; may start a background refresh. */
  snapshot(backendId: string): BackendHealthView {
    const now = this.deps.clock.now();
    const entry = this.entry(backendId);
    this.maybeRefresh(now);
    const view = this.view(backendId, entry, now);
    this.observe(backendId, entry, now, view);
    return view;
  }

  /**
   * Asks to send one attempt to the backend. Refused while it cools or its breaker is open; when the
   * open interval has passed, exactly one caller gets the half-open trial. A granted attempt must end
   * in {@link recordSuccess}, {@link recordFailure} or {@link release}.
   */
  tryAcquire(backendId: string, nowMs: number = this.deps.clock.now()): HealthAcquisition {
    const entry = this.entry(backendId);
    this.maybeRefresh(nowMs);
    const breakerAtMs = circuitBreakerAvailableAtMs(entry.breaker, nowMs, this.options.breaker);
    if (entry.coolingUntilMs !== undefined && entry.coolingUntilMs > nowMs) {
      return { granted: false, reason: 'cooling', retryAtMs: Math.max(entry.coolingUntilMs, breakerAtMs) };
    }
    const before = entry.breaker;
    const acquisition = acquireCircuitBreaker(before, nowMs, this.options.breaker);
    if (!acquisition.permitted) return { granted: false, reason: acquisition.reason, retryAtMs: acquisition.retryAtMs };
    entry.breaker = acquisition.state;
    if (before.state === 'open') this.persistHalfOpen(backendId, before, nowMs);
    this.observe(backendId, entry, nowMs);
    return { granted: true, trial: acquisition.trial };
  }

  /** Ends a granted attempt that says nothing about the backend (never sent, or the caller left). */
  release(backendId: string): void {
    const entry = this.entry(backendId);
    entry.breaker = releaseCircuitBreakerTrial(entry.breaker);
    this.observe(backendId, entry, this.deps.clock.now());
  }

  /** Records an attempt the backend answered properly (classifier verdict `return`). */
  recordSuccess(backendId: string, latencyMs: number): void {
    const now = this.deps.clock.now();
    const entry = this.entry(backendId);
    entry.latencyEwmaMs = ewma(entry.latencyEwmaMs, latencyMs, this.options.latencyEwmaAlpha);
    const before = entry.breaker;
    entry.breaker = recordCircuitBreakerSuccess(before, now, this.options.breaker);
    if (before.state !== 'closed' && entry.breaker.state === 'closed') {
      entry.closedAtMs = now;
      this.persistClose(backendId, before.openedAtMs ?? 0, now);
    }
    this.observe(backendId, entry, now);
  }

  /** Records a failed attempt (classifier verdict `failover` or `fatal`). */
  recordFailure(backendId: string, report: FailureReport): void {
    const now = this.deps.clock.now();
    const entry = this.entry(backendId);
    if (report.coolDownMs !== undefined && report.coolDownMs > 0) {
      const until = now + report.coolDownMs;
      if (until > (entry.coolingUntilMs ?? 0)) entry.coolingUntilMs = until;
      if (
        entry.coolingUntilMs! > Math.max(entry.writtenCoolingUntilMs, now) + this.options.coolingWriteSlackMs ||
        entry.writtenCoolingUntilMs <= now
      ) {
        this.persistCooling(backendId, entry.coolingUntilMs!, now);
      }
    }
    const before = entry.breaker;
    entry.breaker = report.countsAsBreakerFailure
      ? recordCircuitBreakerFailure(before, now, this.options.breaker)
      : releaseCircuitBreakerTrial(before);
    if (entry.breaker.state === 'open' && entry.breaker !== before && before.state !== 'open')
      this.persistTrip(backendId, entry.breaker, now);
    this.observe(backendId, entry, now);
  }

  /**
   * Records an active probe. `probeFailureThreshold` failures in a row open a closed breaker (an
   * unhealthy backend is not routed to); a passing probe makes an open breaker's trial available at
   * once. The shared record is written when the probe verdict flips.
   */
  recordProbe(backendId: string, probe: ProbeReport): void {
    const now = this.deps.clock.now();
    const entry = this.entry(backendId);
    const previous = entry.lastProbe;
    entry.lastProbe = {
      atMs: probe.atMs ?? now,
      ok: probe.ok,
      latencyMs: probe.latencyMs,
      ...(probe.status === undefined ? {} : { status: probe.status }),
    };
    if (probe.ok) {
      entry.consecutiveProbeFailures = 0;
      if (entry.breaker.state === 'open' && (entry.breaker.openUntilMs ?? 0) > now)
        entry.breaker = { ...entry.breaker, openUntilMs: now };
    } else {
      entry.consecutiveProbeFailures += 1;
      const threshold = this.options.probeFailureThreshold;
      if (threshold > 0 && entry.consecutiveProbeFailures >= threshold && entry.breaker.state === 'closed') {
        entry.breaker = tripCircuitBreaker(entry.breaker, now, this.options.breaker);
        this.persistTrip(backendId, entry.breaker, now);
      }
    }
    if (previous === undefined || previous.ok !== probe.ok) this.persistProbe(backendId, entry.lastProbe, now);
    this.observe(backendId, entry, now);
  }

  /**
   * The earliest time any of the backends becomes usable (≤ now when one is): the `retry-after` of an
   * all-open 503 or all-cooling 429. Undefined for an empty list.
   */
  earliestReopenMs(backendIds: readonly string[]): number | undefined {
    const now = this.deps.clock.now();
    let earliest: number | undefined;
    for (const id of backendIds) {
      const at = this.view(id, this.entry(id), now).availableAtMs;
      if (earliest === undefined || at < earliest) earliest = at;
    }
    return earliest;
  }

  /** How many of the backends are usable now (readiness). */
  usableCount(backendIds: readonly string[]): number {
    const now = this.deps.clock.now();
    // What `view(...).usable` says, without building the view (this runs once per call).
    let usable = 0;
    for (const id of backendIds) if (this.availableAtMs(this.entry(id), now) <= now) usable++;
    return usable;
  }

  /**
   * Subscribes to usability changes (capacity returned: cooling ended, breaker closed or trial
   * available; or lost). Changes are noticed when health is read or recorded, after a store refresh,
   * or on {@link tick}. Returns the unsubscribe function.
   */
  onChange(listener: (change: HealthChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Re-evaluates every known backend at `nowMs` (emitting changes) and refreshes the cache if stale. */
  tick(nowMs: number = this.deps.clock.now()): void {
    this.maybeRefresh(nowMs);
    for (const [id, entry] of this.entries) this.observe(id, entry, nowMs);
  }

  /** Forgets backends that are no longer configured (bounds memory across config reloads). */
  retain(backendIds: readonly string[]): void {
    const keep = new Set(backendIds);
    for (const id of [...this.entries.keys()]) if (!keep.has(id)) this.entries.delete(id);
  }

  /** Re-reads the store now (startup, tests); shares a refresh already in flight. Never rejects. */
  refresh(): Promise<void> {
    if (this.refreshing !== undefined) return this.refreshing;
    this.lastRefreshStartedAtMs = this.deps.clock.now();
    const ids = [...this.entries.keys()];
    const run = Promise.resolve()
      .then(() => this.deps.store.read(ids))
      .then((records) => {
        const now = this.deps.clock.now();
        for (const [id, record] of records) {
          const entry = this.entries.get(id);
          if (entry === undefined) continue;
          this.merge(entry, record, now);
          this.observe(id, entry, now);
        }
      })
      .catch((error: unknown) => this.deps.onError(error, { operation: 'read' }))
      .finally(() => {
        this.refreshing = undefined;
      });
    this.refreshing = run;
    return run;
  }

  /** Resolves when every write started so far and any refresh in flight have settled (tests, shutdown). */
  async flush(): Promise<void> {
    while (this.pendingWrites.size > 0 || this.refreshing !== undefined) {
      await Promise.all([...this.pendingWrites, this.refreshing]);
    }
  }

  private entry(backendId: string): Entry {
    let entry = this.entries.get(backendId);
    if (entry === undefined) {
      entry = {
        breaker: closedCircuitBreaker(),
        coolingUntilMs: undefined,
        latencyEwmaMs: undefined,
        lastProbe: undefined,
        consecutiveProbeFailures: 0,
        closedAtMs: Number.NEGATIVE_INFINITY,
        seenVersion: 0,
        writtenCoolingUntilMs: 0,
        lastUsable: undefined,
      };
      this.entries.set(backendId, entry);
    }
    return entry;
  }

  /** When the backend takes calls again (≤ now: it does): the later of its breaker's trial and its cooling. */
  private availableAtMs(entry: Entry, now: number): number {
    const breakerAtMs = circuitBreakerAvailableAtMs(entry.breaker, now, this.options.breaker);
    const cooling = entry.coolingUntilMs !== undefined && entry.coolingUntilMs > now ? entry.coolingUntilMs : undefined;
    return Math.max(breakerAtMs, cooling ?? breakerAtMs);
  }

  private view(backendId: string, entry: Entry, now: number): BackendHealthView {
    const breaker = entry.breaker;
    const cooling = entry.coolingUntilMs !== undefined && entry.coolingUntilMs > now ? entry.coolingUntilMs : undefined;
    const availableAtMs = this.availableAtMs(entry, now);
    const usable = availableAtMs <= now;
    const state: BreakerStateName =
      breaker.state === 'open' && (breaker.openUntilMs ?? 0) <= now ? 'half-open' : breaker.state;
    // Optional fields only when set, in this order (the status page shows the view as is); no spread per field.
    const view = {
      backendId,
      state,
      usable,
      trialAvailable: usable && state !== 'closed',
      availableAtMs,
    } as Mutable<BackendHealthView>;
    if (cooling !== undefined) view.coolingUntilMs = cooling;
    if (breaker.state === 'open' && breaker.openUntilMs !== undefined && breaker.openUntilMs > now)
      view.openUntilMs = breaker.openUntilMs;
    view.consecutiveOpens = breaker.consecutiveOpens;
    if (entry.latencyEwmaMs !== undefined) view.latencyEwmaMs = entry.latencyEwmaMs;
    if (entry.lastProbe !== undefined) view.lastProbe = entry.lastProbe;
    return view;
  }

  /**
   * Tells the listeners when a backend turns usable or unusable. It runs after every recorded outcome, so the
   * whole view is built only when there is a change to report (it was ~0.5 KB per call otherwise).
   */
  private observe(backendId: string, entry: Entry, now: number, known?: BackendHealthView): void {
    const usable = known?.usable ?? this.availableAtMs(entry, now) <= now;
    const previous = entry.lastUsable;
    entry.lastUsable = usable;
    if (previous === undefined || previous === usable || this.listeners.size === 0) return;
    const view = known ?? this.view(backendId, entry, now);
    for (const listener of this.listeners) {
      try {
        listener({ backendId, usable: view.usable, view });
      } catch (error) {
        this.deps.onError(error, { operation: 'listener', backendId });
      }
    }
  }

  private maybeRefresh(now: number): void {
    if (
      this.refreshing !== undefined ||
      this.entries.size === 0 ||
      now - this.lastRefreshStartedAtMs < this.options.cacheTtlMs
    )
      return;
    void this.refresh();
  }

  // Why: the store may hold news from other instances (a trip, a close, a longer cooling) or only our
  // own writes echoed back; the rules below are idempotent, so merging an echo changes nothing.
  private merge(entry: Entry, remote: BackendHealth, now: number): void {
    if (remote.version <= entry.seenVersion) return;
    entry.seenVersion = remote.version;
    const rb = remote.breaker;
    const local = entry.breaker;
    if (rb.state === 'open' || rb.state === 'half-open') {
      const remoteOpenedAtMs = rb.openedAtMs ?? 0;
      const newer =
        local.state === 'closed' ? remoteOpenedAtMs > entry.closedAtMs : remoteOpenedAtMs > (local.openedAtMs ?? 0);
      if (newer) {
        entry.breaker = {
          state: 'open',
          buckets: [],
          openedAtMs: remoteOpenedAtMs,
          openUntilMs: rb.openUntilMs ?? now,
          trialInFlight: false,
          consecutiveOpens: Math.max(local.consecutiveOpens, rb.consecutiveOpens),
        };
      }
    } else if (local.state !== 'closed' && remote.updatedAtMs >= (local.openedAtMs ?? 0)) {
      entry.breaker = closedCircuitBreaker();
      entry.closedAtMs = remote.updatedAtMs;
    }
    if (remote.coolingUntilMs !== undefined && remote.coolingUntilMs > (entry.coolingUntilMs ?? 0)) {
      entry.coolingUntilMs = remote.coolingUntilMs;
      entry.writtenCoolingUntilMs = Math.max(entry.writtenCoolingUntilMs, remote.coolingUntilMs);
    }
    if (remote.lastProbe !== undefined && remote.lastProbe.atMs > (entry.lastProbe?.atMs ?? Number.NEGATIVE_INFINITY))
      entry.lastProbe = remote.lastProbe;
    if (entry.latencyEwmaMs === undefined && remote.latencyEwmaMs !== undefined)
      entry.latencyEwmaMs = remote.latencyEwmaMs;
  }

  private persistTrip(backendId: string, breaker: CircuitBreakerState, now: number): void {
    const record = {
      state: 'open' as const,
      openedAtMs: breaker.openedAtMs ?? now,
      openUntilMs: breaker.openUntilMs ?? now,
      consecutiveOpens: breaker.consecutiveOpens,
    };
    this.write(backendId, now, (current) => {
      const cb = current?.breaker;
      if (cb?.state === 'open' && (cb.openUntilMs ?? 0) >= record.openUntilMs) return undefined;
      return { breaker: record };
    });
  }

  private persistHalfOpen(backendId: string, before: CircuitBreakerState, now: number): void {
    this.write(backendId, now, (current) => {
      const cb = current?.breaker;
      // Only the trip we are trialling moves to half-open; a newer trip or a close wins.
      if (
        cb === undefined ||
        cb.state !== 'open' ||
        (cb.openedAtMs ?? 0) > (before.openedAtMs ?? 0) ||
        (cb.openUntilMs ?? 0) > now
      )
        return undefined;
      return { breaker: { ...cb, state: 'half-open' } };
    });
  }

  private persistClose(backendId: string, closingOpenedAtMs: number, now: number): void {
    this.write(backendId, now, (current) => {
      const cb = current?.breaker;
      if (cb === undefined || cb.state === 'closed' || (cb.openedAtMs ?? 0) > closingOpenedAtMs) return undefined;
      return { breaker: { state: 'closed', consecutiveOpens: 0 } };
    });
  }

  private persistCooling(backendId: string, coolingUntilMs: number, now: number): void {
    const entry = this.entry(backendId);
    entry.writtenCoolingUntilMs = Math.max(entry.writtenCoolingUntilMs, coolingUntilMs);
    this.write(backendId, now, (current) =>
      (current?.coolingUntilMs ?? 0) >= coolingUntilMs ? undefined : { coolingUntilMs },
    );
  }

  private persistProbe(backendId: string, probe: BackendProbeRecord, now: number): void {
    this.write(backendId, now, (current) =>
      (current?.lastProbe?.atMs ?? Number.NEGATIVE_INFINITY) > probe.atMs ? undefined : { lastProbe: probe },
    );
  }

  /** Fire-and-forget optimistic write; `change` must be pure (it may run again after a lost race). */
  private write(
    backendId: string,
    now: number,
    change: (
      current: BackendHealth | undefined,
    ) => Partial<Pick<BackendHealth, 'breaker' | 'coolingUntilMs' | 'lastProbe'>> | undefined,
  ): void {
    const latencyEwmaMs = this.entries.get(backendId)?.latencyEwmaMs;
    const mutate = (current: BackendHealth | undefined): BackendHealth | undefined => {
      const patch = change(current);
      if (patch === undefined) return undefined;
      const base: BackendHealth = current ?? {
        breaker: { state: 'closed', consecutiveOpens: 0 },
        version: 0,
        updatedAtMs: now,
      };
      return { ...base, ...patch, ...(latencyEwmaMs === undefined ? {} : { latencyEwmaMs }), updatedAtMs: now };
    };
    const write: Promise<void> = Promise.resolve()
      .then(() => this.deps.store.update(backendId, mutate))
      .then((stored) => {
        const entry = this.entries.get(backendId);
        if (stored !== undefined && entry !== undefined) {
          const at = this.deps.clock.now();
          this.merge(entry, stored, at);
          this.observe(backendId, entry, at);
        }
      })
      .catch((error: unknown) => this.deps.onError(error, { operation: 'write', backendId }))
      .finally(() => this.pendingWrites.delete(write));
    this.pendingWrites.add(write);
  }
}

function ewma(previous: number | undefined, sample: number, alpha: number): number {
  if (!Number.isFinite(sample) || sample < 0) return previous ?? 0;
  return previous === undefined ? sample : alpha * sample + (1 - alpha) * previous;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
