import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { validateConfig } from '../../shared/config/load-config.js';
import { createRuntime, type GatewayRuntime } from '../../shared/composition/create-runtime.js';
import { systemClock, type Clock } from '../../shared/core/clock.js';
import type { GatewayRequest, GatewayResponse } from '../../shared/core/http/gateway-request.js';
import type { SetTimer } from '../../shared/core/scheduling/scheduler-gate.js';
import type { SchedulerTotals } from '../../shared/core/scheduling/scheduler-types.js';
import { startSimulator, type RunningSimulator } from '../simulator.js';
import type { Check } from './saturation-scenarios.js';
import { waitUntil } from './saturation-gateway.js';
import { distribution, formatTable, type WaitDistribution } from './wait-stats.js';

/** Options of {@link runQueueVolume}. */
export interface VolumeOptions {
  readonly calls: number;
  /** `x-gateway-ttl` of every call, seconds. */
  readonly ttlSeconds: number;
  /** Simulator delay before headers (the pool's capacity is 1). */
  readonly latencyMs: number;
  /** Allowed lateness over a call's TTL (event loop under 10,000 pending calls; 0 on a fake clock). */
  readonly marginMs: number;
  /** Heap growth allowed from baseline to after the run (a leak bound, not a performance figure). */
  readonly maxHeapGrowthBytes: number;
}

/** 10,000 calls with a 2 s TTL against a pool of capacity 1 whose backend holds each call 50 ms. */
export const DEFAULT_VOLUME: VolumeOptions = {
  calls: 10_000,
  ttlSeconds: 2,
  latencyMs: 50,
  marginMs: 3_000,
  maxHeapGrowthBytes: 200 * 1024 * 1024,
};

/**
 * Where the run takes its time from. By default the real clock: TTLs run out in real time while the calls
 * are still being enqueued, which on a loaded machine can be before the last one is in (fine for the
 * printed figures, not for a verdict). Tests pass a fake clock and the scheduler's timers on it: nothing
 * expires until every call waits in the scheduler and one was served, then {@link passTtl} moves the clock
 * past the TTL in one step.
 */
export interface VolumeTime {
  readonly clock: Clock;
  readonly schedulerTimer?: SetTimer;
  /** Lets `ms` pass on {@link clock}, firing the timers that fall due; real time passes on its own. */
  passTtl(ms: number): Promise<void>;
}

const REAL_TIME: VolumeTime = { clock: systemClock, passTtl: () => Promise.resolve() };

/** What the volume run measured. */
export interface VolumeResult {
  readonly options: VolumeOptions;
  /** `status code` → count, e.g. `200` → 39, `412 GW_ERR_REQUEST_TTL_EXPIRED` → 9961. */
  readonly outcomes: Readonly<Record<string, number>>;
  /** Calls that ended later than TTL + margin after they started. */
  readonly late: number;
  /** Calls answered `GW_ERR_REQUEST_TTL_EXPIRED` before their TTL had passed. */
  readonly early: number;
  /** Time from `handle()` to the end of the body, per outcome, on the run's clock. */
  readonly endTimes: readonly WaitDistribution[];
  readonly gcExposed: boolean;
  readonly heapBaselineBytes: number;
  /** Heap right after the last call was enqueued (everything waiting). */
  readonly heapQueuedBytes: number;
  readonly heapAfterBytes: number;
  /**
   * Scheduler figures once every call was in: waiting, granted (volume calls only) and expired so far (0 on
   * a fake clock: no TTL can pass before the run lets it).
   */
  readonly queued: {
    readonly waiting: number;
    readonly storedItems: number;
    readonly granted: number;
    readonly expired: number;
  };
  readonly after: {
    readonly waiting: number;
    readonly leases: number;
    readonly gateWaiters: number;
    readonly storedItems: number;
  };
  /** Volume calls the scheduler granted, and those whose TTL expired while they waited, over the whole run. */
  readonly granted: number;
  readonly expiredWaiting: number;
  readonly priorityInversions: number;
  readonly elapsedMs: number;
}

