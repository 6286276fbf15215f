import type { GatewayConfigInput } from '../../shared/config/gateway-schema.js';
import type { SseRead } from './fault-harness.js';
import { FAULT_RESILIENCE, TIMER_SLACK_MS, chat, seenBy, type Scenario } from './scenario.js';

const { firstByteMs, idleMs } = FAULT_RESILIENCE.deadlines;

interface StreamView {
  /** Content tokens received (chat chunks with a non-empty `delta.content`). */
  readonly tokens: number;
  readonly done: boolean;
  /** The terminal error event's code, when the last event is one. */
  readonly errorCode: string | undefined;
  /** `data:` payloads that are neither JSON nor `[DONE]`. */
  readonly malformed: number;
}

function viewOf(sse: SseRead | undefined): StreamView {
  let tokens = 0;
  let malformed = 0;
  let errorCode: string | undefined;
  for (const event of sse?.events ?? []) {
    if (event === '[DONE]') continue;
    try {
      const parsed = JSON.parse(event) as { choices?: { delta?: { content?: string } }[]; error?: { code?: string } };
      if ((parsed.choices?.[0]?.delta?.content ?? '') !== '') tokens++;
      errorCode = parsed.error?.code;
    } catch {
      malformed++;
    }
  }
  return { tokens, done: sse?.events.at(-1) === '[DONE]', errorCode, malformed };
}

const describe = (status: number, v: StreamView, sse: SseRead | undefined): string =>
  `${status}, ${v.tokens} tokens, ${v.errorCode ?? (v.done ? '[DONE]' : 'no [DONE]')}, ended ${sse?.ended ?? '–'}`;

/** Route `small` with `streamRecovery: off`. */
function withoutRecovery(config: GatewayConfigInput): GatewayConfigInput {
  return {
    ...config,
    routes: config.routes?.map((r) => (r.id === 'small' ? { ...r, streamRecovery: 'off' as const } : r)),
  };
}

/**
 * A stream broken after its first byte: the tokens so far, a terminal SSE error event, an abnormal end, a `cut` record.
 */
function brokenStream(
  id: string,
  title: string,
  fault: string,
  after: number,
  code: string,
  budgetMs: number,
  minElapsedMs: number,
): Scenario {
  return {
    id,
    title,
    budgetMs,
    deadlineMs: 10_000,
    async run(ctx) {
      // Today's behaviour, without stream recovery (scenarios 22a–g recover the same faults).
      const h = await ctx.start(undefined, undefined, withoutRecovery);
      // The first estimate of a cut answer loads the tokenizer (reported as its own finding); warm it
      // so the timed call measures the cut itself.
      const warm = await ctx.call(h, chat({ stream: true }), {
        headers: { 'x-sim-fault': 'cut;after=1' },
        timed: false,
      });
      h.sims.a!.reset();
      h.sims.b!.reset();
      const ended = h.nextCall();
      const result = await ctx.call(h, chat({ stream: true }), { headers: { 'x-sim-fault': fault } });
      await ended;
      const v = viewOf(result.sse);
      const record = await h.usageRecord(result.requestId);
      const total = h.seen('a') + h.seen('b');
      ctx.check(
        result.status === 200 && v.tokens === after,
        `expected 200 and ${after} tokens, got ${result.status} and ${v.tokens}`,
      );
      ctx.check(
        v.errorCode === code,
        `expected a terminal SSE error event ${code}, last event: ${result.sse?.events.at(-1)}`,
      );
      ctx.check(
        !v.done && result.sse?.ended === 'error',
        `expected an abnormal end without [DONE], got ended ${result.sse?.ended}, [DONE] ${v.done}`,
      );
      ctx.check(record?.outcome === 'cut', `usage record outcome: expected cut, got ${record?.outcome}`);
      ctx.check(total === 1, `never retried after the first byte: expected 1 attempt, got ${total}`);
      ctx.check(
        result.elapsedMs >= minElapsedMs,
        `ended after ${Math.round(result.elapsedMs)} ms, before the ${minElapsedMs} ms deadline`,
      );
      ctx.caller(`${describe(result.status, v, result.sse)} (warm-up cut: ${Math.round(warm.elapsedMs)} ms)`);
      ctx.backend(
        `${seenBy(h, ['a', 'b'])} (${h.sims.a!.attempts()[0]?.outcome}); record outcome=${record?.outcome} ` +
          `completion=${record?.tokens.completionTokens} (${record?.tokens.completionSource})`,
      );
    },
  };
}

/**
 * The primary sends its headers at once, then nothing for 3 s. A stream's first byte is its first event:
 * nothing has reached the caller yet, so the primary is abandoned at the first-byte deadline and the call
 * fails over (docs/resilience.md §3) — the caller gets the fallback's whole answer, ending with [DONE].
 */
