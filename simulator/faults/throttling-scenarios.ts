import { FAULT_RESILIENCE, TIMER_SLACK_MS, chat, seenBy, type Scenario } from './scenario.js';

const { backoffMaxMs } = FAULT_RESILIENCE.retry;

interface RetryAfterForm {
  readonly id: string;
  readonly title: string;
  /** Instance rule on `a` (once: after it, `a` answers 200). */
  readonly fault: string;
  /** Still cooling this long after the 429 (the second call goes straight to `b`). */
  readonly stillCoolingAfterMs: number;
  /** Cooling over this long after the 429 (the primary serves again). */
  readonly usableAfterMs: number;
}

// `retry-after-date` has whole-second resolution: a 3 s date cools for 2–3 s.
const FORMS: readonly RetryAfterForm[] = [
  {
    id: '1a',
    title: '429 retry-after: 3 (seconds)',
    fault: '429;retry-after=3;once',
    stillCoolingAfterMs: 2_700,
    usableAfterMs: 3_200,
  },
  {
    id: '1b',
    title: '429 retry-after-ms: 3000',
    fault: '429;retry-after-ms=3000;once',
    stillCoolingAfterMs: 2_700,
    usableAfterMs: 3_200,
  },
  {
    id: '1c',
    title: '429 x-ms-retry-after-ms: 3000',
    fault: '429;x-ms-retry-after-ms=3000;once',
    stillCoolingAfterMs: 2_700,
    usableAfterMs: 3_200,
  },
  {
    id: '1d',
    title: '429 retry-after: <HTTP-date +3 s>',
    fault: '429;retry-after-date=3;once',
    stillCoolingAfterMs: 1_800,
    usableAfterMs: 3_200,
  },
  {
    id: '2',
    title: '429 without Retry-After (default cool-down 2 s)',
    fault: '429;once',
    stillCoolingAfterMs: 1_700,
    usableAfterMs: 2_200,
  },
  {
    id: '4a',
    title: 'APIM S7PREQUEUE: true + retry-after-ms: 3000',
    fault: 'requeue;retry-after-ms=3000;once',
    stillCoolingAfterMs: 2_700,
    usableAfterMs: 3_200,
  },
];

/**
 * The primary throttles once: the call moves to the fallback at once (not after the Retry-After),
 * the primary is skipped while cooling, and serves again once the cooling is over.
 */
function coolingScenario(form: RetryAfterForm): Scenario {
  return {
    id: form.id,
    title: form.title,
    budgetMs: 1_000,
    deadlineMs: 10_000,
    async run(ctx) {
      const h = await ctx.start({ a: { faults: [form.fault] } });
      const first = await ctx.call(h, chat());
      ctx.check(
        first.status === 200 && first.backend === 'b',
        `first call: expected 200 from b, got ${first.status} from ${first.backend}`,
      );
      ctx.check(
        first.headers.get('x-gateway-attempts') === '2',
        `first call: expected 2 attempts, got ${first.headers.get('x-gateway-attempts')}`,
      );
      const throttled = h.sims.a!.attempts()[0];
      if (form.fault.startsWith('requeue'))
        ctx.check(throttled?.status === 429, `a should have answered 429 with S7PREQUEUE, got ${throttled?.status}`);
      const second = await ctx.call(h, chat());
      ctx.check(
        second.backend === 'b' && h.seen('a') === 1,
        `second call while cooling: expected b and no new attempt on a, got ${second.backend}, a saw ${h.seen('a')}`,
      );
      // Times count from the 429 on the shared clock, so real time spent by the first calls (a loaded
      // machine) does not eat into the cooling the scenario steps over.
      const throttledAtMs = throttled?.timeMs ?? h.clock.now();
      h.clock.advance(Math.max(0, throttledAtMs + form.stillCoolingAfterMs - h.clock.now()));
      const third = await ctx.call(h, chat());
      ctx.check(
        third.backend === 'b' && h.seen('a') === 1,
        `+${form.stillCoolingAfterMs} ms, still cooling: expected b, got ${third.backend}, a saw ${h.seen('a')}`,
      );
      h.clock.advance(Math.max(0, throttledAtMs + form.usableAfterMs - h.clock.now()));
      const fourth = await ctx.call(h, chat());
      ctx.check(
        fourth.status === 200 && fourth.backend === 'a' && h.seen('a') === 2,
        `+${form.usableAfterMs} ms, cooled: expected 200 from a, got ` +
          `${fourth.status} from ${fourth.backend}, a saw ${h.seen('a')}`,
      );
      ctx.caller(`200 b (${Math.round(first.elapsedMs)} ms), b while cooling, a after ${form.usableAfterMs / 1000} s`);
      ctx.backend(seenBy(h, ['a', 'b']));
    },
  };
}

