import type { BackendConfig, PoolConfig, RouteConfig, TimeoutsConfig } from '../../config/schema.js';
import type { ResilienceConfig } from '../../config/resilience-schema.js';
import type {
  BackendResponse,
  BackendTransport,
  TransportErrorKind as BodyErrorKind,
} from '../../ports/backend-transport.js';
import { TransportError } from '../../ports/backend-transport.js';
import type { CredentialProvider } from '../../ports/credential-provider.js';
import type { Clock } from '../clock.js';
import type { ErrorCode } from '../errors/error-registry.js';
import { GatewayError } from '../errors/gateway-error.js';
import { AttemptBudget } from '../resilience/backoff.js';
import { selectBackends, type SelectableBackend } from '../resilience/backend-selector.js';
import { mayRetryBackend } from '../resilience/attempt-policy.js';
import {
  classifyFailure,
  type AttemptOutcome,
  type FailureVerdict,
  type Refusal,
  type TransportErrorKind,
} from '../resilience/failure-classifier.js';
import { parseProviderError, type ProviderError } from '../resilience/provider-error.js';
import type { HealthTracker } from '../resilience/health-tracker.js';
import { parseRetryAfterMs } from '../resilience/retry-after.js';
import type { RequestTarget } from '../routing/request-target.js';
import { poolGroups } from './pool-members.js';
import { upstreamPath } from './upstream-path.js';
import { concatBytes } from '../concat-bytes.js';

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

interface Candidate extends SelectableBackend {
  readonly backend: BackendConfig;
}

/** One call's progress through its pool. */
interface CallState {
  readonly attempts: AttemptRecord[];
  readonly budget: AttemptBudget;
  /** Request bodies by the model name written into them (a fallback route may rename the model). */
  readonly bodies: Map<string | undefined, Uint8Array | null>;
  /** Time spent waiting on backends, all attempts. */
  waitedMs: number;
  /** Time spent between attempts: backoff, waits for a cooling backend (requeued or in place). */
  retryWaitMs: number;
  lastVerdict: FailureVerdict | undefined;
  /** Waits for a cooling backend so far (bounded by `retry.maxAttempts`). */
  capacityWaits: number;
  /** Backends not to try again in this call ({@link mayRetryBackend}). */
  readonly spent: Set<string>;
  /** A backend answer to return if no other backend serves (a 404 for a deployment missing there). */
  held: { readonly response: BackendResponse; readonly backend: BackendConfig; readonly index: number } | undefined;
  attemptedThisPass?: boolean;
}

/** Error bodies up to this size are read to learn the provider's error code, then passed on verbatim. */
const ERROR_BODY_PEEK_BYTES = 64 * 1024;

/**
 * The attempt loop. Ask the selector for an ordered plan over the pool (priority groups, weights,
 * health: open and cooling backends are skipped), then try backends in order — each attempt under its
 * deadlines and the caller's abort — and let the one classifier decide: return the response, retry
 * the same backend (a reset keep-alive socket), fail over, or stop. A 429 cools that backend for its
 * Retry-After and the call moves on at once; only when no backend is eligible does the call wait, and
 * only for the earliest one within its TTL and time budget. Another pass over the plan starts after a
 * jittered backoff while the attempt budget lasts.
 *
 * @example
 * const dispatcher = createDispatcher({
 *   transport, credentials, clock, health, resilience, backends, random: Math.random, roundRobin: new Map(),
 * });
 * const { response, backend } = await dispatcher.dispatch(input);
 */
