import type { FaultHarness } from './fault-harness.js';
import { FAULT_RESILIENCE, TIMER_SLACK_MS, chat, seenBy, type CallResult, type Scenario } from './scenario.js';

const { firstByteMs } = FAULT_RESILIENCE.deadlines;

type ErrorBody = { error?: { code?: string } } | undefined;

/** Checks a call to `gpt-big` (pool of `c`) was answered by route `small` from `a`, with these attempts. */
function servedByFallbackRoute(
  ctx: Parameters<Scenario['run']>[0],
  h: FaultHarness,
  result: CallResult,
  seen: string,
): void {
  const body = result.json as { model?: string } | undefined;
  ctx.check(
    result.status === 200 && result.backend === 'a' && body?.model === 'gpt-4o-mini',
    `expected 200 from a (route small, gpt-4o-mini), got ${result.status} from ${result.backend} (${body?.model})`,
  );
  ctx.check(seenBy(h, ['c', 'a']) === seen, `expected ${seen}, got ${seenBy(h, ['c', 'a'])}`);
  ctx.check(
    result.headers.get('x-gateway-attempts') === '2',
    `expected 2 attempts, got ${result.headers.get('x-gateway-attempts')}`,
  );
}

/**
 * `c`, alone in its pool, never answers: it is abandoned at the first-byte deadline and not tried again —
 * the fallback route answers at once (before: 4 × the deadline on `c`, then the fallback).
 */
const silentSingleMember: Scenario = {
  id: '18',
  title: 'silent backend alone in its pool: one attempt, then the fallback route',
  budgetMs: firstByteMs + TIMER_SLACK_MS,
  deadlineMs: 10_000,
  async run(ctx) {
    const h = await ctx.start({ c: { faults: ['hang'] } });
    const result = await ctx.call(h, chat({ model: 'gpt-big' }));
    servedByFallbackRoute(ctx, h, result, 'c hang · a 200');
    ctx.check(
      result.elapsedMs >= firstByteMs,
      `answered after ${Math.round(result.elapsedMs)} ms, before the ${firstByteMs} ms first-byte deadline`,
    );
    ctx.caller(`${result.status} from ${result.backend} after ${Math.round(result.elapsedMs)} ms`);
    ctx.backend(seenBy(h, ['c', 'a']));
  },
};

/**
 * `c` accepts, stays silent for 400 ms, then drops the connection (first-byte deadline 1 s here): a failure
 * after a long silence (≥ `fastFailureMs`, 200 ms) spends the backend for the call, as a timeout does.
 */
const slowReset: Scenario = {
  id: '19',
  title: 'reset after 400 ms of silence: not tried again, the fallback route answers',
  budgetMs: 400 + TIMER_SLACK_MS,
  deadlineMs: 10_000,
  async run(ctx) {
    const h = await ctx.start(
      { c: { faults: ['reset;latency-ms=400'] } },
      { ...FAULT_RESILIENCE, deadlines: { ...FAULT_RESILIENCE.deadlines, firstByteMs: 1_000 } },
    );
    const result = await ctx.call(h, chat({ model: 'gpt-big' }));
    servedByFallbackRoute(ctx, h, result, 'c reset · a 200');
    ctx.check(result.elapsedMs >= 400, `answered after ${Math.round(result.elapsedMs)} ms, before c's reset`);
    ctx.caller(`${result.status} from ${result.backend} after ${Math.round(result.elapsedMs)} ms`);
    ctx.backend(seenBy(h, ['c', 'a']));
  },
};

/** A fast 500 from `c`, alone in its pool, is a transient: `c` is tried again (after a backoff) and serves. */
const fastTransientSingleMember: Scenario = {
  id: '20',
  title: '500 once on a backend alone in its pool: the same backend again',
  budgetMs: 1_000,
  deadlineMs: 10_000,
  async run(ctx) {
    const h = await ctx.start({ c: { faults: ['500;once'] } });
    const result = await ctx.call(h, chat({ model: 'gpt-big' }));
    const body = result.json as { model?: string } | undefined;
    ctx.check(
      result.status === 200 && result.backend === 'c' && body?.model === 'gpt-big',
      `expected 200 from c (gpt-big), got ${result.status} from ${result.backend} (${body?.model})`,
    );
    ctx.check(seenBy(h, ['c', 'a']) === 'c 500,200 · a –', `expected c 500,200 · a –, got ${seenBy(h, ['c', 'a'])}`);
    ctx.caller(`${result.status} from ${result.backend}, attempts ${result.headers.get('x-gateway-attempts')}`);
    ctx.backend(seenBy(h, ['c', 'a']));
  },
};

/**
 * The primary lacks the deployment (404 `model_not_found`): a property of that backend, not of the request.
 * The other member serves, every time, and the primary's breaker does not count it (it is still tried).
 */
const missingOnOneMember: Scenario = {
  id: '21a',
  title: '404 deployment not found on the primary: the other member serves',
  budgetMs: 1_000,
  deadlineMs: 10_000,
  async run(ctx) {
    const h = await ctx.start({ a: { faults: ['deployment-not-found'] } });
    const results: CallResult[] = [];
    for (let i = 0; i < 4; i++) results.push(await ctx.call(h, chat()));
    ctx.check(
      results.every((r) => r.status === 200 && r.backend === 'b' && r.headers.get('x-gateway-attempts') === '2'),
      `expected 200 from b after 2 attempts each time, got ` +
        `${results.map((r) => `${r.status} ${r.backend}`).join(', ')}`,
    );
    ctx.check(h.seen('a') === 4, `the primary's breaker counted the 404s: a saw ${h.seen('a')} of 4 calls`);
    ctx.caller(`200 ×${results.length} from b`);
    ctx.backend(seenBy(h, ['a', 'b']));
  },
};

