import type { GatewayConfigInput } from '../../shared/config/gateway-schema.js';
import type { UsageRecord } from '../../shared/core/usage/usage-record.js';
import type { SimulatorConfig } from '../simulator.js';
import { completionText } from '../token-count.js';
import type { FaultHarness } from './fault-harness.js';
import { FAULT_RESILIENCE, TIMER_SLACK_MS, chat, seenBy, type Scenario, type ScenarioContext } from './scenario.js';

const { idleMs } = FAULT_RESILIENCE.deadlines;

/** What a recovered stream looked like to the caller. */
interface RecoveredView {
  readonly text: string;
  readonly ids: number;
  readonly finishes: number;
  readonly usageChunks: { total_tokens: number }[];
  readonly done: number;
  readonly toolArgs: string;
  readonly errorCode: string | undefined;
}

function viewOf(events: readonly string[]): RecoveredView {
  let text = '';
  let toolArgs = '';
  let finishes = 0;
  let done = 0;
  let errorCode: string | undefined;
  const ids = new Set<string>();
  const usageChunks: { total_tokens: number }[] = [];
  for (const event of events) {
    if (event === '[DONE]') {
      done++;
      continue;
    }
    const chunk = JSON.parse(event) as {
      id?: string;
      error?: { code?: string };
      usage?: { total_tokens: number } | null;
      choices?: {
        delta?: { content?: string; tool_calls?: { function?: { arguments?: string } }[] };
        finish_reason?: string | null;
      }[];
    };
    if (chunk.error !== undefined) errorCode = chunk.error.code;
    if (chunk.id !== undefined) ids.add(chunk.id);
    if (chunk.usage) usageChunks.push(chunk.usage);
    const choice = chunk.choices?.[0];
    text += choice?.delta?.content ?? '';
    for (const call of choice?.delta?.tool_calls ?? []) toolArgs += call.function?.arguments ?? '';
    if (choice?.finish_reason) finishes++;
  }
  return { text, ids: ids.size, finishes, usageChunks, done, toolArgs, errorCode };
}

/** Backend `b` declared able to continue a prefill, and route `small`'s recovery setting. */
function recoveryConfig(continuePrefill: boolean): (config: GatewayConfigInput) => GatewayConfigInput {
  return (config) => ({
    ...config,
    backends: config.backends?.map((b) => (b.id === 'b' ? { ...b, continuePrefill } : b)),
  });
}

interface RecoveryCase {
  readonly id: string;
  readonly title: string;
  /** Simulator `a`'s fault (it breaks), `b`'s config. */
  readonly a: string;
  readonly b: SimulatorConfig;
  readonly continuePrefill: boolean;
  readonly body?: Record<string, unknown>;
  readonly budgetMs: number;
  /** Checks on what the caller saw and the record; returns the scorecard's caller text. */
  readonly expect: (ctx: ScenarioContext, v: RecoveredView, record: UsageRecord | undefined, h: FaultHarness) => void;
}

function recoveryScenario(c: RecoveryCase): Scenario {
  return {
    id: c.id,
    title: c.title,
    budgetMs: c.budgetMs,
    deadlineMs: 10_000,
    async run(ctx) {
      const h = await ctx.start({}, undefined, recoveryConfig(c.continuePrefill));
      // The first estimate of a cut answer loads this gateway's tokenizer: here, not in the timed call.
      await ctx.call(h, chat({ stream: true }), { headers: { 'x-sim-fault': 'cut;after=1' }, timed: false });
      h.sims.a!.configure({ faults: [c.a] });
      h.sims.b!.configure(c.b);
      h.sims.a!.reset();
      h.sims.b!.reset();
      const ended = h.nextCall();
      const result = await ctx.call(h, { ...chat({ stream: true }), ...c.body });
      await ended;
      const v = viewOf(result.sse?.events ?? []);
      const record = await h.usageRecord(result.requestId);
      c.expect(ctx, v, record, h);
      const r = record?.recovery;
      ctx.caller(
        `${result.status}, ${v.errorCode ?? `${v.finishes} finish, ${v.done} [DONE]`}, ` +
          `ids ${v.ids}, ended ${result.sse?.ended}`,
      );
      const refused = r?.prefillRefused === true ? ' (prefill refused)' : '';
      ctx.backend(
        `${seenBy(h, ['a', 'b'])}; record ${r?.mode ?? '–'} ` +
          `${r?.result ?? ''}${refused}, completion ${record?.tokens.completionTokens}`,
      );
    },
  };
}

/** A recovered stream: the whole answer once, one id, one finish, one [DONE], a clean end; the record says how. */
function seamless(ctx: ScenarioContext, v: RecoveredView, record: UsageRecord | undefined, mode: string): void {
  ctx.check(v.text === completionText(16), `expected the whole answer once, got ${JSON.stringify(v.text)}`);
  ctx.check(v.ids === 1 && v.finishes === 1 && v.done === 1, `ids ${v.ids}, finishes ${v.finishes}, [DONE] ${v.done}`);
  ctx.check(
    record?.recovered === true && record.recovery?.mode === mode && record.outcome === 'complete',
    `record: expected recovered by ${mode}, got ${JSON.stringify(record?.recovery)} outcome ${record?.outcome}`,
  );
  ctx.check(
    JSON.stringify(record?.attempts.items.map((a) => a.outcome)).startsWith('["cut"'),
    `record attempts: expected the cut one first, got ${JSON.stringify(record?.attempts.items)}`,
  );
}

