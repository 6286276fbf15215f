import type { GatewayConfigInput } from '../../shared/config/gateway-schema.js';
import type { ResilienceConfigInput } from '../../shared/config/resilience-schema.js';
import type { SimulatorConfig } from '../simulator.js';
import { postJson, readSse, startFaultHarness, type FaultHarness, type SseRead } from './fault-harness.js';

/**
 * Deadlines and breaker settings small enough for every scenario to run in about a second. A failure after
 * 200 ms of silence counts as slow (`fastFailureMs`): that backend is not tried again in the call.
 */
export const FAULT_RESILIENCE = {
  deadlines: { connectMs: 300, firstByteMs: 300, idleMs: 300 },
  breaker: { failureThreshold: 3, minimumRequests: 3, openIntervalMs: 1000, windowMs: 30_000 },
  retry: { backoffBaseMs: 10, backoffMaxMs: 50, fastFailureMs: 200 },
  retryAfter: { defaultCoolDownMs: 2000 },
} as const satisfies ResilienceConfigInput;

/**
 * Lateness allowed on one of the engine's timers (a first-byte or idle deadline, a wait for a cooling
 * backend), with the scheduling and the loopback failover attempt that follow it. The deadlines are the
 * engine's own timers (one per attempt, one idle watchdog per body) and fire within ~40 ms on an idle
 * machine; the slack leaves room for a loaded one. A regression to undici's coarse timers (1 s resolution:
 * a 300 ms deadline fires after 0.7–1.5 s) exceeds every budget built on it and fails the row in
 * `npm run faults` (the vitest cases assert the work done, not the budget).
 */
export const TIMER_SLACK_MS = 300;

/**
 * Runs a few ordinary and failing calls through a throwaway gateway, so that the first scenario of a process
 * does not measure JIT compilation, module loading or the tokenizer's first load instead of the gateway's
 * timers. Once per process.
 */
export async function warmUp(): Promise<void> {
  warming ??= (async () => {
    const h = await startFaultHarness({ simulators: { a: {}, b: {}, c: {} }, config: (urls) => faultConfig(urls) });
    try {
      // A cut stream's usage is estimated: the first estimate loads the tokenizer (~20 MB, ~0.1 s; up to a
      // few tenths of a second on a loaded machine, ADR 0085) — here, not in a scenario's timed call.
      await readSse(await postJson(`${h.url}/v1/chat/completions`, chat({ stream: true }), { 'x-sim-fault': 'cut' }));
      for (let i = 0; i < 10; i++) {
        await (await postJson(`${h.url}/v1/chat/completions`, chat())).text();
        await readSse(await postJson(`${h.url}/v1/chat/completions`, chat({ stream: true })));
        await (await postJson(`${h.url}/v1/chat/completions`, chat(), { 'x-sim-fault': '500' })).text();
      }
    } finally {
      await h.close();
    }
  })();
  return warming;
}

let warming: Promise<void> | undefined;

/**
 * Three simulators: `a` (group `primary`) and `b` (group `fallback`) in pool `main` behind route
 * `small` (`gpt-4o-mini`); `c` alone in pool `big` behind route `big` (`gpt-big`), whose fallback is
 * `small`; route `short` (`gpt-short`, pool `main`) names `big` as its context-window fallback.
 */
export function faultConfig(
  urls: Readonly<Record<string, string>>,
  resilience: ResilienceConfigInput = FAULT_RESILIENCE,
): GatewayConfigInput {
  return {
    backends: [
      { id: 'a', url: urls.a!, kind: 'openai', group: 'primary' },
      { id: 'b', url: urls.b!, kind: 'openai', group: 'fallback' },
      { id: 'c', url: urls.c!, kind: 'openai', group: 'big' },
    ],
    pools: [
      { id: 'main', backends: ['a', 'b'], groupOrder: ['primary', 'fallback'] },
      { id: 'big', backends: ['c'] },
    ],
    routes: [
      { id: 'small', match: { models: ['gpt-4o-mini'] }, pool: 'main' },
      { id: 'big', match: { models: ['gpt-big'] }, pool: 'big', fallbacks: ['small'] },
      { id: 'short', match: { models: ['gpt-short'] }, pool: 'main', contextWindowFallbacks: ['big'] },
    ],
    governance: { identity: { anonymous: { allowed: true } } },
    resilience,
  };
}

