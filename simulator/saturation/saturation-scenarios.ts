import type { SchedulerTotals } from '../../shared/core/scheduling/scheduler-types.js';
import {
  batchCaller,
  call,
  etlCaller,
  observe,
  poolStats,
  searchCaller,
  sendInOrder,
  startSaturationGateway,
  urgentCaller,
  waitUntil,
  type Caller,
  type ObservedCall,
  type SentCall,
} from './saturation-gateway.js';
import type { FaultHarness } from '../faults/fault-harness.js';
import { distribution, type WaitDistribution } from './wait-stats.js';

/** Options of {@link runPriorityScenario}. */
export interface PriorityScenarioOptions {
  /** Pool capacity (the one backend's `maxConcurrency`). */
  readonly capacity: number;
  /** Simulator delay before headers: how long each call holds its lease. */
  readonly latencyMs: number;
  /** Level-3 calls of the greedy user `etl`, sent first. */
  readonly greedyCalls: number;
  /** Level-3 calls of other users, one each, sent after the greedy flood. */
  readonly otherUsers: number;
  /** Level-1 calls, sent last (half via the interactive API key, half via `x-gateway-priority: urgent`). */
  readonly highCalls: number;
  readonly agingStepMs: number;
  readonly userShareRatio: number;
}

/**
 * Capacity 4, calls held 300 ms: 16 greedy + 10 other-user level-3 calls, then 6 level-1 calls — about
 * eight rounds of leases. Aging (60 s steps) does not act within the run, however slow the machine, so
 * priorities and fair share are seen on their own; {@link DEFAULT_AGING} proves aging.
 */
export const DEFAULT_PRIORITY: PriorityScenarioOptions = {
  capacity: 4,
  latencyMs: 300,
  greedyCalls: 16,
  otherUsers: 10,
  highCalls: 6,
  agingStepMs: 60_000,
  userShareRatio: 0.5,
};

/** What a scenario observed. */
export interface ScenarioResult {
  readonly name: string;
  readonly options: object;
  readonly calls: readonly ObservedCall[];
  readonly totals: SchedulerTotals;
  /** Longest lease hold seen (total time less queue wait), ms. */
  readonly maxHoldMs: number;
  readonly elapsedMs: number;
}

/**
 * The flood: the greedy user's level-3 calls, then other users' level-3 calls, then level-1 calls, each
 * sent once the previous one is in the scheduler, all against a pool held saturated until the last is in.
 */
export async function runPriorityScenario(
  options: PriorityScenarioOptions = DEFAULT_PRIORITY,
): Promise<ScenarioResult> {
  const started = performance.now();
  const h = await startSaturationGateway({
    capacity: options.capacity,
    latencyMs: options.latencyMs,
    scheduling: {
      levels: 3,
      defaultLevel: 2,
      agingStepMs: options.agingStepMs,
      userShareRatio: options.userShareRatio,
      maxQueueDepth: 1_000,
    },
  });
  try {
    const callers: Caller[] = [
      ...Array.from({ length: options.greedyCalls }, (_, i) => etlCaller(i + 1)),
      ...Array.from({ length: options.otherUsers }, (_, i) => batchCaller(`batch-${String(i + 1).padStart(2, '0')}`)),
      ...Array.from({ length: options.highCalls }, (_, i) =>
        i % 2 === 0 ? searchCaller(i / 2 + 1) : urgentCaller('ops', (i + 1) / 2),
      ),
    ];
    // The backend holds the first four calls until every call is in the scheduler: the whole flood queues
    // behind a saturated pool however slowly the machine sends it, then drains in grant order.
    const release = h.sims.a!.hold();
    const sent = await sendInOrder(h, callers, 0);
    release();
    const calls = await observe(h, sent);
    return {
      name: 'priority',
      options,
      calls,
      totals: h.runtime.gate.stats().totals,
      maxHoldMs: maxHold(calls),
      elapsedMs: performance.now() - started,
    };
  } finally {
    await h.close();
  }
}