/** Scenarios 22a–g: a stream broken after its first byte is finished on the other backend (docs/resilience.md §1.2). */
export const recoveryScenarios: readonly Scenario[] = [
  recoveryScenario({
    id: '22a',
    title: 'stream cut after 5 tokens, continued by prefill on b',
    a: 'cut;after=5',
    b: { continuePrefill: true },
    continuePrefill: true,
    budgetMs: 500,
    expect: (ctx, v, record, h) => {
      seamless(ctx, v, record, 'continue');
      ctx.check(h.seen('b') === 1, `b: expected one continuation, got ${h.seen('b')}`);
    },
  }),
  recoveryScenario({
    id: '22b',
    title: 'prefill refused (400) on b: replayed, the 400 never shown',
    a: 'cut;after=5',
    b: { continuePrefill: true, faults: ['prefill-rejected'] },
    continuePrefill: true,
    budgetMs: 500,
    expect: (ctx, v, record, h) => {
      seamless(ctx, v, record, 'replay');
      ctx.check(record?.recovery?.prefillRefused === true, 'record: expected prefillRefused');
      ctx.check(
        h.sims
          .b!.attempts()
          .map((a) => a.status)
          .join(',') === '400,200',
        `b: expected 400 then 200, got ${seenBy(h, ['b'])}`,
      );
    },
  }),
  recoveryScenario({
    id: '22c',
    title: 'stream cut after 5 tokens, replayed on b (identical): only the rest forwarded',
    a: 'cut;after=5',
    b: {},
    continuePrefill: false,
    budgetMs: 500,
    expect: (ctx, v, record) => seamless(ctx, v, record, 'replay'),
  }),
  recoveryScenario({
    id: '22d',
    title: 'replay on b diverges: terminal error event, no mixed answer',
    a: 'cut;after=5',
    b: { faults: ['text-offset=3'] },
    continuePrefill: false,
    budgetMs: 500,
    expect: (ctx, v, record) => {
      ctx.check(v.errorCode === 'GW_ERR_STREAM_INTERRUPTED', `expected the terminal error event, got ${v.errorCode}`);
      ctx.check(
        v.text === completionText(5) && v.done === 0,
        `expected the 5 tokens only, got ${JSON.stringify(v.text)}`,
      );
      ctx.check(
        record?.recovered === false && record.recovery?.result === 'diverged' && record.outcome === 'cut',
        `record: expected a diverged recovery, got ${JSON.stringify(record?.recovery)}`,
      );
    },
  }),
  recoveryScenario({
    id: '22e',
    title: `stream stall after 3 tokens (idle ${idleMs} ms), continued on b within the idle deadline`,
    a: 'stall;after=3',
    b: { continuePrefill: true },
    continuePrefill: true,
    budgetMs: idleMs + TIMER_SLACK_MS,
    expect: (ctx, v, record) => {
      seamless(ctx, v, record, 'continue');
      ctx.check(record?.recovery?.failure === 'idle-timeout', `failure: ${record?.recovery?.failure}`);
    },
  }),
  recoveryScenario({
    id: '22f',
    title: 'tool-call stream cut: replayed, never continued by prefill',
    a: 'cut;after=3',
    b: { continuePrefill: true },
    continuePrefill: true,
    body: {
      tools: [
        {
          type: 'function',
          function: { name: 'f', parameters: { type: 'object', properties: { q: { type: 'string' } } } },
        },
      ],
    },
    budgetMs: 500,
    expect: (ctx, v, record) => {
      ctx.check(v.toolArgs === '{"q":"example"}', `tool arguments: ${v.toolArgs}`);
      ctx.check(
        v.finishes === 1 && v.done === 1 && v.ids === 1,
        `finishes ${v.finishes}, [DONE] ${v.done}, ids ${v.ids}`,
      );
      ctx.check(record?.recovery?.mode === 'replay' && record.recovered, `record: ${JSON.stringify(record?.recovery)}`);
    },
  }),
  recoveryScenario({
    id: '22h',
    title: `a continuation longer than the idle deadline (11 tokens at 20/s) streams to its end`,
    a: 'cut;after=5',
    b: { continuePrefill: true, tokensPerSecond: 20 },
    continuePrefill: true,
    budgetMs: 550 + 2 * TIMER_SLACK_MS,
    expect: (ctx, v, record) => seamless(ctx, v, record, 'continue'),
  }),
  recoveryScenario({
    id: '22g',
    title: 'include_usage: one usage chunk, the sum of both attempts',
    a: 'cut;after=5',
    b: { continuePrefill: true },
    continuePrefill: true,
    body: { stream_options: { include_usage: true } },
    budgetMs: 500,
    expect: (ctx, v, record) => {
      seamless(ctx, v, record, 'continue');
      const sum = (record?.recovery?.attemptTokens ?? []).reduce((n, t) => n + t.totalTokens, 0);
      ctx.check(
        v.usageChunks.length === 1 && v.usageChunks[0]!.total_tokens === sum && record?.tokens.totalTokens === sum,
        `usage chunks ${JSON.stringify(v.usageChunks)}, attempts' sum ${sum}, record ${record?.tokens.totalTokens}`,
      );
    },
  }),
];