export function createDispatcher(deps: DispatcherDeps): Dispatcher {
  const { transport, credentials, clock, health, resilience } = deps;
  const classifierOptions = {
    defaultCoolDownMs: resilience.retryAfter.defaultCoolDownMs,
    quotaExhaustedCoolDownMs: resilience.retryAfter.quotaExhaustedCoolDownMs,
    maxSameBackendRetries: resilience.retry.sameBackendRetries,
  };
  const urlParts = new Map<string, { origin: string; basePath: string }>();
  for (const backend of deps.backends.values()) {
    const url = new URL(backend.url);
    urlParts.set(backend.id, { origin: url.origin, basePath: url.pathname.replace(/\/+$/, '') });
  }
  const candidatesByPool = new WeakMap<PoolConfig, Candidate[]>();
  const candidates = (pool: PoolConfig): Candidate[] => {
    let list = candidatesByPool.get(pool);
    if (list === undefined) {
      const groups = poolGroups(pool, deps.backends);
      list = groups.order.flatMap((group, index) =>
        (groups.members.get(group) ?? []).map((m) => ({
          id: m.backend.id,
          group: index,
          weight: m.weight,
          backend: m.backend,
        })),
      );
      candidatesByPool.set(pool, list);
    }
    return list;
  };

  const policy = { fastFailureMs: resilience.retry.fastFailureMs };

  return {
    async dispatch(input: DispatchInput): Promise<DispatchResult> {
      const call: CallState = {
        attempts: [],
        budget: new AttemptBudget(
          {
            maxAttempts: resilience.retry.maxAttempts,
            totalBudgetMs: resilience.retry.totalBudgetMs,
            baseDelayMs: resilience.retry.backoffBaseMs,
            maxDelayMs: resilience.retry.backoffMaxMs,
          },
          clock.now(),
        ),
        bodies: new Map(),
        waitedMs: 0,
        retryWaitMs: 0,
        lastVerdict: undefined,
        capacityWaits: 0,
        spent: new Set(input.excludeBackendIds),
        held: undefined,
      };
      for (let pass = 0; ; pass++) {
        const list = eligible(input, call);
        // Every member spent (timed out, failed slowly, or refused for good): the fallback route's turn, at once.
        if (list.length === 0) break;
        if (pass > 0) {
          if (!call.budget.canAttempt(clock.now())) break;
          const delay = Math.min(call.budget.nextDelayMs(deps.random, clock.now()), input.deadlineMs - clock.now());
          if (delay > 0) await pause(call, () => abortableDelay(delay, input.signal));
        }
        const views = new Map(list.map((c) => [c.id, health.snapshot(c.id)]));
        const selection = selectBackends({
          backends: list,
          health: views,
          mode: input.pool.loadBalancing ?? resilience.loadBalancing,
          random: deps.random,
          roundRobinCounter: deps.roundRobin.get(input.pool.id) ?? 0,
          nowMs: clock.now(),
        });
        deps.roundRobin.set(input.pool.id, selection.nextRoundRobinCounter);
        if (!selection.ok) {
          await waitForCapacity(input, call, selection);
          continue;
        }
        const served = await tryPlan(input, call, selection.plan);
        if (served !== undefined) return served;
        // A call whose TTL ran out before (or between) attempts is expired, whatever the backends' state.
        if (clock.now() >= input.deadlineMs) throw exhausted('GW_ERR_REQUEST_TTL_EXPIRED', call.attempts, undefined);
        if (!call.attemptedThisPass && call.attempts.length === 0) {
          // Every backend was refused by its breaker (a half-open trial in flight): answer as all-open.
          const reopenAt = health.earliestReopenMs(list.map((c) => c.id));
          throw exhausted(
            'GW_ERR_BACKEND_ALL_OPEN',
            call.attempts,
            reopenAt === undefined ? 1000 : Math.max(1000, reopenAt - clock.now()),
          );
        }
      }
      return endOfPool(input, call);
    },
  };

  /** Waits between attempts, counted apart from the gateway's own time (`server-timing` `retry;dur=`). */
  async function pause(call: CallState, wait: () => Promise<void>): Promise<void> {
    const pausedAt = clock.monotonicMs();
    try {
      await wait();
    } finally {
      call.retryWaitMs += clock.monotonicMs() - pausedAt;
    }
  }

  /** The pool's members this call may still try: pinned (affinity), minus those spent in this call. */
  function eligible(input: DispatchInput, call: CallState): readonly Candidate[] {
    let list: readonly Candidate[] = candidates(input.pool);
    if (input.pinnedBackendId !== undefined) list = list.filter((c) => c.id === input.pinnedBackendId);
    if (call.spent.size > 0) list = list.filter((c) => !call.spent.has(c.id));
    return list;
  }

  /**
   * Nobody eligible. Every backend cooling (429, APIM's S7PREQUEUE): wait for the earliest, while the TTL, the
   * time budget and the attempt budget allow — in the scheduler when the host gives a `requeue` (the lease goes
   * back and the call waits at its priority), else in place; never a tight loop: each wait lasts until a
   * backend's Retry-After ends. Otherwise answer at once: all open, throttled beyond the TTL, none configured.
   */
  async function waitForCapacity(
    input: DispatchInput,
    call: CallState,
    selection: { readonly reason: 'all-open' | 'all-cooling' | 'no-backends'; readonly retryAtMs?: number },
  ): Promise<void> {
    const now = clock.now();
    const retryAfterMs = selection.retryAtMs === undefined ? undefined : Math.max(0, selection.retryAtMs - now);
    if (
      selection.reason === 'all-cooling' &&
      call.capacityWaits < resilience.retry.maxAttempts &&
      retryAfterMs !== undefined &&
      now + retryAfterMs < input.deadlineMs &&
      call.budget.remainingMs(now) > retryAfterMs &&
      retryAfterMs <= resilience.retryAfter.maxMs
    ) {
      call.capacityWaits++;
      const waitMs = Math.max(1, retryAfterMs);
      await pause(call, () =>
        input.requeue === undefined ? abortableDelay(waitMs, input.signal) : input.requeue(now + waitMs, input.signal),
      );
      return;
    }
    if (selection.reason === 'no-backends') throw exhausted('GW_ERR_BACKEND_NONE_CONFIGURED', call.attempts, undefined);
    throw exhausted(
      selection.reason === 'all-cooling' ? 'GW_ERR_BACKEND_THROTTLED' : 'GW_ERR_BACKEND_ALL_OPEN',
      call.attempts,
      retryAfterMs ?? 1000,
    );
  }

  /** One pass over the selector's plan: the first backend that answers serves the call. */
  async function tryPlan(
    input: DispatchInput,
    call: CallState,
    plan: readonly Candidate[],
  ): Promise<DispatchResult | undefined> {
    call.attemptedThisPass = false;
    for (const { backend } of plan) {
      if (input.signal.aborted) throw exhausted('GW_ERR_REQUEST_CLIENT_CLOSED', call.attempts, undefined);
      if (!call.budget.canAttempt(clock.now()) || clock.now() >= input.deadlineMs) break;
      const acquisition = health.tryAcquire(backend.id, clock.now());
      if (!acquisition.granted) continue;
      call.attemptedThisPass = true;
      const served = await tryBackend(input, call, backend);
      if (served !== undefined) return served;
    }
    return undefined;
  }

  /** Attempts on one backend (a reused socket's reset is retried at once); undefined = move on. */
  async function tryBackend(
    input: DispatchInput,
    call: CallState,
    backend: BackendConfig,
  ): Promise<DispatchResult | undefined> {
    for (let sameBackendRetries = 0; ; sameBackendRetries++) {
      call.budget.recordAttempt();
      const attempt = await runAttempt(input, backend, call.bodies, sameBackendRetries);
      call.waitedMs += attempt.durationMs;
      const verdict = attempt.verdict;
      if (verdict.action === 'return') {
        health.recordSuccess(backend.id, attempt.durationMs);
        call.attempts.push(record(backend, attempt, 'served'));
        return {
          response: attempt.response!,
          backend,
          attempts: call.attempts,
          backendWaitMs: call.waitedMs,
          retryWaitMs: call.retryWaitMs,
          abort: attempt.abort,
          release: attempt.release,
          idleTimeoutMs: attempt.idleTimeoutMs,
          refusal: verdict.refusal,
        };
      }
      if (verdict.action === 'retry-same' && call.budget.canAttempt(clock.now())) continue;
      call.lastVerdict = verdict;
      if (verdict.action === 'fatal') {
        if (verdict.countsAsBreakerFailure) health.recordFailure(backend.id, { countsAsBreakerFailure: true });
        else health.release(backend.id);
        call.attempts.push(record(backend, attempt, 'fatal'));
        throw exhausted(verdict.errorCode ?? 'GW_ERR_REQUEST_CLIENT_CLOSED', call.attempts, undefined);
      }
      health.recordFailure(backend.id, {
        countsAsBreakerFailure: verdict.countsAsBreakerFailure,
        coolDownMs: verdict.action === 'failover' ? verdict.coolDownMs : undefined,
      });
      if (!mayRetryBackend({ ...attempt, verdict }, policy)) call.spent.add(backend.id);
      if (attempt.response !== undefined && call.held === undefined)
        call.held = { response: attempt.response, backend, index: call.attempts.length };
      call.attempts.push(record(backend, attempt, 'failover'));
      return undefined;
    }
  }

  /**
   * The pool is exhausted: a backend's own answer kept for this case (a 404 for a deployment missing on every
   * member) goes back verbatim; otherwise the error of the last failure, so the route's fallbacks may take over.
   */
  function endOfPool(input: DispatchInput, call: CallState): DispatchResult {
    const held = call.held;
    if (held !== undefined) {
      const served = call.attempts[held.index]!;
      call.attempts[held.index] = { ...served, outcome: 'served' };
      return {
        response: held.response,
        backend: held.backend,
        attempts: call.attempts,
        backendWaitMs: call.waitedMs,
        retryWaitMs: call.retryWaitMs,
        abort: () => undefined,
        release: () => undefined,
        idleTimeoutMs: resilience.deadlines.idleMs,
        refusal: undefined,
      };
    }
    const verdict = call.lastVerdict;
    const code =
      verdict !== undefined && verdict.action === 'failover' ? verdict.errorCode : 'GW_ERR_BACKEND_EXHAUSTED';
    const allThrottled = call.attempts.length > 0 && call.attempts.every((a) => a.status === 429);
    throw exhausted(
      allThrottled ? 'GW_ERR_BACKEND_THROTTLED' : code,
      call.attempts,
      earliestRetryMs(health, candidates(input.pool), clock.now()),
    );
  }

  interface AttemptResult {
    readonly verdict: FailureVerdict;
    readonly response: BackendResponse | undefined;
    readonly status: number | undefined;
    readonly errorKind: TransportErrorKind | undefined;
    readonly durationMs: number;
    readonly abort: (reason?: unknown) => void;
    readonly release: () => void;
    readonly idleTimeoutMs: number;
  }

  async function runAttempt(
    input: DispatchInput,
    backend: BackendConfig,
    bodies: Map<string | undefined, Uint8Array | null>,
    sameBackendRetries: number,
  ): Promise<AttemptResult> {
    const timeouts = effectiveTimeouts(
      resilience.deadlines,
      backend.timeouts,
      input.route.timeouts,
      input.attemptTimeoutMs,
      input.deadlineMs - clock.now(),
    );
    const parts = urlParts.get(backend.id)!;
    const target = upstreamPath(input.target, backend, parts.basePath, input.model, input.forwardPath);
    const body = bodyFor(input, target.bodyModel, bodies);
    const gatewayCredentials = backend.auth.type !== 'passthrough' && backend.auth.type !== 'none';
    const controller = new AbortController();
    const onCallerAbort = (): void => controller.abort(input.signal.reason);
    input.signal.addEventListener('abort', onCallerAbort, { once: true });
    const totalTimer = setTimeout(() => controller.abort(TOTAL_TIMEOUT), timeouts.totalMs);
    // Our own first-byte timer: undici's timers are coarse (about half a second), a short deadline must hold.
    let firstByteTimer: ReturnType<typeof setTimeout> | undefined = setTimeout(
      () => controller.abort(FIRST_BYTE_TIMEOUT),
      timeouts.firstByteMs,
    );
    const firstByteSeen = (): void => {
      if (firstByteTimer !== undefined) clearTimeout(firstByteTimer);
      firstByteTimer = undefined;
    };
    const release = (): void => {
      clearTimeout(totalTimer);
      firstByteSeen();
      input.signal.removeEventListener('abort', onCallerAbort);
    };
    const abort = (reason?: unknown): void => controller.abort(reason);
    const started = clock.monotonicMs();
    const classify = (outcome: AttemptOutcome): FailureVerdict =>
      classifyFailure({ ...outcome, gatewayCredentials, sameBackendRetries }, classifierOptions);
    let response: BackendResponse;
    try {
      const auth =
        backend.auth.type === 'passthrough'
          ? input.callerCredentials
          : await credentials.headersFor(backend, controller.signal);
      response = await transport.send({
        backendId: backend.id,
        origin: parts.origin,
        path: target.path,
        method: input.method,
        headers: { ...input.headers, ...backend.headers, ...auth, 'x-gateway-request-id': input.requestId },
        body,
        signal: controller.signal,
        firstByteTimeoutMs: timeouts.firstByteMs,
        idleTimeoutMs: timeouts.idleMs,
        connectTimeoutMs: timeouts.connectMs,
      });
    } catch (error) {
      release();
      const errorKind = attemptErrorKind(error, input.signal, controller.signal);
      const phase =
        errorKind === 'connect-refused' || errorKind === 'connect-timeout' || errorKind === 'dns' ? 'connect' : 'sent';
      return {
        verdict: classify({ phase, errorKind, gatewayCredentials }),
        response: undefined,
        status: undefined,
        errorKind,
        durationMs: clock.monotonicMs() - started,
        abort,
        release,
        idleTimeoutMs: timeouts.idleMs,
      };
    }
    const durationMs = clock.monotonicMs() - started;
    const retryAfterMs =
      response.status >= 400
        ? parseRetryAfterMs(toHeaders(response.headers), clock.now(), { maxMs: resilience.retryAfter.maxMs })
        : undefined;
    let served = response;
    let providerError: ProviderError | undefined;
    let complete = false;
    if (response.status >= 400) {
      const peeked = await peekErrorBody(response);
      served = peeked.response;
      complete = peeked.complete;
      const headerCode = headerString(response.headers['x-ms-error-code']);
      providerError = peeked.error ?? (headerCode === undefined ? undefined : { code: headerCode });
    }
    const verdict = classify({
      phase: 'headers',
      status: response.status,
      gatewayCredentials,
      providerError,
      retryAfterMs,
    });
    if (verdict.action === 'return') {
      if (response.status < 300 && isEventStream(response.headers['content-type'])) {
        // A stream's first byte is its first event, not its headers: a backend that sends headers and then
        // nothing is abandoned at the first-byte deadline and the call fails over, as before any byte.
        const iterator = served.body[Symbol.asyncIterator]();
        let first: IteratorResult<Uint8Array>;
        try {
          first = await iterator.next();
        } catch (error) {
          release();
          const errorKind = attemptErrorKind(error, input.signal, controller.signal, response.errorKind(error));
          return {
            verdict: classify({ phase: 'headers', errorKind, gatewayCredentials }),
            response: undefined,
            status: response.status,
            errorKind,
            durationMs: clock.monotonicMs() - started,
            abort,
            release,
            idleTimeoutMs: timeouts.idleMs,
          };
        }
        firstByteSeen();
        if (first.done === true) {
          // A stream that ends before its first byte sent nothing to the caller yet: fail over.
          release();
          return {
            verdict: classify({ phase: 'headers', errorKind: 'reset', gatewayCredentials }),
            response: undefined,
            status: response.status,
            errorKind: 'reset',
            durationMs: clock.monotonicMs() - started,
            abort,
            release,
            idleTimeoutMs: timeouts.idleMs,
          };
        }
        served = { ...served, body: prepend(first, iterator) };
        return {
          verdict,
          response: served,
          status: response.status,
          errorKind: undefined,
          durationMs: clock.monotonicMs() - started,
          abort,
          release,
          idleTimeoutMs: timeouts.idleMs,
        };
      }
      firstByteSeen();
      return {
        verdict,
        response: served,
        status: response.status,
        errorKind: undefined,
        durationMs,
        abort,
        release,
        idleTimeoutMs: timeouts.idleMs,
      };
    }
    release();
    // An answer kept for when no other backend serves (fully read: it holds no connection); the rest is dropped.
    const keep = verdict.action === 'failover' && verdict.answerIfLast === true && complete;
    if (!keep) await served.dump();
    return {
      verdict,
      response: keep ? served : undefined,
      status: response.status,
      errorKind: undefined,
      durationMs,
      abort,
      release,
      idleTimeoutMs: timeouts.idleMs,
    };
  }
}