const encoder = new TextEncoder();
const BODY = encoder.encode(
  JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hello there' }] }),
);

/** A `GatewayRequest` as a host builds it: headers, a one-chunk body iterable, the caller's signal. */
function chatRequest(ttlSeconds: number): GatewayRequest {
  return {
    method: 'POST',
    url: 'http://gateway.local/v1/chat/completions',
    headers: new Headers({
      'content-type': 'application/json',
      'content-length': String(BODY.byteLength),
      'x-gateway-ttl': String(ttlSeconds),
    }),
    body: (async function* () {
      yield BODY;
    })(),
    signal: new AbortController().signal,
  };
}

/**
 * `global.gc` when node runs with `--expose-gc`, else the same function obtained at run time; undefined if neither
 * works.
 */
function findGc(): (() => void) | undefined {
  const exposed = (globalThis as { gc?: () => void }).gc;
  if (typeof exposed === 'function') return exposed;
  try {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as unknown;
    return typeof gc === 'function' ? (gc as () => void) : undefined;
  } catch {
    return undefined;
  }
}

async function settledHeap(gc: (() => void) | undefined): Promise<number> {
  for (let i = 0; i < 3; i += 1) {
    await new Promise((resolve) => setImmediate(resolve));
    gc?.();
  }
  return process.memoryUsage().heapUsed;
}

const WARM_UP_CALLS = 3;

/** How the volume calls ended: per outcome (`status code`), when, and those late or early against their TTL. */
class OutcomeTally {
  readonly outcomes: Record<string, number> = {};
  readonly endMs = new Map<string, number[]>();
  late = 0;
  early = 0;

  constructor(
    private readonly options: VolumeOptions,
    private readonly clock: Clock,
  ) {}

  /** Starts one call (the clock read just before it) and tallies its answer once read to its end. */
  async track(call: () => Promise<GatewayResponse>): Promise<void> {
    const t0 = this.clock.monotonicMs();
    const response = await call();
    const text = await drain(response);
    const code = response.status >= 400 ? errorCode(text) : undefined;
    const key = code === undefined ? String(response.status) : `${response.status} ${code}`;
    const elapsed = this.clock.monotonicMs() - t0;
    const deadlineMs = this.options.ttlSeconds * 1000;
    this.outcomes[key] = (this.outcomes[key] ?? 0) + 1;
    if (elapsed > deadlineMs + this.options.marginMs) this.late += 1;
    if (code === 'GW_ERR_REQUEST_TTL_EXPIRED' && elapsed < deadlineMs) this.early += 1;
    const list = this.endMs.get(key) ?? [];
    list.push(elapsed);
    this.endMs.set(key, list);
  }
}

/** The simulator (capacity 1 behind a slow backend) and the gateway runtime with a queue deep enough for all. */
async function volumeRuntime(
  options: VolumeOptions,
  time: VolumeTime,
): Promise<{ sim: RunningSimulator; runtime: GatewayRuntime }> {
  const sim = await startSimulator({
    name: 'a',
    port: 0,
    host: '127.0.0.1',
    latencyMs: options.latencyMs,
    recordAttempts: false,
  });
  const parsed = validateConfig({
    backends: [{ id: 'a', url: sim.url, kind: 'openai', maxConcurrency: 1 }],
    pools: [{ id: 'main', backends: ['a'] }],
    routes: [{ id: 'all', match: { models: ['*'] }, pool: 'main' }],
    scheduling: { maxQueueDepth: options.calls },
    usage: { ledger: { kind: 'memory', maxRecords: 1_000 } },
    governance: { identity: { anonymous: { allowed: true } } },
  });
  if (!parsed.ok) throw new Error(`volume config invalid:\n${parsed.issues.join('\n')}`);
  const runtime = createRuntime({ config: parsed.config, clock: time.clock, schedulerTimer: time.schedulerTimer });
  return { sim, runtime };
}

