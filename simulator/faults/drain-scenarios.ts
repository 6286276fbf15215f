import type { CallSummary } from '../../shared/core/pipeline/call-summary.js';
import type { DrainReport } from '../../shared/core/lifecycle/call-drain.js';
import type { FaultHarness, SseRead } from './fault-harness.js';
import { TIMER_SLACK_MS, chat, seenBy, type CallResult, type Scenario, type ScenarioContext } from './scenario.js';

/** 8 tokens at 20 per second: a stream of about 0.4 s, well within scenario 24a's grace period. */
const SHORT_STREAM = { tokens: 8, tps: 20 };
const SHORT_STREAM_MS = (SHORT_STREAM.tokens / SHORT_STREAM.tps) * 1_000;
/** 80 tokens at 10 per second: 8 s, far past scenario 24b's grace period. */
const LONG_STREAM = 'tps=10;tokens=80';
const LONG_GRACE_MS = 2_000;
const SHORT_GRACE_MS = 300;

/** The SSE view of a drained stream: content tokens, the terminal event's code, whether it ended with [DONE]. */
function viewOf(sse: SseRead | undefined): { tokens: number; errorCode: string | undefined; done: boolean } {
  let tokens = 0;
  let errorCode: string | undefined;
  for (const event of sse?.events ?? []) {
    if (event === '[DONE]') continue;
    const parsed = JSON.parse(event) as { choices?: { delta?: { content?: string } }[]; error?: { code?: string } };
    if ((parsed.choices?.[0]?.delta?.content ?? '') !== '') tokens++;
    errorCode = parsed.error?.code ?? errorCode;
  }
  return { tokens, errorCode, done: sse?.events.at(-1) === '[DONE]' };
}

/** The summary of call `requestId` once it has ended (summaries are reported after the body ends). */
async function summaryOf(h: FaultHarness, requestId: string): Promise<CallSummary> {
  for (;;) {
    const found = h.calls.find((c) => c.requestId === requestId);
    if (found !== undefined) return found;
    await h.nextCall();
  }
}

/**
 * Streams with `fault`, and begins the drain (`graceMs`) as soon as the stream's headers arrived — the call is
 * then in flight; resolves once the drain has begun, with the stream's result and the drain's report to come.
 */
async function streamThenDrain(
  ctx: ScenarioContext,
  h: FaultHarness,
  fault: string,
  graceMs: number,
): Promise<{ stream: Promise<CallResult>; drained: () => Promise<DrainReport> }> {
  let draining: Promise<DrainReport> | undefined;
  let begun!: () => void;
  const inFlight = new Promise<void>((resolve) => (begun = resolve));
  const stream = ctx.call(h, chat({ stream: true }), {
    headers: { 'x-sim-fault': fault },
    onHeaders: () => {
      draining = h.runtime.drain(graceMs);
      begun();
    },
  });
  await Promise.race([inFlight, stream]);
  return { stream, drained: () => draining ?? Promise.reject(new Error('the drain never began')) };
}

/**
 * Scenarios 24a–b: the shutdown drain (SIGTERM on the standalone host, the worker's shutdown on Functions; here
 * `runtime.drain`, which both hosts call). Calls in flight finish within the grace period; new calls are turned
 * away; a stream still open when the grace ends is cut by the gateway — the terminal event names the shutdown,
 * and nothing is re-dispatched to another backend of the instance that is going away (ADR 0036).
 */