/** A chat completion request body. */
export function chat(options: { model?: string; stream?: boolean } = {}): Record<string, unknown> {
  return {
    model: options.model ?? 'gpt-4o-mini',
    messages: [{ role: 'user', content: 'Hello there' }],
    ...(options.stream === true ? { stream: true } : {}),
  };
}

/** What one call to the gateway gave the caller. */
export interface CallResult {
  readonly status: number;
  readonly headers: Headers;
  /** The gateway's `x-gateway-backend` (the backend that answered), or null. */
  readonly backend: string | null;
  readonly requestId: string;
  /** Parsed JSON body (non-SSE), or undefined when not JSON. */
  readonly json: unknown;
  /** The raw body text (non-SSE). */
  readonly text: string;
  /** The SSE read (SSE responses). */
  readonly sse: SseRead | undefined;
  /** From sending the request to the end of the body, real time. */
  readonly elapsedMs: number;
}

/** One row of the scorecard. */
export interface ScorecardRow {
  readonly id: string;
  readonly title: string;
  readonly caller: string;
  readonly backend: string;
  /** The measured duration of the scenario's timed call(s): the longest one. */
  readonly elapsedMs: number;
  readonly budgetMs: number;
  /**
   * The timed calls took longer than the budget. A timing, not a check: `npm run faults` fails the row on it
   * (run it on a quiet machine); the vitest cases assert only {@link failures}, the work done, because a
   * loaded CI machine stretches every timer.
   */
  readonly overBudget: boolean;
  /** No failure and within the budget. */
  readonly pass: boolean;
  /** Every failed check and error (and a hang past the deadline), in order. */
  readonly failures: readonly string[];
}

/** What a scenario gets: a harness factory, checks, and a call helper bounded by the scenario's deadline. */
export interface ScenarioContext {
  /**
   * Starts a fresh gateway and simulators `a`, `b`, `c` with these instance configs; `tweak` edits the
   * gateway configuration of {@link faultConfig} (a route or backend setting).
   */
  start(
    simulators?: Readonly<Record<string, SimulatorConfig>>,
    resilience?: ResilienceConfigInput,
    tweak?: (config: GatewayConfigInput) => GatewayConfigInput,
  ): Promise<FaultHarness>;
  /** Records a failed check when `ok` is false; the scenario goes on so every problem is reported. */
  check(ok: boolean, message: string): void;
  /**
   * Sends one request and reads the whole answer; `timed` calls count towards the row's elapsed time;
   * `onHeaders` runs once the response headers arrived, before the body is read (the call is then in flight).
   */
  call(
    h: FaultHarness,
    body: Record<string, unknown>,
    options?: { headers?: Record<string, string>; timed?: boolean; onHeaders?: () => void },
  ): Promise<CallResult>;
  /** What the caller got, for the scorecard. */
  caller(text: string): void;
  /** What the backends saw, for the scorecard. */
  backend(text: string): void;
  /** Aborted when the scenario's deadline passes. */
  readonly signal: AbortSignal;
}

/** A fault scenario: a name, a time budget for its timed calls, a hard deadline, and its script. */
export interface Scenario {
  readonly id: string;
  readonly title: string;
  /** Longest a timed call may take (asserted, printed). */
  readonly budgetMs: number;
  /** The whole scenario (set-up included) is abandoned after this long. */
  readonly deadlineMs: number;
  run(ctx: ScenarioContext): Promise<void>;
}

/** What one run of a scenario collects: its failures, its harnesses, the scorecard's texts, its longest timed call. */
class ScenarioRun {
  readonly failures: string[] = [];
  readonly harnesses: FaultHarness[] = [];
  readonly controller = new AbortController();
  callerText = '';
  backendText = '';
  elapsedMs = 0;

