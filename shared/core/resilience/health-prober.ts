import type { Clock } from '../clock.js';
import type { ProbeReport } from './health-tracker.js';

/** How one backend is probed. */
export interface ProbeSettings {
  /** Path on the backend, e.g. `/health`. The probe function builds the URL. */
  readonly path: string;
  readonly method: 'GET' | 'HEAD' | 'POST';
  /** From the start of one probe to the start of the next; never shortened after a failure. */
  readonly intervalMs: number;
  /** A probe without an answer after this long is aborted and counts as failed. */
  readonly timeoutMs: number;
  /** Statuses that mean healthy; empty = any 2xx. */
  readonly expectStatus: readonly number[];
}

/** A backend to probe. */
export interface ProbeTarget {
  readonly id: string;
  readonly probe: ProbeSettings;
}

/** Sends one probe (the HTTP call lives in an adapter); must honour `signal`. Rejects on transport errors. */
export type ProbeFunction<T extends ProbeTarget = ProbeTarget> = (
  target: T,
  signal: AbortSignal,
) => Promise<{ readonly status: number; readonly latencyMs: number }>;

/** Timer functions, injected so tests drive time. `globalThis` satisfies it. */
export interface ProbeTimers {
  setTimeout(callback: () => void, delayMs: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** Where probe results go; `HealthTracker` is one. */
export interface ProbeSink {
  recordProbe(backendId: string, probe: ProbeReport): void;
}

/** Dependencies of a {@link HealthProber}. */
export interface HealthProberDeps<T extends ProbeTarget> {
  readonly probe: ProbeFunction<T>;
  readonly timers: ProbeTimers;
  readonly clock: Clock;
  readonly sink: ProbeSink;
  /** Transport errors of probes (they also count as failed probes). */
  readonly onError?: (error: unknown, backendId: string) => void;
}

interface TargetState<T> {
  target: T;
  timer: unknown;
  timeout: unknown;
  controller: AbortController | undefined;
}

/**
 * Runs each target's active health probe on its interval, one probe at a time per target, each
 * bounded by its timeout (the probe is aborted, not left running), and feeds the results to the sink.
 * The interval is measured start to start and is the same after a failure, so a backend that is down
 * is not probed any faster. The first probe of each target runs at once on {@link start}.
 *
 * @example
 * const deps = { probe: httpProbe, timers: globalThis, clock: systemClock, sink: tracker };
 * const prober = new HealthProber(deps, targets);
 * prober.start();
 * // … on shutdown:
 * prober.stop();
 */
export class HealthProber<T extends ProbeTarget = ProbeTarget> {
  private readonly states = new Map<string, TargetState<T>>();
  private running = false;

  constructor(
    private readonly deps: HealthProberDeps<T>,
    targets: readonly T[],
  ) {
    for (const target of targets)
      this.states.set(target.id, { target, timer: undefined, timeout: undefined, controller: undefined });
  }

  /** Starts probing every target now. Calling it again does nothing. */
  start(): void {
    if (this.running) return;
    this.running = true;
    for (const [id, state] of this.states) this.schedule(id, state, 0);
  }

  /**
   * Replaces the targets (config reload): new ones start probing at once, removed ones stop, and
   * changed settings apply from the next probe.
   */
  setTargets(targets: readonly T[]): void {
    const next = new Map(targets.map((t) => [t.id, t]));
    for (const [id, state] of this.states) {
      if (!next.has(id)) {
        this.cancel(state);
        this.states.delete(id);
      }
    }
    for (const [id, target] of next) {
      const existing = this.states.get(id);
      if (existing !== undefined) {
        existing.target = target;
        continue;
      }
      const state: TargetState<T> = { target, timer: undefined, timeout: undefined, controller: undefined };
      this.states.set(id, state);
      if (this.running) this.schedule(id, state, 0);
    }
  }

  /** Stops every timer and aborts probes in flight. Results that arrive later are dropped. */
  stop(): void {
    this.running = false;
    for (const state of this.states.values()) this.cancel(state);
  }

  private cancel(state: TargetState<T>): void {
    if (state.timer !== undefined) this.deps.timers.clearTimeout(state.timer);
    if (state.timeout !== undefined) this.deps.timers.clearTimeout(state.timeout);
    state.controller?.abort(new Error('health prober stopped'));
    state.timer = undefined;
    state.timeout = undefined;
    state.controller = undefined;
  }

  private schedule(id: string, state: TargetState<T>, delayMs: number): void {
    state.timer = this.deps.timers.setTimeout(
      () => {
        state.timer = undefined;
        this.run(id, state);
      },
      Math.max(0, delayMs),
    );
  }

  private run(id: string, state: TargetState<T>): void {
    if (!this.running || this.states.get(id) !== state) return;
    const target = state.target;
    const startedMs = this.deps.clock.monotonicMs();
    const controller = new AbortController();
    state.controller = controller;
    let settled = false;
    const finish = (report: ProbeReport): void => {
      if (settled) return;
      settled = true;
      if (state.timeout !== undefined) this.deps.timers.clearTimeout(state.timeout);
      state.timeout = undefined;
      state.controller = undefined;
      if (!this.running || this.states.get(id) !== state) return;
      this.deps.sink.recordProbe(id, report);
      this.schedule(id, state, state.target.probe.intervalMs - (this.deps.clock.monotonicMs() - startedMs));
    };
    state.timeout = this.deps.timers.setTimeout(() => {
      state.timeout = undefined;
      controller.abort(new Error(`health probe timed out after ${target.probe.timeoutMs} ms`));
      finish({ ok: false, latencyMs: target.probe.timeoutMs });
    }, target.probe.timeoutMs);
    Promise.resolve()
      .then(() => this.deps.probe(target, controller.signal))
      .then(
        (result) =>
          finish({
            ok: isExpected(result.status, target.probe.expectStatus),
            latencyMs: result.latencyMs,
            status: result.status,
          }),
        (error: unknown) => {
          if (!settled) this.deps.onError?.(error, id);
          finish({ ok: false, latencyMs: this.deps.clock.monotonicMs() - startedMs });
        },
      );
  }
}

function isExpected(status: number, expectStatus: readonly number[]): boolean {
  return expectStatus.length === 0 ? status >= 200 && status < 300 : expectStatus.includes(status);
}