export const drainScenarios: readonly Scenario[] = [
  {
    id: '24a',
    title: `drain: a stream in flight finishes within the grace period (${LONG_GRACE_MS} ms), a new call gets 503`,
    budgetMs: SHORT_STREAM_MS + TIMER_SLACK_MS,
    deadlineMs: 10_000,
    async run(ctx) {
      const h = await ctx.start();
      const { stream, drained } = await streamThenDrain(
        ctx,
        h,
        `tps=${SHORT_STREAM.tps};tokens=${SHORT_STREAM.tokens}`,
        LONG_GRACE_MS,
      );
      const refused = await ctx.call(h, chat(), { timed: false });
      const code = (refused.json as { error?: { code?: string } } | undefined)?.error?.code;
      ctx.check(
        refused.status === 503 && code === 'GW_ERR_SERVICE_SHUTTING_DOWN',
        `new call: expected 503 GW_ERR_SERVICE_SHUTTING_DOWN, got ${refused.status} ${code}`,
      );
      ctx.check(refused.headers.get('connection') === 'close', 'new call: expected connection: close');
      const ready = await fetch(`${h.url}/health/ready`, { signal: ctx.signal });
      ctx.check(ready.status === 503, `readiness while draining: expected 503, got ${ready.status}`);
      await ready.body?.cancel();
      const result = await stream;
      const v = viewOf(result.sse);
      const report = await drained();
      ctx.check(
        v.tokens === SHORT_STREAM.tokens && v.done && v.errorCode === undefined && result.sse?.ended === 'clean',
        `stream in flight: expected ${SHORT_STREAM.tokens} tokens and [DONE], got ${v.tokens} ${v.errorCode ?? ''}`,
      );
      ctx.check(
        report.inFlightAtStart === 1 && report.cut === 0,
        `drain: expected 1 in flight, none cut, got ${JSON.stringify(report)}`,
      );
      ctx.check(h.seen('b') === 0, `b: expected nothing, got ${seenBy(h, ['b'])}`);
      ctx.caller(
        `stream ${result.status}, ${v.tokens} tokens, [DONE], ended clean; new call ${refused.status} ${code}`,
      );
      ctx.backend(`${seenBy(h, ['a', 'b'])}; drain: ${report.inFlightAtStart} in flight, ${report.cut} cut`);
    },
  },
  {
    id: '24b',
    title: `drain: a stream past the grace period (${SHORT_GRACE_MS} ms) ends with the shutdown event, not recovered`,
    budgetMs: SHORT_GRACE_MS + TIMER_SLACK_MS,
    deadlineMs: 10_000,
    async run(ctx) {
      // b could continue the answer by prefill: a recovery would be tempting, and must not happen.
      const h = await ctx.start({ b: { continuePrefill: true } }, undefined, (config) => ({
        ...config,
        backends: config.backends?.map((b) => (b.id === 'b' ? { ...b, continuePrefill: true } : b)),
      }));
      // The first estimate of a cut answer loads this gateway's tokenizer: here, not in the timed call.
      await ctx.call(h, chat({ stream: true }), { headers: { 'x-sim-fault': 'cut;after=1' }, timed: false });
      h.sims.a!.reset();
      h.sims.b!.reset();
      const { stream, drained } = await streamThenDrain(ctx, h, LONG_STREAM, SHORT_GRACE_MS);
      const result = await stream;
      const v = viewOf(result.sse);
      const report = await drained();
      const summary = await summaryOf(h, result.requestId);
      const record = await h.usageRecord(result.requestId);
      ctx.check(
        v.errorCode === 'GW_ERR_SERVICE_SHUTTING_DOWN' && !v.done && result.sse?.ended === 'error',
        `stream: expected the shutdown terminal event, an abnormal end; got ${v.errorCode}, ${result.sse?.ended}`,
      );
      ctx.check(v.tokens > 0, 'stream: expected the tokens delivered before the cut');
      ctx.check(
        result.elapsedMs >= SHORT_GRACE_MS,
        `stream: cut after ${Math.round(result.elapsedMs)} ms, before the ${SHORT_GRACE_MS} ms grace period`,
      );
      ctx.check(h.seen('b') === 0 && h.seen('c') === 0, `nothing re-dispatched: got ${seenBy(h)}`);
      ctx.check(
        JSON.stringify(summary.attempts.map((a) => [a.backend, a.outcome])) === '[["a","served"]]',
        `attempts: expected a served only, got ${JSON.stringify(summary.attempts)}`,
      );
      ctx.check(
        record?.outcome === 'cut' && record.cutReason === 'shutdown' && record.recovery === null,
        `record: expected cut by shutdown, no recovery; got ${record?.outcome} ${record?.cutReason}`,
      );
      ctx.check(report.cut === 1 && report.remaining === 0, `drain: expected 1 cut, got ${JSON.stringify(report)}`);
      ctx.caller(`${result.status}, ${v.tokens} tokens, ${v.errorCode}, ended ${result.sse?.ended}`);
      ctx.backend(`${seenBy(h, ['a', 'b'])}; record ${record?.outcome} (${record?.cutReason}), no recovery`);
    },
  },
];
