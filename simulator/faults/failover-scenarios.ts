import {
  FAULT_RESILIENCE,
  TIMER_SLACK_MS,
  chat,
  seenBy,
  type CallResult,
  type Scenario,
  type ScenarioContext,
} from './scenario.js';
import type { FaultHarness } from './fault-harness.js';

const { firstByteMs } = FAULT_RESILIENCE.deadlines;
const { openIntervalMs } = FAULT_RESILIENCE.breaker;

/** A failure on the primary before any byte: one failover, 200 from the fallback, one attempt on the primary. */
function failoverOnce(id: string, title: string, fault: string, budgetMs: number, minElapsedMs = 0): Scenario {
  return {
    id,
    title,
    budgetMs,
    deadlineMs: 10_000,
    async run(ctx) {
      const h = await ctx.start({ a: { faults: [fault] } });
      const result = await ctx.call(h, chat());
      ctx.check(
        result.status === 200 && result.backend === 'b',
        `expected 200 from b, got ${result.status} from ${result.backend}`,
      );
      ctx.check(
        result.headers.get('x-gateway-attempts') === '2',
        `expected 2 attempts, got ${result.headers.get('x-gateway-attempts')}`,
      );
      ctx.check(
        h.seen('a') === 1 && h.seen('b') === 1,
        `expected one attempt each, a saw ${h.seen('a')}, b saw ${h.seen('b')}`,
      );
      ctx.check(
        result.elapsedMs >= minElapsedMs,
        `answered after ${Math.round(result.elapsedMs)} ms, before the ${minElapsedMs} ms deadline`,
      );
      const again = await ctx.call(h, chat(), { timed: false });
      ctx.check(
        again.status === 200 && again.backend === 'a',
        `next call: expected 200 from a (recovered, not cooling), got ${again.status} from ${again.backend}`,
      );
      ctx.caller(
        `200 from ${result.backend} after ${Math.round(result.elapsedMs)} ms, attempts ` +
          `${result.headers.get('x-gateway-attempts')}; next from ${again.backend}`,
      );
      ctx.backend(seenBy(h, ['a', 'b']) + ` (a first: ${h.sims.a!.attempts()[0]?.outcome})`);
    },
  };
}

async function sequence(ctx: ScenarioContext, h: FaultHarness, count: number): Promise<CallResult[]> {
  const results: CallResult[] = [];
  for (let i = 0; i < count; i++) results.push(await ctx.call(h, chat()));
  return results;
}

const servedBy = (results: readonly CallResult[]): string =>
  results.map((r) => (r.status === 200 ? r.backend : `${r.status}`)).join('');

/**
 * 503 on the primary for good: the fallback serves every call; after 3 failures the breaker opens
 * and the primary sees nothing until the open interval has passed, then exactly one trial (here a
 * burst of three concurrent calls), which fails and reopens it for twice as long.
 */
const persistent503: Scenario = {
  id: '6',
  title: '503 persistent on the primary, breaker opens',
  budgetMs: 1_000,
  deadlineMs: 15_000,
  async run(ctx) {
    const h = await ctx.start({ a: { faults: ['503'] } });
    const tripping = await sequence(ctx, h, 3);
    ctx.check(
      tripping.every((r) => r.status === 200 && r.backend === 'b'),
      `tripping calls: expected b b b, got ${servedBy(tripping)}`,
    );
    ctx.check(h.seen('a') === 3, `expected 3 attempts on a before the trip, got ${h.seen('a')}`);
    const open = await sequence(ctx, h, 3);
    ctx.check(
      open.every((r) => r.status === 200 && r.backend === 'b' && r.headers.get('x-gateway-attempts') === '1'),
      `while open: expected b with 1 attempt, got ${servedBy(open)}`,
    );
    ctx.check(h.seen('a') === 3, `while open: a saw ${h.seen('a') - 3} more`);
    h.clock.advance(openIntervalMs + 100);
    const burst = await Promise.all([ctx.call(h, chat()), ctx.call(h, chat()), ctx.call(h, chat())]);
    ctx.check(
      burst.every((r) => r.status === 200 && r.backend === 'b'),
      `half-open burst: expected b b b, got ${servedBy(burst)}`,
    );
    ctx.check(h.seen('a') === 4, `half-open: expected exactly one trial on a, got ${h.seen('a') - 3}`);
    const reopened = await sequence(ctx, h, 2);
    ctx.check(
      reopened.every((r) => r.backend === 'b') && h.seen('a') === 4,
      `after the failed trial: expected b and no attempt on a, got ${servedBy(reopened)}, a saw ${h.seen('a')}`,
    );
    ctx.caller(
      `200 ×${tripping.length + open.length + burst.length + reopened.length}, all from ` +
        `${[...new Set([...tripping, ...open, ...burst, ...reopened].map((r) => r.backend))].join('/')}`,
    );
    ctx.backend(`a: 3 before trip, 0 while open, ${h.seen('a') - 3} trial of 3 concurrent, 0 after; b ${h.seen('b')}`);
  },
};