  /** The context the scenario's script gets. */
  context(): ScenarioContext {
    return {
      signal: this.controller.signal,
      start: async (simulators = {}, resilience, tweak = (config) => config) => {
        const h = await startFaultHarness({
          simulators: { a: {}, b: {}, c: {}, ...simulators },
          config: (urls) => tweak(faultConfig(urls, resilience)),
        });
        this.harnesses.push(h);
        return h;
      },
      check: (ok, message) => {
        if (!ok) this.failures.push(message);
      },
      caller: (text) => {
        this.callerText = text;
      },
      backend: (text) => {
        this.backendText = text;
      },
      call: (h, body, options = {}) => this.call(h, body, options),
    };
  }

  private async call(
    h: FaultHarness,
    body: Record<string, unknown>,
    options: { headers?: Record<string, string>; timed?: boolean; onHeaders?: () => void },
  ): Promise<CallResult> {
    const started = performance.now();
    const response = await postJson(`${h.url}/v1/chat/completions`, body, options.headers, this.controller.signal);
    options.onHeaders?.();
    const isSse = (response.headers.get('content-type') ?? '').startsWith('text/event-stream');
    const sse = isSse ? await readSse(response) : undefined;
    const text = isSse ? '' : await response.text();
    const took = performance.now() - started;
    if (options.timed !== false) this.elapsedMs = Math.max(this.elapsedMs, took);
    return {
      status: response.status,
      headers: response.headers,
      backend: response.headers.get('x-gateway-backend'),
      requestId: response.headers.get('x-gateway-request-id') ?? '',
      json: jsonOrUndefined(text),
      text,
      sse,
      elapsedMs: took,
    };
  }
}

function jsonOrUndefined(text: string): unknown {
  try {
    return text === '' ? undefined : JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * Runs one scenario on its own gateway and simulators, bounded by its deadline: on expiry the
 * in-flight calls are aborted and the harness closed (which ends held and stalled sockets).
 */
export async function runScenario(scenario: Scenario): Promise<ScorecardRow> {
  const run = new ScenarioRun();
  await runWithinDeadline(scenario, run);
  const rounded = Math.round(run.elapsedMs);
  const overBudget = rounded > scenario.budgetMs;
  return {
    id: scenario.id,
    title: scenario.title,
    caller: run.callerText,
    backend: run.backendText,
    elapsedMs: rounded,
    budgetMs: scenario.budgetMs,
    overBudget,
    pass: run.failures.length === 0 && !overBudget,
    failures: run.failures,
  };
}

/** The script, abandoned at the deadline; its error, or the hang, is a failure. Everything is closed after. */
async function runWithinDeadline(scenario: Scenario, run: ScenarioRun): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<'expired'>((resolve) => {
    timer = setTimeout(() => resolve('expired'), scenario.deadlineMs);
  });
  const running = scenario.run(run.context()).then(() => 'done' as const);
  // After a deadline the script is abandoned; its aborted calls must not surface as unhandled rejections.
  running.catch(() => undefined);
  try {
    const ended = await Promise.race([running, expired]);
    if (ended === 'expired')
      run.failures.push(`scenario did not finish within its ${scenario.deadlineMs} ms deadline (hang)`);
  } catch (error) {
    run.failures.push(`error: ${error instanceof Error ? error.message : String(error)}`);
  } finally {
    clearTimeout(timer);
    run.controller.abort(new Error('scenario ended'));
    await Promise.allSettled(run.harnesses.map((h) => h.close()));
  }
}

/** What the simulators saw, compactly: `a 429,200 · b 200 · c –` (status, or the outcome when no status was sent). */
export function seenBy(h: FaultHarness, ids: readonly string[] = ['a', 'b', 'c']): string {
  return ids
    .map((id) => {
      const attempts = h.sims[id]?.attempts() ?? [];
      const statuses = attempts.map((a) => (a.status === null ? a.outcome : String(a.status))).join(',');
      return `${id} ${attempts.length === 0 ? '–' : statuses}`;
    })
    .join(' · ');
}
