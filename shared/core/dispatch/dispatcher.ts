import type { BackendConfig, PoolConfig, RouteConfig } from '../../config/schema.js';
import type { ResilienceConfig } from '../../config/resilience-schema.js';
import type { BackendResponse, BackendTransport } from '../../ports/backend-transport.js';
import type { CredentialProvider } from '../../ports/credential-provider.js';
import type { Clock } from '../clock.js';
import { selectBackends, type BackendSelection } from '../resilience/backend-selector.js';
import type { Refusal, TransportErrorKind } from '../resilience/failure-classifier.js';
import type { BackendHealthView, HealthTracker } from '../resilience/health-tracker.js';
import type { RequestTarget } from '../routing/request-target.js';
import { abortableDelay } from './abortable-delay.js';
import { pause, startCall, type CallState } from './call-state.js';
import { waitForCapacity } from './capacity-wait.js';
import { createDispatchContext, type DispatchContext } from './dispatch-context.js';
import { endOfPass, endOfPool } from './pool-end.js';
import { eligibleCandidates, type Candidate } from './pool-candidates.js';
import { tryPlan } from './try-plan.js';

/** One backend attempt, as reported in headers, error bodies and the usage record. */
export interface AttemptRecord {
  readonly backend: string;
  readonly group: string;
  /** The backend's status, when it answered. */
  readonly status: number | undefined;
  /** The transport failure, when it did not. */
  readonly error: TransportErrorKind | undefined;
  readonly durationMs: number;
  /**
   * `served` = this attempt's response went to the caller; `cut` = it did, and its stream broke (stream
   * recovery finished the answer elsewhere, or tried to); `diverged` = a recovery's replay differed.
   */
  readonly outcome: 'served' | 'failover' | 'fatal' | 'cut' | 'diverged';
}

/** Everything an attempt loop needs about one call. */
export interface DispatchInput {
  readonly requestId: string;
  readonly method: string;
  readonly target: RequestTarget;
  readonly route: RouteConfig;
  readonly pool: PoolConfig;
  /** The model asked for (body `model`, Azure deployment, Gemini model), if any. */
  readonly model: string | undefined;
  readonly forwardPath: string | undefined;
  /** Raw body bytes as received (or as rewritten by the pipeline). */
  readonly body: Uint8Array | null;
  /** The parsed JSON body when the request is JSON (re-serialised only if the model changes). */
  readonly json: Record<string, unknown> | undefined;
  /** Upstream headers after the header policy (no credentials). */
  readonly headers: Record<string, string>;
  /** The caller's credential headers, sent only to `passthrough` backends. */
  readonly callerCredentials: Record<string, string>;
  readonly signal: AbortSignal;
  /** Absolute deadline (TTL) in clock ms. */
  readonly deadlineMs: number;
  /** Per-attempt total timeout (`x-gateway-timeout` / `S7PTimeout`), already clamped. */
  readonly attemptTimeoutMs: number | undefined;
  /** Only this backend may serve the call: it holds the state the call refers to (affinity). */
  readonly pinnedBackendId?: string | undefined;
  /** Backends this call must not try (stream recovery: the one whose stream broke). */
  readonly excludeBackendIds?: Iterable<string> | undefined;
  /**
   * Gives the call's capacity lease back and waits in the scheduler, at the call's priority, until the pool can
   * take it again and not before `untilMs`; resolves when the call holds a lease again. Used while every
   * backend cools (429, `S7PREQUEUE`); without it the call waits in place, holding its lease.
   */
  readonly requeue?: ((untilMs: number, signal: AbortSignal) => Promise<void>) | undefined;
}

/** A backend response that goes to the caller. */
export interface DispatchResult {
  readonly response: BackendResponse;
  readonly backend: BackendConfig;
  readonly attempts: readonly AttemptRecord[];
  /** Time spent waiting on backends (all attempts, to the serving attempt's headers). */
  readonly backendWaitMs: number;
  /** Time spent waiting between attempts — backoff, a cooling backend's Retry-After — in ms. */
  readonly retryWaitMs: number;
  /** Aborts the serving attempt (the response body stops). */
  readonly abort: (reason?: unknown) => void;
  /** Clears the attempt's deadline timer and listeners: call once the body has ended, however it ended. */
  readonly release: () => void;
  /** The serving attempt's idle deadline (longest gap between body chunks). */
  readonly idleTimeoutMs: number;
  /** Set when the answer refuses this prompt on this model (`context-length`: a context-window fallback may help). */
  readonly refusal?: Refusal | undefined;
}