/** The scheduler once every call is in: waiting, stored, granted (volume calls only) and expired so far. */
function queuedFigures(runtime: GatewayRuntime): VolumeResult['queued'] {
  const totals = runtime.gate.stats().totals;
  return {
    waiting: runtime.gate.stats().pools.find((p) => p.poolId === 'main')?.waiting ?? 0,
    storedItems: runtime.gate.scheduler.storedItemCount(),
    granted: totals.grants - WARM_UP_CALLS,
    expired: totals.expiredWaiting,
  };
}

/** The scheduler after the run: what is left in it, and its totals over the run (volume calls only). */
function afterFigures(
  runtime: GatewayRuntime,
): Pick<VolumeResult, 'after' | 'granted' | 'expiredWaiting' | 'priorityInversions'> {
  const stats = runtime.gate.stats();
  const pool = stats.pools.find((p) => p.poolId === 'main');
  return {
    after: {
      waiting: pool?.waiting ?? 0,
      leases: pool?.leases ?? 0,
      gateWaiters: runtime.gate.waiting,
      storedItems: runtime.gate.scheduler.storedItemCount(),
    },
    granted: stats.totals.grants - WARM_UP_CALLS,
    expiredWaiting: stats.totals.expiredWaiting,
    priorityInversions: stats.totals.priorityInversions,
  };
}

/**
 * Queues `calls` requests through `runtime.gateway.handle` against a pool of capacity 1 and a slow backend,
 * every one with a short TTL and a queue deep enough to hold them all, reads every answer to its end, and
 * measures how each ended, when, and the heap before, during and after.
 */
export async function runQueueVolume(
  options: VolumeOptions = DEFAULT_VOLUME,
  time: VolumeTime = REAL_TIME,
): Promise<VolumeResult> {
  const started = performance.now();
  const { sim, runtime } = await volumeRuntime(options, time);
  const gc = findGc();
  try {
    // Warm-up: lazy initialisation (connection pool, encoders) is not what is measured.
    for (let i = 0; i < WARM_UP_CALLS; i += 1) await drain(await runtime.gateway.handle(chatRequest(30)));
    const heapBaselineBytes = await settledHeap(gc);
    const tally = new OutcomeTally(options, time.clock);
    const pending: Promise<void>[] = [];
    for (let i = 0; i < options.calls; i += 1)
      pending.push(tally.track(() => runtime.gateway.handle(chatRequest(options.ttlSeconds))));
    // handle() continues after its first await: wait until every call has reached the scheduler. The
    // bound only stops a stalled run; on a loaded machine this takes many seconds.
    const totals = (): SchedulerTotals => runtime.gate.stats().totals;
    const allIn = (): boolean => totals().enqueued >= options.calls + WARM_UP_CALLS;
    await waitUntil(allIn, 'every call to reach the scheduler', 120_000, 5);
    const queued = queuedFigures(runtime);
    const heapQueuedBytes = process.memoryUsage().heapUsed;
    // Served while the others wait: one volume call has come back (its lease was returned). On the real
    // clock the TTLs may run out first (nothing waits any more); on a fake one nothing expires before passTtl.
    const served = (): boolean => totals().releases > WARM_UP_CALLS || runtime.gate.waiting === 0;
    await waitUntil(served, 'a queued call to be served', 120_000, 5);
    await time.passTtl(options.ttlSeconds * 1000);
    await Promise.all(pending);
    pending.length = 0;
    const heapAfterBytes = await settledHeap(gc);
    return {
      options,
      outcomes: tally.outcomes,
      late: tally.late,
      early: tally.early,
      endTimes: [...tally.endMs].map(([key, values]) => distribution(key, values)),
      gcExposed: gc !== undefined,
      heapBaselineBytes,
      heapQueuedBytes,
      heapAfterBytes,
      queued,
      ...afterFigures(runtime),
      elapsedMs: performance.now() - started,
    };
  } finally {
    await runtime.close();
    await sim.close();
  }
}