/** Options of {@link runAgingScenario}. */
export interface AgingScenarioOptions {
  readonly capacity: number;
  readonly latencyMs: number;
  /** Level-1 callers in a closed loop (each sends again as soon as it is answered): more than capacity. */
  readonly highWorkers: number;
  /** Level-3 calls (one user each) sent once the loop saturates the pool. */
  readonly lowCalls: number;
  readonly agingStepMs: number;
  readonly userShareRatio: number;
}

/**
 * Capacity 4, calls held 150 ms, 12 level-1 callers in a closed loop (8 always waiting): without aging the
 * 3 level-3 calls would wait as long as the loop runs. Aging steps are 30 s: real time never ages them
 * within the run; the scenario moves the gateway's clock two steps while they wait, and they compete at
 * level 1 from then on.
 */
export const DEFAULT_AGING: AgingScenarioOptions = {
  capacity: 4,
  latencyMs: 150,
  highWorkers: 12,
  lowCalls: 3,
  agingStepMs: 30_000,
  userShareRatio: 0.5,
};

/** What the aging scenario saw besides the calls: the moment the clock moved two aging steps. */
export interface AgingScenarioResult extends ScenarioResult {
  /** Level-3 calls waiting (and level-1 calls waiting with them) just before the clock moved. */
  readonly beforeAging: { readonly level3Waiting: number; readonly level1Waiting: number };
  /** Leases granted before the clock moved: grants numbered above this came after. */
  readonly grantsBeforeAging: number;
}

/**
 * A steady level-1 load above capacity, and a few level-3 calls that only aging lets through. The loop
 * runs until they are answered (not for a fixed time), so a slow machine changes how long it takes, not
 * what is seen.
 */
export async function runAgingScenario(options: AgingScenarioOptions = DEFAULT_AGING): Promise<AgingScenarioResult> {
  const started = performance.now();
  const h = await startSaturationGateway({
    capacity: options.capacity,
    latencyMs: options.latencyMs,
    scheduling: {
      levels: 3,
      defaultLevel: 2,
      agingStepMs: options.agingStepMs,
      userShareRatio: options.userShareRatio,
      maxQueueDepth: 1_000,
    },
  });
  try {
    const loop = closedLoop(h, options.highWorkers);
    await waitUntil(
      () => (poolStats(h.runtime.gate.stats())?.levels[0]?.waiting ?? 0) >= options.highWorkers - options.capacity,
      'the level-1 loop to saturate the pool',
    );
    const low = await sendInOrder(
      h,
      Array.from({ length: options.lowCalls }, (_, i) => batchCaller(`late-${i + 1}`)),
      0,
    );
    const levels = poolStats(h.runtime.gate.stats())?.levels;
    const beforeAging = { level3Waiting: levels?.[2]?.waiting ?? 0, level1Waiting: levels?.[0]?.waiting ?? 0 };
    const grantsBeforeAging = h.runtime.gate.stats().totals.grants;
    // Two aging steps pass at once: the level-3 calls now compete at level 1, the next freed leases are theirs.
    h.clock.advance(2 * options.agingStepMs);
    const lowCalls = await observe(h, low);
    const loopCalls = await observe(h, await loop.stop());
    const calls = [...lowCalls, ...loopCalls];
    return {
      name: 'aging',
      options,
      calls,
      totals: h.runtime.gate.stats().totals,
      maxHoldMs: maxHold(calls),
      elapsedMs: performance.now() - started,
      beforeAging,
      grantsBeforeAging,
    };
  } finally {
    await h.close();
  }
}

/**
 * Level-1 callers in a closed loop, each sending again as soon as it is answered, until `stop()`: which
 * resolves, once the loop's calls in flight are answered, to every call it sent (their arrival unknown).
 */