const TOTAL_TIMEOUT = new TransportError('total-timeout', 'the attempt reached its total deadline');
const FIRST_BYTE_TIMEOUT = new TransportError(
  'ttfb-timeout',
  'the backend sent nothing before the first-byte deadline',
);

function attemptErrorKind(
  error: unknown,
  callerSignal: AbortSignal,
  attemptSignal: AbortSignal,
  bodyKind?: BodyErrorKind,
): TransportErrorKind {
  if (callerSignal.aborted) return 'caller-aborted';
  if (attemptSignal.aborted && attemptSignal.reason === TOTAL_TIMEOUT) return 'total-timeout';
  if (attemptSignal.aborted && attemptSignal.reason === FIRST_BYTE_TIMEOUT) return 'ttfb-timeout';
  if (bodyKind !== undefined) return bodyKind === 'aborted' ? 'other' : bodyKind;
  if (error instanceof TransportError) return error.kind === 'aborted' ? 'other' : error.kind;
  return 'other';
}

function isEventStream(contentType: string | string[] | undefined): boolean {
  const value = Array.isArray(contentType) ? contentType[0] : contentType;
  return value !== undefined && value.startsWith('text/event-stream');
}

async function* prepend(
  first: IteratorResult<Uint8Array>,
  rest: AsyncIterator<Uint8Array>,
): AsyncGenerator<Uint8Array> {
  if (first.done) return;
  yield first.value;
  try {
    for (;;) {
      const next = await rest.next();
      if (next.done) return;
      yield next.value;
    }
  } finally {
    await rest.return?.();
  }
}