/**
 * The primary is down for 5 s (a fault window on the shared clock) and comes back: the fallback
 * serves during the outage with few trials on the primary (one per open interval: 1 s, then 2 s),
 * and the primary serves again after recovery.
 */
const outageAndRecovery: Scenario = {
  id: '16',
  title: 'primary down 5 s, then recovers',
  budgetMs: 1_000,
  deadlineMs: 15_000,
  async run(ctx) {
    const h = await ctx.start({ a: { faults: ['503;for-ms=5000'] } });
    const during: CallResult[] = [];
    during.push(...(await sequence(ctx, h, 5)));
    const beforeTrials = h.seen('a');
    h.clock.advance(openIntervalMs + 100);
    during.push(...(await sequence(ctx, h, 2)));
    h.clock.advance(2 * openIntervalMs + 100);
    during.push(...(await sequence(ctx, h, 2)));
    const trials = h.seen('a') - beforeTrials;
    h.clock.advance(4 * openIntervalMs + 100);
    const after = await sequence(ctx, h, 3);
    ctx.check(
      during.every((r) => r.status === 200 && r.backend === 'b'),
      `during the outage: expected b only, got ${servedBy(during)}`,
    );
    ctx.check(beforeTrials === 3, `expected the breaker to open after 3 failures on a, a saw ${beforeTrials}`);
    ctx.check(trials === 2, `expected one trial per open interval (2) during the outage, got ${trials}`);
    ctx.check(
      after.every((r) => r.status === 200 && r.backend === 'a'),
      `after recovery: expected a a a, got ${servedBy(after)}`,
    );
    ctx.caller(`outage ${servedBy(during)}, after ${servedBy(after)}`);
    ctx.backend(
      `a: ${beforeTrials} failures, ${trials} trials while open, ` +
        `${h.seen('a') - beforeTrials - trials} after; b ${h.seen('b')}`,
    );
  },
};

/** Length of the outage in {@link defaultBreakerRecovery}, and how soon after it the primary must serve again. */
const OUTAGE_MS = 10_000;
const BACK_WITHIN_MS = 5_000;
/** One call every this much of the shared clock. */
const STEP_MS = 500;

/**
 * The primary is down for 10 s and the breaker runs on its **defaults** (2 s first open interval, doubling per
 * failed trial, 30 s cap): one call every half second on the shared clock. The breaker opens, the fallback
 * serves, a few trials probe the primary, and once it is healthy it gets its traffic back within seconds —
 * not after a 30 s first interval as before.
 */
const defaultBreakerRecovery: Scenario = {
  id: '16b',
  title: 'primary down 10 s, default breaker: traffic back within seconds',
  budgetMs: 1_000,
  deadlineMs: 15_000,
  async run(ctx) {
    const h = await ctx.start({ a: { faults: [`503;for-ms=${OUTAGE_MS}`] } }, { ...FAULT_RESILIENCE, breaker: {} });
    const startedAtMs = h.clock.now();
    const served: { atMs: number; backend: string | null }[] = [];
    let backAtMs: number | undefined;
    while (h.clock.now() - startedAtMs < OUTAGE_MS + 2 * BACK_WITHIN_MS) {
      const atMs = h.clock.now() - startedAtMs;
      const result = await ctx.call(h, chat());
      ctx.check(result.status === 200, `call at +${atMs} ms: expected 200, got ${result.status}`);
      served.push({ atMs, backend: result.backend });
      if (backAtMs === undefined && atMs >= OUTAGE_MS && result.backend === 'a') backAtMs = atMs;
      h.clock.advance(STEP_MS);
    }
    const duringOutage = served.filter((s) => s.atMs < OUTAGE_MS);
    const failuresOnA = h.sims.a!.attempts().filter((a) => a.status === 503).length;
    // The default breaker opens once 10 calls (minimumRequests) are in its window; later 503s are trials.
    const trials = failuresOnA - 10;
    ctx.check(trials >= 0 && trials <= 3, `expected at most 3 trials on a during the outage, got ${trials}`);
    ctx.check(
      duringOutage.every((s) => s.backend === 'b'),
      `during the outage: expected b only, got ${duringOutage.map((s) => s.backend).join('')}`,
    );
    ctx.check(
      backAtMs !== undefined && backAtMs - OUTAGE_MS <= BACK_WITHIN_MS,
      `the primary served again ${backAtMs === undefined ? 'never' : `${backAtMs - OUTAGE_MS} ms`} ` +
        `after it recovered (≤ ${BACK_WITHIN_MS} ms expected)`,
    );
    const after = served.filter((s) => backAtMs !== undefined && s.atMs >= backAtMs);
    ctx.check(
      after.every((s) => s.backend === 'a'),
      `after the primary came back: expected a only, got ${after.map((s) => s.backend).join('')}`,
    );
    ctx.caller(
      `outage ${duringOutage.map((s) => s.backend).join('')}; a back ` +
        `${backAtMs === undefined ? 'never' : `${Math.round(backAtMs - OUTAGE_MS)} ms`} after recovery`,
    );
    ctx.backend(
      `a: 10 × 503, opened, ${trials} failed trial(s), then 200 ×${h.seen('a') - failuresOnA}; b ${h.seen('b')}`,
    );
  },
};