function closedLoop(h: FaultHarness, workers: number): { stop(): Promise<SentCall[]> } {
  let running = true;
  const answers: Promise<unknown>[] = [];
  const sent: { caller: Caller; requestId: string; arrival: number }[] = [];
  const loops = Array.from({ length: workers }, async (_, w) => {
    for (let n = 1; running; n += 1) {
      const caller = urgentCaller(`loop-${String(w + 1).padStart(2, '0')}`, n);
      const answer = call(h, caller);
      answers.push(answer);
      sent.push({ caller, requestId: (await answer).requestId, arrival: Number.NaN });
    }
  });
  return {
    async stop(): Promise<SentCall[]> {
      running = false;
      await Promise.all(loops);
      await Promise.all(answers);
      return sent.map((r) => ({
        caller: r.caller,
        arrival: r.arrival,
        answer: Promise.resolve({ status: 200, requestId: r.requestId, errorCode: undefined }),
      }));
    },
  };
}

function maxHold(calls: readonly ObservedCall[]): number {
  return Math.max(0, ...calls.filter((c) => c.lease !== undefined).map((c) => c.holdMs));
}

/** One verdict of a scenario's checks. */
export interface Check {
  readonly name: string;
  readonly pass: boolean;
  readonly detail: string;
}

/**
 * Per high call: leases granted to a less urgent call after it arrived and before it was granted. The
 * scheduler numbers leases in grant order, and a lease's enqueue instant is its grant instant less its
 * wait, so this is read off the leases exactly (to the millisecond for arrivals).
 */
export function lessUrgentGrantsWhileWaiting(calls: readonly ObservedCall[], waiting: ObservedCall): ObservedCall[] {
  const level = waiting.lease?.effectiveLevel ?? waiting.level;
  return calls.filter(
    (c) =>
      c.lease !== undefined &&
      c.lease.effectiveLevel > level &&
      c.grantNo < waiting.grantNo &&
      c.lease.grantedAtMs > waiting.enqueuedAtMs,
  );
}

/** Pairs (earlier arrival, later arrival) of `calls` granted in the opposite order. */
export function outOfOrderPairs(calls: readonly ObservedCall[]): [ObservedCall, ObservedCall][] {
  const sorted = [...calls].sort((a, b) => a.arrival - b.arrival);
  const pairs: [ObservedCall, ObservedCall][] = [];
  for (let i = 0; i < sorted.length; i += 1)
    for (let j = i + 1; j < sorted.length; j += 1)
      if (sorted[i]!.grantNo > sorted[j]!.grantNo) pairs.push([sorted[i]!, sorted[j]!]);
  return pairs;
}

/** Wait distributions of the priority scenario: per level, and level 3 split by the greedy user. */
export function priorityDistributions(result: ScenarioResult): WaitDistribution[] {
  const waits = (filter: (c: ObservedCall) => boolean): number[] =>
    result.calls.filter(filter).map((c) => c.queueWaitMs);
  return [
    distribution(
      'level 1 (interactive, urgent)',
      waits((c) => c.level === 1),
    ),
    distribution(
      'level 3 (all batch)',
      waits((c) => c.level === 3),
    ),
    distribution(
      'level 3 greedy user etl',
      waits((c) => c.level === 3 && c.userId === 'etl'),
    ),
    distribution(
      'level 3 other users',
      waits((c) => c.level === 3 && c.userId !== 'etl'),
    ),
  ];
}

/** Wait distributions of the aging scenario. */
export function agingDistributions(result: ScenarioResult): WaitDistribution[] {
  const waits = (level: number): number[] => result.calls.filter((c) => c.level === level).map((c) => c.queueWaitMs);
  return [distribution('level 1 (closed loop)', waits(1)), distribution('level 3 (aged)', waits(3))];
}