/** Every member lacks the deployment: after trying each once, the backend's 404 goes back verbatim. */
const missingEverywhere: Scenario = {
  id: '21b',
  title: '404 deployment not found on every member: the 404, verbatim',
  budgetMs: 1_000,
  deadlineMs: 10_000,
  async run(ctx) {
    const h = await ctx.start({ a: { faults: ['deployment-not-found'] }, b: { faults: ['deployment-not-found'] } });
    const result = await ctx.call(h, chat());
    const code = (result.json as ErrorBody)?.error?.code;
    ctx.check(
      result.status === 404 && code === 'model_not_found',
      `expected 404 model_not_found, got ${result.status} ${code}`,
    );
    ctx.check(
      result.headers.get('x-gateway-error-code') === null,
      `expected the backend's own 404, got the gateway's ${result.headers.get('x-gateway-error-code')}`,
    );
    ctx.check(seenBy(h, ['a', 'b']) === 'a 404 · b 404', `expected a 404 · b 404, got ${seenBy(h, ['a', 'b'])}`);
    ctx.caller(`${result.status} ${code} from ${result.backend}, attempts ${result.headers.get('x-gateway-attempts')}`);
    ctx.backend(seenBy(h, ['a', 'b']));
  },
};

/** A 404 about the request's object (not a missing deployment) is the caller's: final after one attempt. */
const missingObject: Scenario = {
  id: '21c',
  title: '404 not_found for the request (not a deployment): final',
  budgetMs: 1_000,
  deadlineMs: 10_000,
  async run(ctx) {
    const h = await ctx.start();
    const result = await ctx.call(h, chat(), { headers: { 'x-sim-fault': '404' } });
    const code = (result.json as ErrorBody)?.error?.code;
    ctx.check(result.status === 404 && code === 'not_found', `expected 404 not_found, got ${result.status} ${code}`);
    ctx.check(seenBy(h, ['a', 'b']) === 'a 404 · b –', `expected a 404 · b –, got ${seenBy(h, ['a', 'b'])}`);
    ctx.caller(`${result.status} ${code}`);
    ctx.backend(seenBy(h, ['a', 'b']));
  },
};

/**
 * `a` refuses the prompt as too long for `gpt-short`: route `short`'s context-window fallback `big` (`c`,
 * `gpt-big`) answers; `b` (same pool, same model) is not asked — the prompt is never resent to that model.
 */
const contextWindowFallback: Scenario = {
  id: '23a',
  title: 'context length exceeded: the context-window fallback route answers',
  budgetMs: 1_000,
  deadlineMs: 10_000,
  async run(ctx) {
    const h = await ctx.start({ a: { faults: ['context-length'] } });
    const result = await ctx.call(h, chat({ model: 'gpt-short' }));
    const body = result.json as { model?: string } | undefined;
    ctx.check(
      result.status === 200 && result.backend === 'c' && body?.model === 'gpt-big',
      `expected 200 from c (gpt-big), got ${result.status} from ${result.backend} (${body?.model})`,
    );
    const seen = seenBy(h, ['a', 'b', 'c']);
    ctx.check(seen === 'a 400 · b – · c 200', `expected a 400 · b – · c 200, got ${seen}`);
    const record = await h.usageRecord(result.requestId);
    ctx.check(record?.route === 'big', `expected the record on route big, got ${record?.route}`);
    ctx.caller(
      `${result.status} ${body?.model} from ${result.backend}, attempts ${result.headers.get('x-gateway-attempts')}`,
    );
    ctx.backend(seen);
  },
};

/** The context-window fallback's pool is down: the caller gets the refusal it would have had, verbatim. */
const contextWindowFallbackDown: Scenario = {
  id: '23b',
  title: 'context length exceeded, context-window fallback down: the 400, verbatim',
  budgetMs: 1_000,
  deadlineMs: 10_000,
  async run(ctx) {
    const h = await ctx.start({ a: { faults: ['context-length'] }, c: { faults: ['503'] } });
    const result = await ctx.call(h, chat({ model: 'gpt-short' }));
    const code = (result.json as ErrorBody)?.error?.code;
    ctx.check(
      result.status === 400 && code === 'context_length_exceeded' && result.backend === 'a',
      `expected a's 400 context_length_exceeded, got ${result.status} ${code} from ${result.backend}`,
    );
    const seen = seenBy(h, ['a', 'b', 'c']);
    ctx.check(/^a 400 · b – · c (503,?)+$/.test(seen), `expected a 400 · b – · c 503…, got ${seen}`);
    ctx.caller(`${result.status} ${code} from ${result.backend}`);
    ctx.backend(seen);
  },
};

/** Scenarios 18–22: where attempts are spent (docs/resilience.md §1.1). */
export const attemptScenarios: readonly Scenario[] = [
  silentSingleMember,
  slowReset,
  fastTransientSingleMember,
  missingOnOneMember,
  missingEverywhere,
  missingObject,
  contextWindowFallback,
  contextWindowFallbackDown,
];