const slowFirstToken: Scenario = {
  id: '9',
  title: `slow first token (3000 ms > first byte ${firstByteMs} ms)`,
  budgetMs: firstByteMs + TIMER_SLACK_MS,
  deadlineMs: 10_000,
  async run(ctx) {
    const h = await ctx.start({ a: { faults: ['first-token-ms=3000'] } });
    const result = await ctx.call(h, chat({ stream: true }));
    const v = viewOf(result.sse);
    const failedOver = result.backend === 'b' && v.done && result.sse?.ended === 'clean' && v.tokens === 16;
    ctx.check(
      failedOver,
      `expected a failover to b with all 16 tokens and [DONE], got ` +
        `${describe(result.status, v, result.sse)} from ${result.backend}`,
    );
    ctx.check(
      result.headers.get('x-gateway-attempts') === '2' && h.seen('a') === 1 && h.seen('b') === 1,
      `expected one attempt each, got attempts ` +
        `${result.headers.get('x-gateway-attempts')}, a ${h.seen('a')}, b ${h.seen('b')}`,
    );
    ctx.check(
      result.elapsedMs >= firstByteMs,
      `ended after ${Math.round(result.elapsedMs)} ms, before the ${firstByteMs} ms first-byte deadline`,
    );
    ctx.check(
      result.elapsedMs < 3000,
      `ended after ${Math.round(result.elapsedMs)} ms: the idle deadline did not act before the first token`,
    );
    ctx.caller(`${failedOver ? 'failover: ' : ''}${describe(result.status, v, result.sse)} from ${result.backend}`);
    ctx.backend(seenBy(h, ['a', 'b']) + ` (a: ${h.sims.a!.attempts()[0]?.outcome})`);
  },
};

/** A malformed frame mid-stream is passed on or dropped; the stream still ends with [DONE] and the next call works. */
const malformedChunk: Scenario = {
  id: '12',
  title: 'malformed chunk mid-stream',
  budgetMs: 500,
  deadlineMs: 10_000,
  async run(ctx) {
    const h = await ctx.start();
    const ended = h.nextCall();
    const result = await ctx.call(h, chat({ stream: true }), { headers: { 'x-sim-fault': 'malformed;after=2' } });
    await ended;
    const v = viewOf(result.sse);
    const record = await h.usageRecord(result.requestId);
    ctx.check(
      result.status === 200 && v.done && result.sse?.ended === 'clean',
      `expected 200 ending with [DONE], got ${describe(result.status, v, result.sse)}`,
    );
    ctx.check(v.tokens === 16, `expected all 16 tokens, got ${v.tokens}`);
    ctx.check(
      record?.outcome === 'complete' && record.tokens.completionTokens === 16,
      `usage record: expected complete with 16 completion tokens, ` +
        `got ${record?.outcome} ${record?.tokens.completionTokens}`,
    );
    const next = await ctx.call(h, chat(), { timed: false });
    ctx.check(next.status === 200, `next call: expected 200, got ${next.status}`);
    ctx.caller(
      `${describe(result.status, v, result.sse)}, malformed frame ` +
        `${v.malformed > 0 ? 'passed on' : 'dropped'}; next ${next.status}`,
    );
    ctx.backend(`${seenBy(h, ['a', 'b'])}; record ${record?.outcome} completion=${record?.tokens.completionTokens}`);
  },
};

/** A stream that ends cleanly without [DONE] is finalised at once (no deadline waited), usage recorded. */
const missingDone: Scenario = {
  id: '13',
  title: 'stream without [DONE]',
  budgetMs: idleMs - 50,
  deadlineMs: 10_000,
  async run(ctx) {
    const h = await ctx.start();
    const ended = h.nextCall();
    const result = await ctx.call(h, chat({ stream: true }), { headers: { 'x-sim-fault': 'no-done' } });
    const summary = await ended;
    const v = viewOf(result.sse);
    const record = await h.usageRecord(result.requestId);
    ctx.check(
      result.status === 200 && v.tokens === 16 && result.sse?.ended === 'clean',
      `expected 200 with 16 tokens and a clean end, got ${describe(result.status, v, result.sse)}`,
    );
    ctx.check(
      record !== undefined && record.tokens.completionTokens === 16 && record.tokens.promptTokens > 0,
      `usage record: expected 16 completion tokens, got ` +
        `${record?.tokens.completionTokens} (prompt ${record?.tokens.promptTokens})`,
    );
    ctx.check(
      summary.totalMs < idleMs,
      `finalised after ${Math.round(summary.totalMs)} ms, not before the ${idleMs} ms idle deadline`,
    );
    ctx.caller(describe(result.status, v, result.sse));
    ctx.backend(
      `${seenBy(h, ['a', 'b'])} (${h.sims.a!.attempts()[0]?.outcome}); record ${record?.outcome} ` +
        `completion=${record?.tokens.completionTokens} (${record?.tokens.completionSource}) ` +
        `in ${Math.round(summary.totalMs)} ms`,
    );
  },
};

/** Scenarios 9–13: failures around and after the first byte of a stream. */
export const streamScenarios: readonly Scenario[] = [
  slowFirstToken,
  brokenStream('10', 'stream cut after 5 tokens (recovery off)', 'cut;after=5', 5, 'GW_ERR_STREAM_INTERRUPTED', 500, 0),
  brokenStream(
    '11',
    `stream stall after 3 tokens (idle ${idleMs} ms, recovery off)`,
    'stall;after=3',
    3,
    'GW_ERR_STREAM_IDLE_TIMEOUT',
    idleMs + TIMER_SLACK_MS,
    idleMs,
  ),
  malformedChunk,
  missingDone,
];