/** Every check of the priority scenario, for the script's report (the vitest file asserts the same). */
export function priorityChecks(result: ScenarioResult): Check[] {
  const o = result.options as PriorityScenarioOptions;
  const low = result.calls.filter((c) => c.expectedLevel === 3);
  const fairShare = fairShareExcess(result.calls, o);
  const unfair = fairShare.filter((f) => f.excess > 0);
  const aged = low.filter((c) => c.grant?.reason === 'aged' || c.lease?.effectiveLevel !== c.level);
  return [
    {
      name: 'every call answered 200',
      pass: result.calls.every((c) => c.status === 200),
      detail: statusCounts(result.calls),
    },
    {
      name: 'governance gave each caller its tier level',
      pass: result.calls.every((c) => c.level === c.expectedLevel),
      detail:
        result.calls
          .filter((c) => c.level !== c.expectedLevel)
          .map((c) => `${c.label}: ${c.level}`)
          .join(', ') || 'all as expected',
    },
    ...orderChecks(result),
    {
      name: `greedy user held to its share (${o.userShareRatio}): other users overtake its backlog`,
      pass: unfair.length === 0 && fairShare.length > 0,
      detail: fairShareDetail(fairShare),
    },
    {
      name: `every level-3 call served at its own level (aging, ${o.agingStepMs} ms steps, does not act here)`,
      pass: aged.length === 0 && low.every((c) => c.status === 200),
      detail: aged.map((c) => `${c.label} ${c.grant?.reason ?? '-'}`).join(', ') || `${low.length} level-3 calls`,
    },
    {
      name: 'scheduler recorded no priority inversion',
      pass: result.totals.priorityInversions === 0,
      detail: totalsDetail(result.totals),
    },
  ];
}

/** The priority scenario's grant order: no level-1 call passed over, same-level calls first come first served. */
function orderChecks(result: ScenarioResult): Check[] {
  const high = result.calls.filter((c) => c.expectedLevel === 1);
  const low = result.calls.filter((c) => c.expectedLevel === 3);
  const others = low.filter((c) => c.userId !== 'etl');
  const etl = low.filter((c) => c.userId === 'etl');
  const inversions = high.flatMap((h) =>
    lessUrgentGrantsWhileWaiting(result.calls, h).map((l) => `${l.label} before ${h.label}`),
  );
  const fifo = [
    ...outOfOrderPairs(etl),
    ...outOfOrderPairs(others),
    ...outOfOrderPairs(high.filter((c) => c.userId === 'search')),
    ...outOfOrderPairs(high.filter((c) => c.userId === 'ops')),
  ];
  return [
    {
      name: 'no less urgent call granted while a level-1 call waited',
      pass: inversions.length === 0,
      detail: inversions.join(', ') || `0 of ${high.length} level-1 calls passed over`,
    },
    {
      name: 'same-level calls served in arrival order (per user; single-call users overall)',
      pass: fifo.length === 0,
      detail:
        fifo.map(([a, b]) => `${b.label} before ${a.label}`).join(', ') ||
        `${etl.length} etl, ${others.length} single-call users in order`,
    },
  ];
}

/** Per other-user call: greedy grants made while it waited, against other users' grants in that time. */
export interface FairShareRow {
  readonly label: string;
  readonly greedyGrantsWhileWaiting: number;
  readonly otherGrantsWhileWaiting: number;
  /** Greedy grants beyond `other + capacity`; above 0 means the greedy user pushed it out. */
  readonly excess: number;
}

/**
 * Fair share, read off the leases: while another user's level-3 call waited, the greedy user may only be
 * granted as long as it holds at most `userShareRatio` of the leases, so its grants in that time stay
 * within the other users' grants plus one round of the pool (its share, ⌈capacity × ratio⌉, plus slack for
 * lease holds that end out of grant order on a loaded machine). Under plain FIFO the first other user
 * would watch the whole greedy backlog go first.
 */
export function fairShareExcess(
  calls: readonly ObservedCall[],
  options: Pick<PriorityScenarioOptions, 'capacity'>,
): FairShareRow[] {
  const level3 = calls.filter((c) => c.lease !== undefined && c.level === 3);
  const allowance = options.capacity;
  return level3
    .filter((c) => c.userId !== 'etl' && c.lease!.waitedMs > 0)
    .map((c) => {
      const during = level3.filter((x) => x !== c && x.grantNo < c.grantNo && x.lease!.grantedAtMs > c.enqueuedAtMs);
      const greedy = during.filter((x) => x.userId === 'etl').length;
      const other = during.length - greedy;
      return {
        label: c.label,
        greedyGrantsWhileWaiting: greedy,
        otherGrantsWhileWaiting: other,
        excess: Math.max(0, greedy - other - allowance),
      };
    });
}