/** Every backend throttles beyond the caller's TTL: 429 at once with a whole-second retry-after. */
const allThrottledBeyondTtl: Scenario = {
  id: '3a',
  title: '429 on every backend, cooling beyond the TTL',
  budgetMs: 1_000,
  deadlineMs: 10_000,
  async run(ctx) {
    const h = await ctx.start({ a: { faults: ['429;retry-after=3'] }, b: { faults: ['429;retry-after=3'] } });
    const first = await ctx.call(h, chat(), { headers: { 'x-gateway-ttl': '1' } });
    const retryAfter = first.headers.get('retry-after');
    ctx.check(first.status === 429, `expected 429, got ${first.status}`);
    ctx.check(
      first.headers.get('x-gateway-error-code') === 'GW_ERR_BACKEND_THROTTLED',
      `expected GW_ERR_BACKEND_THROTTLED, got ${first.headers.get('x-gateway-error-code')}`,
    );
    ctx.check(
      retryAfter !== null && /^\d+$/.test(retryAfter) && Number(retryAfter) >= 1 && Number(retryAfter) <= 3,
      `expected retry-after in whole seconds 1..3, got ${retryAfter}`,
    );
    ctx.check(
      h.seen('a') === 1 && h.seen('b') === 1,
      `expected one attempt each, a saw ${h.seen('a')}, b saw ${h.seen('b')}`,
    );
    const second = await ctx.call(h, chat(), { headers: { 'x-gateway-ttl': '1' } });
    ctx.check(
      second.status === 429 && h.seen('a') === 1 && h.seen('b') === 1,
      `second call while all cool: expected 429 with no backend ` +
        `attempt, got ${second.status}, a ${h.seen('a')}, b ${h.seen('b')}`,
    );
    ctx.caller(
      `${first.status} ${first.headers.get('x-gateway-error-code')} retry-after: ${retryAfter}; again ${second.status}`,
    );
    ctx.backend(seenBy(h, ['a', 'b']));
  },
};

/** Every backend throttles briefly, within the TTL: the call waits for the earliest and succeeds. */
const allThrottledShort: Scenario = {
  id: '3b',
  title: '429 on every backend, 400 ms cooling within the TTL',
  budgetMs: 400 + backoffMaxMs + TIMER_SLACK_MS,
  deadlineMs: 10_000,
  async run(ctx) {
    const h = await ctx.start({
      a: { faults: ['429;retry-after-ms=400;once'] },
      b: { faults: ['429;retry-after-ms=400;once'] },
    });
    const result = await ctx.call(h, chat());
    ctx.check(
      result.status === 200,
      `expected 200 after the cooling, got ${result.status} ${result.headers.get('x-gateway-error-code')}`,
    );
    ctx.check(
      result.elapsedMs >= 380,
      `expected to wait for the cooling (~400 ms), answered after ${Math.round(result.elapsedMs)} ms`,
    );
    const served = result.backend === null ? undefined : h.sims[result.backend]?.attempts();
    const gapMs = served !== undefined && served.length >= 2 ? served[1]!.timeMs - served[0]!.timeMs : undefined;
    ctx.check(
      gapMs !== undefined && gapMs >= 380,
      `expected ≥ 400 ms between the two attempts on ${result.backend}, got ${gapMs}`,
    );
    ctx.check(h.seen('a') + h.seen('b') === 3, `expected 3 attempts in total, got ${h.seen('a') + h.seen('b')}`);
    ctx.caller(`${result.status} from ${result.backend} after ${Math.round(result.elapsedMs)} ms`);
    ctx.backend(`${seenBy(h, ['a', 'b'])}; gap ${gapMs} ms`);
  },
};

/**
 * Every backend asks for a requeue twice. The docs (resilience §2): when every backend is exhausted
 * and one asked for a requeue, the call goes back to the scheduler for the smallest Retry-After
 * instead of failing — bounded by its TTL (5 s here), not by one wait.
 */
const requeueEverywhere: Scenario = {
  id: '4b',
  title: 'S7PREQUEUE on every backend, twice, within the TTL',
  budgetMs: 2 * (200 + backoffMaxMs) + TIMER_SLACK_MS,
  deadlineMs: 10_000,
  async run(ctx) {
    const faults = ['requeue;retry-after-ms=200;times=2'];
    const h = await ctx.start(
      { a: { faults }, b: { faults } },
      { ...FAULT_RESILIENCE, retry: { ...FAULT_RESILIENCE.retry, maxAttempts: 8 } },
    );
    const result = await ctx.call(h, chat(), { headers: { 'x-gateway-ttl': '5' } });
    ctx.check(
      result.status === 200 && result.backend === 'a',
      `expected the call to be requeued and served by a within its TTL, got ` +
        `${result.status} ${result.backend ?? result.headers.get('x-gateway-error-code')}`,
    );
    const seen = seenBy(h, ['a', 'b']);
    ctx.check(seen === 'a 429,429,200 · b 429,429', `expected a 429,429,200 · b 429,429, got ${seen}`);
    // Each wait lasts until the earliest cooling ends: the attempts on a are a Retry-After apart, no sooner.
    const times = h.sims.a!.attempts().map((a) => a.timeMs);
    const gaps = times.slice(1).map((t, i) => Math.round(t - times[i]!));
    ctx.check(
      gaps.length === 2 && gaps.every((g) => g >= 190),
      `expected two waits of ≥ 200 ms (the Retry-After) between a's attempts, got gaps ${gaps.join(', ')} ms`,
    );
    ctx.check(
      result.elapsedMs >= 380,
      `expected two waits for the cooling (≥ 400 ms), answered after ${Math.round(result.elapsedMs)} ms`,
    );
    ctx.caller(
      `${result.status} ${result.backend ?? result.headers.get('x-gateway-error-code')} ` +
        `after ${Math.round(result.elapsedMs)} ms`,
    );
    ctx.backend(`${seen}; waits ${gaps.join(', ')} ms`);
  },
};

/** Scenarios 1–4: throttling, Retry-After and cooling. */
export const throttlingScenarios: readonly Scenario[] = [
  ...FORMS.filter((f) => f.id !== '4a').map(coolingScenario),
  allThrottledBeyondTtl,
  allThrottledShort,
  coolingScenario(FORMS.find((f) => f.id === '4a')!),
  requeueEverywhere,
];