/** Route `big` (pool of `c`, always 503) falls back to route `small`: the caller sees the fallback's model. */
const fallbackRoute: Scenario = {
  id: '17',
  title: 'fallback route when the pool is exhausted',
  budgetMs: 1_000,
  deadlineMs: 10_000,
  async run(ctx) {
    const h = await ctx.start({ c: { faults: ['503'] } });
    const ended = h.nextCall();
    const result = await ctx.call(h, chat({ model: 'gpt-big' }));
    await ended;
    const body = result.json as { model?: string } | undefined;
    const record = await h.usageRecord(result.requestId);
    ctx.check(
      result.status === 200 && body?.model === 'gpt-4o-mini',
      `expected 200 with model gpt-4o-mini, got ${result.status} ${body?.model}`,
    );
    ctx.check(
      h.sims.a!.attempts()[0]?.model === 'gpt-4o-mini',
      `a should have been asked for gpt-4o-mini, saw ${h.sims.a!.attempts()[0]?.model}`,
    );
    ctx.check(
      record?.route === 'small' && record.modelServed === 'gpt-4o-mini' && record.modelRequested === 'gpt-big',
      `usage record: expected route small, served gpt-4o-mini, requested gpt-big; ` +
        `got ${record?.route}, ${record?.modelServed}, ${record?.modelRequested}`,
    );
    ctx.check(
      record?.backend?.name === 'a' && record.attempts.items.some((a) => a.backend === 'c'),
      `usage record: expected backend a and c's failed attempts listed, got ` +
        `${record?.backend?.name}, [${record?.attempts.items.map((a) => a.backend).join(',')}]`,
    );
    ctx.caller(`${result.status} model ${body?.model} from ${result.backend}`);
    ctx.backend(
      `${seenBy(h, ['c', 'a'])}; record route=${record?.route} ` +
        `served=${record?.modelServed} attempts=${record?.attempts.count}`,
    );
  },
};

/**
 * A caller fault (400) comes back verbatim — byte for byte what the backend sent — after one attempt. On
 * `gpt-big` (route `big`, pool of `c`, fallback route `small`) it also shows that the fallback is not tried.
 */
function callerFault(
  id: string,
  title: string,
  fault: string,
  code: (json: unknown) => unknown,
  expected: string,
  model = 'gpt-4o-mini',
): Scenario {
  const answering = model === 'gpt-big' ? 'c' : 'a';
  return {
    id,
    title,
    budgetMs: 500,
    deadlineMs: 10_000,
    async run(ctx) {
      const h = await ctx.start();
      const result = await ctx.call(h, chat({ model }), { headers: { 'x-sim-fault': fault } });
      const total = h.seen('a') + h.seen('b') + h.seen('c');
      const seen = seenBy(h, model === 'gpt-big' ? ['c', 'a', 'b'] : ['a', 'b']);
      const direct = await fetch(`${h.sims[answering]!.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-sim-fault': fault },
        body: JSON.stringify(chat({ model })),
        signal: ctx.signal,
      });
      const directText = await direct.text();
      ctx.check(result.status === 400, `expected 400, got ${result.status}`);
      ctx.check(code(result.json) === expected, `expected code ${expected}, got ${String(code(result.json))}`);
      ctx.check(result.text === directText, 'body differs from what the backend sends (not verbatim)');
      ctx.check(
        result.headers.get('x-gateway-error-code') === null,
        `not the gateway's error: x-gateway-error-code ${result.headers.get('x-gateway-error-code')}`,
      );
      ctx.check(total === 1, `expected exactly one attempt in total, got ${total}`);
      ctx.caller(`${result.status} ${String(code(result.json))} verbatim=${result.text === directText}`);
      ctx.backend(`${total} attempt in total (${seen})`);
    },
  };
}

type ErrorBody = { error?: { code?: string } } | undefined;

/** Scenarios 5–8 and 14–17: failover before the first byte, breakers, caller faults, fallback routes. */
export const failoverScenarios: readonly Scenario[] = [
  failoverOnce('5', '500 once on the primary', '500;once', 1_000),
  persistent503,
  failoverOnce('7', 'connection reset before headers', 'reset;once', 1_000),
  failoverOnce(
    '8',
    `no response (hang), first-byte deadline ${firstByteMs} ms`,
    'hang;once',
    firstByteMs + TIMER_SLACK_MS,
    firstByteMs,
  ),
];

/** Scenarios 14–17. */
export const laterScenarios: readonly Scenario[] = [
  callerFault(
    '14',
    'context length exceeded (400)',
    'context-length',
    (j) => (j as ErrorBody)?.error?.code,
    'context_length_exceeded',
  ),
  callerFault(
    '15',
    'content filter (400) on a route with a fallback',
    'content-filter',
    (j) => (j as ErrorBody)?.error?.code,
    'content_filter',
    'gpt-big',
  ),
  outageAndRecovery,
  defaultBreakerRecovery,
  fallbackRoute,
];