function fairShareDetail(rows: readonly FairShareRow[]): string {
  if (rows.length === 0) return 'no other-user call waited';
  const worst = rows.reduce((a, b) =>
    b.greedyGrantsWhileWaiting - b.otherGrantsWhileWaiting > a.greedyGrantsWhileWaiting - a.otherGrantsWhileWaiting
      ? b
      : a,
  );
  const first = rows[0]!;
  return (
    `${first.label}: ${first.greedyGrantsWhileWaiting} etl grants while it waited; worst ` +
    `${worst.label}: ${worst.greedyGrantsWhileWaiting} etl vs ${worst.otherGrantsWhileWaiting} other`
  );
}

/**
 * Per level-3 call of the aging scenario: where its lease falls in grant order. Once the clock moved two
 * aging steps it competes at level 1 and only level-1 calls already waiting can go first, so it must be
 * among the next `level1Waiting + lowCalls` leases — the aging bound of docs/scheduling.md counted in
 * leases instead of milliseconds, which a slow machine cannot stretch.
 */
export function agingGrantWindow(result: AgingScenarioResult): { readonly first: number; readonly last: number } {
  const o = result.options as AgingScenarioOptions;
  return {
    first: result.grantsBeforeAging + 1,
    last: result.grantsBeforeAging + result.beforeAging.level1Waiting + o.lowCalls,
  };
}

/** Every check of the aging scenario. */
export function agingChecks(result: AgingScenarioResult): Check[] {
  const o = result.options as AgingScenarioOptions;
  const low = result.calls.filter((c) => c.expectedLevel === 3);
  const loop = result.calls.filter((c) => c.expectedLevel === 1);
  const window = agingGrantWindow(result);
  const outside = low.filter((c) => !(c.grantNo >= window.first && c.grantNo <= window.last));
  const lastLoopGrant = Math.max(0, ...loop.map((c) => c.grantNo));
  return [
    {
      name: 'every call answered 200',
      pass: result.calls.every((c) => c.status === 200),
      detail: statusCounts(result.calls),
    },
    {
      name: 'level-3 calls kept waiting behind the level-1 loop until the clock moved',
      pass: result.beforeAging.level3Waiting === o.lowCalls && result.beforeAging.level1Waiting > 0,
      detail: `${result.beforeAging.level3Waiting} level-3 and ${result.beforeAging.level1Waiting} level-1 waiting`,
    },
    {
      name: 'level-3 calls granted by aging (effective level 1) after waiting two aging steps',
      pass: low.every(
        (c) => c.lease?.effectiveLevel === 1 && c.grant?.reason === 'aged' && c.queueWaitMs >= 2 * o.agingStepMs,
      ),
      detail: low
        .map((c) => `${c.label} eff ${c.lease?.effectiveLevel ?? '-'} ${c.grant?.reason ?? '-'} ${c.queueWaitMs} ms`)
        .join(', '),
    },
    {
      name: 'each granted within the leases freed next, while the level-1 loop still ran',
      pass: outside.length === 0 && low.every((c) => c.grantNo < lastLoopGrant),
      detail:
        `leases ${window.first}–${window.last}: ${low.map((c) => `${c.label} #${c.grantNo}`).join(', ')}; ` +
        `last loop lease #${lastLoopGrant}`,
    },
    {
      name: 'scheduler recorded no priority inversion',
      pass: result.totals.priorityInversions === 0,
      detail: totalsDetail(result.totals),
    },
  ];
}

function statusCounts(calls: readonly ObservedCall[]): string {
  const counts = new Map<string, number>();
  for (const c of calls)
    counts.set(
      String(c.status) + (c.errorCode === undefined ? '' : ` ${c.errorCode}`),
      (counts.get(String(c.status) + (c.errorCode === undefined ? '' : ` ${c.errorCode}`)) ?? 0) + 1,
    );
  return [...counts].map(([k, n]) => `${n}× ${k}`).join(', ');
}

function totalsDetail(t: SchedulerTotals): string {
  return (
    `enqueued ${t.enqueued}, grants ${t.grants}, releases ${t.releases}, ` +
    `rejections ${t.rejections}, priorityInversions ${t.priorityInversions}`
  );
}
