import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { SchedulerStats } from '../core/scheduling/scheduler-types.js';

type GcFunction = (options: { type: 'major'; execution: 'sync'; flavor: 'last-resort' }) => void;

/**
 * One memory-reducing full collection of V8's heap — what V8 runs under memory pressure: it compacts old space,
 * shrinks the young generation back to its initial size and returns the freed pages to the system (ADR 0064).
 * `undefined` where V8 does not offer it: the `last-resort` flavour of `gc()` needs V8 12 (Node 22); V8 11
 * (Node 20) would run an ordinary full collection, which gives nothing back.
 *
 * `gc` is taken from a context created while `--expose-gc` is on, then the flag is restored, so no other code
 * (the global object, later `vm` contexts) sees it.
 */
export function memoryReducingGc(): (() => void) | undefined {
  if (Number(process.versions.v8.split('.')[0]) < 12) return undefined;
  const exposed = typeof (globalThis as { gc?: unknown }).gc === 'function';
  if (!exposed) setFlagsFromString('--expose-gc');
  try {
    const gc = runInNewContext('gc') as GcFunction;
    return () => gc({ type: 'major', execution: 'sync', flavor: 'last-resort' });
  } finally {
    if (!exposed) setFlagsFromString('--no-expose-gc');
  }
}

/** What {@link HeapReducer} reads and does; every part injectable for its tests. */
export interface HeapReducerOptions {
  /** The memory-reducing collection ({@link memoryReducingGc}). */
  readonly reduce: () => void;
  /** The scheduler's picture: leases held, calls waiting, calls enqueued since start. */
  readonly scheduler: () => SchedulerStats;
  /** Bytes V8 holds now: its committed heap plus `ArrayBuffer` backing stores. */
  readonly heldBytes?: () => number;
  /** Share of the time since the last call that the event loop was busy (0–1). */
  readonly loopBusy?: () => number;
  /**
   * Calls in flight (the shutdown drain's count): also those the scheduler does not hold — reading their body,
   * being admitted, or waiting out a backend's Retry-After with their lease given back. Default: none known.
   */
  readonly inFlight?: () => number;
  /** Growth over the size after the last reduction that makes a quiet process reduce (default 32 MiB). */
  readonly growthBytes?: number;
}

const DEFAULT_GROWTH = 32 * 1024 * 1024;

/** A busier loop than this is not quiet, whatever the scheduler says (calls refused before routing, admin pages). */
const QUIET_LOOP = 0.05;

function loopBusySinceLast(): () => number {
  let last: EventLoopUtilization = performance.eventLoopUtilization();
  return () => {
    const now = performance.eventLoopUtilization();
    const share = performance.eventLoopUtilization(now, last).utilization;
    last = now;
    return share;
  };
}

const heldNow = (): number => {
  const { heapTotal, arrayBuffers } = process.memoryUsage();
  return heapTotal + arrayBuffers;
};

/**
 * Gives the memory of a burst back once the burst is over. V8 keeps its grown young generation and the old-space
 * pages of the garbage a load promoted for the life of the process (a standalone host sat at its historical peak,
 * ADR 0051); its own memory reducer did not run in 20 s of quiet after a load here. {@link tick}, called on a
 * timer, runs one memory-reducing collection when, for a whole interval, the scheduler held no call and admitted
 * none, no call was in flight and the event loop was idle (≤ 5 % busy), and V8 holds at least `growthBytes` more
 * than after the last reduction — so a busy process never pauses for it, and a quiet one pays it once per burst.
 */
export class HeapReducer {
  private readonly heldBytes: () => number;
  private readonly growthBytes: number;
  private readonly loopBusy: () => number;
  private lastEnqueued = -1;
  private quietTicks = 0;
  private baseBytes: number;
  /** Reductions run so far (the host's tests read it). */
  reductions = 0;

  constructor(private readonly options: HeapReducerOptions) {
    this.heldBytes = options.heldBytes ?? heldNow;
    this.growthBytes = options.growthBytes ?? DEFAULT_GROWTH;
    this.loopBusy = options.loopBusy ?? loopBusySinceLast();
    this.baseBytes = this.heldBytes();
  }

  /** Reduces now (at start, before the host listens) and takes the result as the new base. */
  reduceNow(): void {
    this.options.reduce();
    this.reductions += 1;
    this.baseBytes = this.heldBytes();
  }

  /** One look: counts a quiet interval, and reduces after a whole one if the heap grew enough since the last. */
  tick(): void {
    // Sampled on every look, busy or not: it measures the loop since the previous look, never since a burst began.
    const loopBusy = this.loopBusy();
    const stats = this.options.scheduler();
    const enqueued = stats.totals.enqueued;
    const held = stats.pools.some((p) => p.leases > 0 || p.waiting > 0) || (this.options.inFlight?.() ?? 0) > 0;
    const busy = enqueued !== this.lastEnqueued || held || loopBusy > QUIET_LOOP;
    this.lastEnqueued = enqueued;
    if (busy) {
      this.quietTicks = 0;
      return;
    }
    this.quietTicks += 1;
    if (this.quietTicks < 2 || this.heldBytes() < this.baseBytes + this.growthBytes) return;
    this.reduceNow();
  }
}

/**
 * Starts a {@link HeapReducer} for a standalone host: one reduction now, then a look every `everyMs` (default
 * 5 s, so a reduction comes 5–10 s after a burst; the timer does not keep the process alive). Returns the reducer
 * and a stop function; `undefined` where V8 offers no memory-reducing collection (Node 20).
 */
export function startHeapReducer(
  scheduler: () => SchedulerStats,
  inFlight: () => number,
  everyMs = 5_000,
): { readonly reducer: HeapReducer; stop(): void } | undefined {
  const reduce = memoryReducingGc();
  if (reduce === undefined) return undefined;
  const reducer = new HeapReducer({ reduce, scheduler, inFlight });
  reducer.reduceNow();
  const timer = setInterval(() => reducer.tick(), everyMs);
  timer.unref();
  return { reducer, stop: () => clearInterval(timer) };
}