async function drain(response: { body: AsyncIterable<Uint8Array> | null }): Promise<string> {
  if (response.body === null) return '';
  const decoder = new TextDecoder();
  let text = '';
  for await (const chunk of response.body) text += decoder.decode(chunk, { stream: true });
  return text;
}

function errorCode(text: string): string | undefined {
  try {
    return (JSON.parse(text) as { error?: { code?: string } }).error?.code;
  } catch {
    return undefined;
  }
}

const ALLOWED = /^(200|412 GW_ERR_REQUEST_TTL_EXPIRED|429 GW_ERR_QUEUE_FULL)$/;

/** The volume run's verdicts. */
export function volumeChecks(result: VolumeResult): Check[] {
  const total = Object.values(result.outcomes).reduce((a, b) => a + b, 0);
  const unexpected = Object.entries(result.outcomes).filter(([k]) => !ALLOWED.test(k));
  const growth = result.heapAfterBytes - result.heapBaselineBytes;
  const o = result.options;
  const endTimes = result.endTimes.map((d) => `${d.label} max ${d.maxMs.toFixed(0)} ms`).join(', ');
  return [
    {
      name: `all ${o.calls} calls ended with 200, 412 TTL expired or 429 queue full`,
      pass: total === o.calls && unexpected.length === 0,
      detail: `${total} ended: ${JSON.stringify(result.outcomes)}`,
    },
    {
      name: 'none expired before its TTL',
      pass: result.early === 0,
      detail: `${result.early} early`,
    },
    {
      name: `each ended within its TTL (${o.ttlSeconds} s) + ${o.marginMs} ms`,
      pass: result.late === 0,
      detail: `${result.late} late; ${endTimes}`,
    },
    {
      name: 'scheduler empty after the run (no waiting entry, lease or waiter left)',
      pass:
        result.after.waiting === 0 &&
        result.after.leases === 0 &&
        result.after.gateWaiters === 0 &&
        result.after.storedItems === 0,
      detail: JSON.stringify(result.after),
    },
    {
      name: `heap back near baseline (growth < ${(o.maxHeapGrowthBytes / 2 ** 20).toFixed(0)} MB)`,
      pass: growth < o.maxHeapGrowthBytes,
      detail: `growth ${mb(growth)} (gc ${result.gcExposed ? 'forced' : 'not available'})`,
    },
    {
      name: 'scheduler recorded no priority inversion',
      pass: result.priorityInversions === 0,
      detail: `priorityInversions ${result.priorityInversions}`,
    },
  ];
}

/** The volume run as a short text report. */
export function formatVolume(result: VolumeResult): string {
  const o = result.options;
  return [
    `volume: ${o.calls} calls through runtime.gateway.handle, pool capacity 1, backend ${o.latencyMs} ms, ` +
      `x-gateway-ttl ${o.ttlSeconds} s, maxQueueDepth ${o.calls} (${(result.elapsedMs / 1000).toFixed(1)} s)`,
    `  while queued: ${result.queued.waiting} waiting, ${result.queued.granted} granted, ` +
      `${result.queued.expired} expired, ${result.queued.storedItems} scheduler items; ` +
      `after: ${JSON.stringify(result.after)}`,
    `  heap used: baseline ${mb(result.heapBaselineBytes)}, all queued ${mb(result.heapQueuedBytes)}, after ` +
      `${mb(result.heapAfterBytes)} (growth ${mb(result.heapAfterBytes - result.heapBaselineBytes)}; ` +
      `gc ${result.gcExposed ? 'forced' : 'not available'})`,
    '  time from handle() to the end of the answer:',
    formatTable(
      ['', 'count', 'p50 ms', 'p90 ms', 'max ms'],
      result.endTimes.map((d) => [
        `    ${d.label}`,
        String(d.count),
        d.p50Ms.toFixed(0),
        d.p90Ms.toFixed(0),
        d.maxMs.toFixed(0),
      ]),
    ),
  ].join('\n');
}

function mb(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(1)} MB`;
}