function record(
  backend: BackendConfig,
  attempt: { status: number | undefined; errorKind: TransportErrorKind | undefined; durationMs: number },
  outcome: AttemptRecord['outcome'],
): AttemptRecord {
  return {
    backend: backend.id,
    group: backend.group,
    status: attempt.status,
    error: attempt.errorKind,
    durationMs: attempt.durationMs,
    outcome,
  };
}

const attemptsByError = new WeakMap<GatewayError, readonly AttemptRecord[]>();

/** The attempts a failed dispatch made (empty for errors that did not come from the attempt loop). */
export function attemptsOf(error: unknown): readonly AttemptRecord[] {
  return error instanceof GatewayError ? (attemptsByError.get(error) ?? []) : [];
}

/** The error envelope's view of attempts: backend name (never its URL), status or error, duration. */
export function attemptsForEnvelope(attempts: readonly AttemptRecord[]): unknown[] {
  return attempts.map((a) => ({
    backend: a.backend,
    status: a.status ?? null,
    error: a.error ?? null,
    duration_ms: Math.round(a.durationMs),
  }));
}

function exhausted(
  code: ErrorCode,
  attempts: readonly AttemptRecord[],
  retryAfterMs: number | undefined,
): GatewayError {
  const error = new GatewayError(code, { retryAfterMs, details: { attempts: attemptsForEnvelope(attempts) } });
  attemptsByError.set(error, [...attempts]);
  return error;
}