/** Dependencies of {@link createDispatcher}. */
export interface DispatcherDeps {
  readonly transport: BackendTransport;
  readonly credentials: CredentialProvider;
  readonly clock: Clock;
  readonly health: HealthTracker;
  readonly resilience: ResilienceConfig;
  /** Backends by id, for the current config snapshot. */
  readonly backends: ReadonlyMap<string, BackendConfig>;
  readonly random: () => number;
  /** Round-robin counters per pool (kept across config snapshots by the caller). */
  readonly roundRobin: Map<string, number>;
}

/** Runs the attempt loop of one call over a pool. */
export interface Dispatcher {
  dispatch(input: DispatchInput): Promise<DispatchResult>;
}

/**
 * The attempt loop, as docs/resilience.md tells it. Each pass: the members the call may still try
 * ({@link eligibleCandidates}; none left → the route's fallbacks, at once); after the first pass a jittered
 * backoff while the attempt budget lasts; the selector's ordered plan over them (priority groups, weights,
 * health: open and cooling backends are skipped). Nobody selectable → wait for the earliest cooling backend
 * within the TTL and budgets, or answer ({@link waitForCapacity}). Else the plan is tried in order
 * ({@link tryPlan}: each attempt under its deadlines and the caller's abort, the one classifier deciding to
 * return, retry the same backend, fail over or stop). When no pass serves: {@link endOfPool}.
 *
 * @example
 * const dispatcher = createDispatcher({
 *   transport, credentials, clock, health, resilience, backends, random: Math.random, roundRobin: new Map(),
 * });
 * const { response, backend } = await dispatcher.dispatch(input);
 */
export function createDispatcher(deps: DispatcherDeps): Dispatcher {
  const ctx = createDispatchContext(deps);
  return { dispatch: (input) => dispatchCall(ctx, input) };
}

async function dispatchCall(ctx: DispatchContext, input: DispatchInput): Promise<DispatchResult> {
  const call = startCall(ctx, input);
  for (let pass = 0; ; pass++) {
    const eligible = eligibleCandidates(ctx.candidates(input.pool), input.pinnedBackendId, call.spent);
    // Every member spent (timed out, failed slowly, or refused for good): the fallback route's turn, at once.
    if (eligible.length === 0) break;
    if (pass > 0 && !(await backOff(ctx, input, call))) break;
    const selection = selectPlan(ctx, input, eligible);
    if (!selection.ok) {
      await waitForCapacity(ctx, input, call, selection);
      continue;
    }
    const served = await tryPlan(ctx, input, call, selection.plan);
    if (served !== undefined) return served;
    endOfPass(ctx, input, call, eligible);
  }
  return endOfPool(ctx, input, call);
}

/** Before another pass: false when the attempt budget is spent, else waits a jittered backoff (within the TTL). */
async function backOff(ctx: DispatchContext, input: DispatchInput, call: CallState): Promise<boolean> {
  const { clock } = ctx;
  if (!call.budget.canAttempt(clock.now())) return false;
  const delay = Math.min(call.budget.nextDelayMs(ctx.random, clock.now()), input.deadlineMs - clock.now());
  if (delay > 0) await pause(clock, call, () => abortableDelay(delay, input.signal));
  return true;
}

/** The selector's plan over the eligible members, by their health now; advances the pool's round-robin counter. */
function selectPlan(
  ctx: DispatchContext,
  input: DispatchInput,
  eligible: readonly Candidate[],
): BackendSelection<Candidate> {
  const views = new Map<string, BackendHealthView>();
  for (const c of eligible) views.set(c.id, ctx.health.snapshot(c.id));
  const selection = selectBackends({
    backends: eligible,
    health: views,
    mode: input.pool.loadBalancing ?? ctx.resilience.loadBalancing,
    random: ctx.random,
    roundRobinCounter: ctx.roundRobin.get(input.pool.id) ?? 0,
    nowMs: ctx.clock.now(),
  });
  ctx.roundRobin.set(input.pool.id, selection.nextRoundRobinCounter);
  return selection;
}