function earliestRetryMs(health: HealthTracker, candidates: readonly Candidate[], nowMs: number): number | undefined {
  const at = health.earliestReopenMs(candidates.map((c) => c.id));
  return at === undefined || at <= nowMs ? undefined : at - nowMs;
}

function effectiveTimeouts(
  defaults: ResilienceConfig['deadlines'],
  backend: TimeoutsConfig,
  route: TimeoutsConfig,
  callerTimeoutMs: number | undefined,
  ttlRemainingMs: number,
): Required<TimeoutsConfig> {
  const totalMs = Math.max(
    1,
    Math.min(callerTimeoutMs ?? route.totalMs ?? backend.totalMs ?? defaults.totalMs, ttlRemainingMs),
  );
  return {
    // Not clamped by the attempt's budget: the connect timeout is a per-backend pool setting (the attempt's
    // total timer still bounds the whole attempt).
    connectMs: route.connectMs ?? backend.connectMs ?? defaults.connectMs,
    firstByteMs: Math.min(route.firstByteMs ?? backend.firstByteMs ?? defaults.firstByteMs, totalMs),
    idleMs: route.idleMs ?? backend.idleMs ?? defaults.idleMs,
    totalMs,
  };
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function bodyFor(
  input: DispatchInput,
  bodyModel: string | undefined,
  cache: Map<string | undefined, Uint8Array | null>,
): Uint8Array | null {
  if (bodyModel === undefined || input.json === undefined || input.json.model === bodyModel) return input.body;
  let body = cache.get(bodyModel);
  if (body === undefined) {
    body = encoder.encode(JSON.stringify({ ...input.json, model: bodyModel }));
    cache.set(bodyModel, body);
  }
  return body;
}

function toHeaders(raw: Record<string, string | string[] | undefined>): Headers {
  const headers = new Headers();
  for (const name of ['retry-after', 'retry-after-ms', 'x-ms-retry-after-ms', 's7prequeue']) {
    const value = headerString(raw[name]);
    if (value !== undefined) headers.set(name, value);
  }
  return headers;
}

function headerString(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/**
 * Reads up to {@link ERROR_BODY_PEEK_BYTES} of an error response to learn what the provider says
 * ({@link parseProviderError}), and returns a response whose body replays what was read followed by the
 * rest — so the caller still gets the body verbatim. `complete` is true when the whole body was read.
 */
async function peekErrorBody(
  response: BackendResponse,
): Promise<{ response: BackendResponse; error: ProviderError | undefined; complete: boolean }> {
  const iterator = response.body[Symbol.asyncIterator]();
  const chunks: Uint8Array[] = [];
  let size = 0;
  let done = false;
  let failure: unknown;
  try {
    while (size < ERROR_BODY_PEEK_BYTES) {
      const next = await iterator.next();
      if (next.done) {
        done = true;
        break;
      }
      chunks.push(next.value);
      size += next.value.byteLength;
    }
  } catch (error) {
    failure = error;
  }
  const error = done ? parseProviderError(decoder.decode(concatBytes(chunks, size))) : undefined;
  return {
    error,
    complete: done,
    response: {
      ...response,
      body: (async function* () {
        yield* chunks;
        if (failure !== undefined) throw failure;
        if (done) return;
        for (;;) {
          const next = await iterator.next();
          if (next.done) return;
          yield next.value;
        }
      })(),
    },
  };
}

function abortableDelay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new GatewayError('GW_ERR_REQUEST_CLIENT_CLOSED'));
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(new GatewayError('GW_ERR_REQUEST_CLIENT_CLOSED'));
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
