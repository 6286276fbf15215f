import type { ErrorCode } from '../errors/error-registry.js';
import { providerErrorKind, type ProviderError, type ProviderErrorKind } from './provider-error.js';

/**
 * How far an attempt got when it ended.
 * - `connect`: no connection (DNS, TCP, TLS).
 * - `sent`: the request was (being) written; no response headers yet.
 * - `headers`: response headers arrived; nothing has been forwarded to the caller yet.
 * - `streaming`: at least one byte went to the caller — from here on nothing may be retried.
 */
export type AttemptPhase = 'connect' | 'sent' | 'headers' | 'streaming';

/** Transport-level failure kinds the backend transport reports. */
export type TransportErrorKind =
  | 'connect-refused'
  | 'connect-timeout'
  | 'dns'
  | 'reset'
  | 'ttfb-timeout'
  | 'idle-timeout'
  | 'total-timeout'
  | 'caller-aborted'
  | 'other';

/** What the dispatch loop knows about one finished attempt. */
export interface AttemptOutcome {
  readonly phase: AttemptPhase;
  /** Response status, when headers arrived. */
  readonly status?: number;
  /** Set when the attempt failed at the transport level (no status, or the body failed after the headers). */
  readonly errorKind?: TransportErrorKind;
  /** True when the gateway injected its own credentials for this backend (api-key, bearer, managed identity). */
  readonly gatewayCredentials: boolean;
  /** The backend's `error.code` (or `error.type`) from a small error body, e.g. `context_length_exceeded`. */
  readonly bodyErrorCode?: string;
  /** The deciding fields of the error body ({@link parseProviderError}); `bodyErrorCode` wins over its `code`. */
  readonly providerError?: ProviderError;
  /** Retry-After the backend sent, already parsed ({@link parseRetryAfterMs}). */
  readonly retryAfterMs?: number;
  /** True when the request went out on a reused keep-alive socket. */
  readonly reusedConnection?: boolean;
  /** How many times this call has already been retried on the same backend. */
  readonly sameBackendRetries?: number;
}

/** Options of {@link classifyFailure}. */
export interface FailureClassifierOptions {
  /** Cool-down when a 429 carries no Retry-After. */
  readonly defaultCoolDownMs: number;
  /** Cool-down for a 429 `insufficient_quota` (the gateway's account is out of quota: no point retrying soon). */
  readonly quotaExhaustedCoolDownMs: number;
  /** Retries on the same backend after a reset of a reused keep-alive socket (`retry.sameBackendRetries`). */
  readonly maxSameBackendRetries: number;
}

/** Defaults of {@link FailureClassifierOptions}. */
export const DEFAULT_FAILURE_CLASSIFIER_OPTIONS: FailureClassifierOptions = {
  defaultCoolDownMs: 1_000,
  quotaExhaustedCoolDownMs: 60_000,
  maxSameBackendRetries: 1,
};

/**
 * The decision for one attempt.
 * - `return`: hand the backend's response to the caller verbatim (success or the caller's own fault).
 *   The backend is healthy: record a breaker success.
 * - `retry-same`: try the same backend once more (a stale keep-alive socket was reset).
 * - `failover`: try the next backend of the plan.
 * - `fatal`: stop; answer `errorCode` (or, when `errorCode` is undefined, nobody is listening).
 */
export type FailureVerdict =
  | {
      readonly action: 'return';
      readonly reason: string;
      readonly countsAsBreakerFailure: false;
      /**
       * Set when the answer is a refusal of this prompt by this model: `context-length` (a route's
       * context-window fallback may take it), `content-filter` (never failed over), `prefill-rejected` (the
       * backend refuses a final assistant message: stream recovery replays instead).
       */
      readonly refusal?: Refusal;
    }
  | { readonly action: 'retry-same'; readonly reason: string; readonly countsAsBreakerFailure: false }
  | {
      readonly action: 'failover';
      readonly reason: string;
      readonly countsAsBreakerFailure: boolean;
      /** Put the backend in cooling this long (429, or 503 with Retry-After). Not a breaker failure by itself. */
      readonly coolDownMs?: number;
      /** True for 401/403 on the gateway's own credentials: an operator must fix the configuration. */
      readonly configFault: boolean;
      /** The error to answer if no other backend is left. */
      readonly errorCode: ErrorCode;
      /**
       * The backend's own answer is what the caller gets if no other backend serves the call (a 404 for a
       * deployment missing on this backend: after the other members, the 404 goes back verbatim).
       */
      readonly answerIfLast?: boolean;
    }
  | {
      readonly action: 'fatal';
      readonly reason: string;
      readonly countsAsBreakerFailure: boolean;
      readonly errorCode: ErrorCode | undefined;
    };

/** The refusals a `return` verdict may carry. */
export type Refusal = 'context-length' | 'content-filter' | 'prefill-rejected';

/**
 * Classifies one attempt: pass through, retry the same backend, fail over, or stop. Pure and total;
 * the dispatch loop only sequences the effects. The full table is in `docs/resilience.md`.
 *
 * @example
 * classifyFailure({ phase: 'headers', status: 429, retryAfterMs: 2_000, gatewayCredentials: true })
 * // → { action: 'failover', countsAsBreakerFailure: false, coolDownMs: 2_000, configFault: false,
 * //     errorCode: 'GW_ERR_BACKEND_THROTTLED', reason: … }
 * classifyFailure({ phase: 'streaming', errorKind: 'reset', gatewayCredentials: true })
 * // → { action: 'fatal', countsAsBreakerFailure: true, errorCode: 'GW_ERR_STREAM_INTERRUPTED', reason: … }
 */
export function classifyFailure(
  outcome: AttemptOutcome,
  options: FailureClassifierOptions = DEFAULT_FAILURE_CLASSIFIER_OPTIONS,
): FailureVerdict {
  const { phase, status, errorKind } = outcome;

  if (errorKind === 'caller-aborted') {
    return { action: 'fatal', reason: 'the caller went away', countsAsBreakerFailure: false, errorCode: undefined };
  }

  if (phase === 'streaming') {
    switch (errorKind) {
      case undefined:
        return { action: 'return', reason: 'stream completed', countsAsBreakerFailure: false };
      case 'idle-timeout':
        return {
          action: 'fatal',
          reason: 'the stream stalled after the first byte',
          countsAsBreakerFailure: true,
          errorCode: 'GW_ERR_STREAM_IDLE_TIMEOUT',
        };
      case 'total-timeout':
        return {
          action: 'fatal',
          reason: 'the attempt deadline passed after the first byte',
          countsAsBreakerFailure: false,
          errorCode: 'GW_ERR_BACKEND_TIMEOUT',
        };
      default:
        return {
          action: 'fatal',
          reason: `the stream broke after the first byte (${errorKind})`,
          countsAsBreakerFailure: true,
          errorCode: 'GW_ERR_STREAM_INTERRUPTED',
        };
    }
  }

  if (errorKind !== undefined) return classifyTransportError(outcome, errorKind, options);
  if (status === undefined) return failover('no status and no error reported', true, 'GW_ERR_BACKEND_EXHAUSTED');
  return classifyStatus(outcome, status, options);
}

function failover(
  reason: string,
  countsAsBreakerFailure: boolean,
  errorCode: ErrorCode,
  extra: { coolDownMs?: number; configFault?: boolean; answerIfLast?: boolean } = {},
): FailureVerdict {
  return {
    action: 'failover',
    reason,
    countsAsBreakerFailure,
    ...(extra.coolDownMs === undefined ? {} : { coolDownMs: extra.coolDownMs }),
    configFault: extra.configFault ?? false,
    errorCode,
    ...(extra.answerIfLast === true ? { answerIfLast: true } : {}),
  };
}

function classifyTransportError(
  outcome: AttemptOutcome,
  errorKind: Exclude<TransportErrorKind, 'caller-aborted'>,
  options: FailureClassifierOptions,
): FailureVerdict {
  switch (errorKind) {
    case 'reset':
      // Why: a server may close an idle keep-alive socket just as we reuse it; the request never
      // reached the application, so one retry on a fresh socket is safe and not the backend's fault.
      if (
        outcome.phase !== 'headers' &&
        outcome.reusedConnection === true &&
        (outcome.sameBackendRetries ?? 0) < options.maxSameBackendRetries
      ) {
        return { action: 'retry-same', reason: 'reset on a reused keep-alive socket', countsAsBreakerFailure: false };
      }
      return failover(`connection reset (${outcome.phase})`, true, 'GW_ERR_BACKEND_EXHAUSTED');
    case 'connect-refused':
    case 'dns':
    case 'other':
      return failover(`${errorKind} (${outcome.phase})`, true, 'GW_ERR_BACKEND_EXHAUSTED');
    case 'connect-timeout':
    case 'ttfb-timeout':
    case 'idle-timeout':
      return failover(`${errorKind} before the first byte`, true, 'GW_ERR_BACKEND_TIMEOUT');
    case 'total-timeout':
      // The attempt budget may have been cut short by the caller's TTL: not evidence against the backend.
      return failover('attempt deadline passed before the first byte', false, 'GW_ERR_BACKEND_TIMEOUT');
  }
}

/** The verdicts on answers below 400, one per status seen (at most 300; frozen: every call shares them). */
const RETURN_VERDICTS = new Map<number, FailureVerdict>();

function returnVerdict(status: number): FailureVerdict {
  let verdict = RETURN_VERDICTS.get(status);
  if (verdict === undefined) {
    verdict = Object.freeze({ action: 'return', reason: `status ${status}`, countsAsBreakerFailure: false } as const);
    if (Number.isInteger(status) && status >= 100) RETURN_VERDICTS.set(status, verdict);
  }
  return verdict;
}

function classifyStatus(outcome: AttemptOutcome, status: number, options: FailureClassifierOptions): FailureVerdict {
  if (status < 400) return returnVerdict(status);
  const bodyCode = outcome.bodyErrorCode ?? outcome.providerError?.code;
  const kind = providerErrorKind(status, { ...outcome.providerError, code: bodyCode });

  if (status === 401 || status === 403) {
    if (outcome.gatewayCredentials) {
      return failover(`${status} on the gateway's own credentials`, true, 'GW_ERR_BACKEND_EXHAUSTED', {
        configFault: true,
      });
    }
    return { action: 'return', reason: `${status} on the caller's credentials`, countsAsBreakerFailure: false };
  }
  if (status === 408) return failover('backend request timeout (408)', true, 'GW_ERR_BACKEND_TIMEOUT');
  if (status === 429) {
    if (kind === 'quota-exhausted') {
      return failover('backend account out of quota', true, 'GW_ERR_BACKEND_THROTTLED', {
        coolDownMs: Math.max(outcome.retryAfterMs ?? 0, options.quotaExhaustedCoolDownMs),
      });
    }
    return failover('throttled (429)', false, 'GW_ERR_BACKEND_THROTTLED', {
      coolDownMs: outcome.retryAfterMs ?? options.defaultCoolDownMs,
    });
  }
  // A deployment missing on this backend says nothing about the request, nor about the backend's other
  // deployments: try the pool's other members without counting it against the breaker.
  if (kind === 'deployment-not-found') {
    return failover(`${bodyCode ?? 'model'} not found on this backend (404)`, false, 'GW_ERR_BACKEND_EXHAUSTED', {
      configFault: true,
      answerIfLast: true,
    });
  }
  if (status < 500 || (kind !== undefined && kind !== 'quota-exhausted')) return callerFault(status, kind, bodyCode);
  return failover(
    `backend error ${status}`,
    true,
    status === 504 ? 'GW_ERR_BACKEND_TIMEOUT' : 'GW_ERR_BACKEND_EXHAUSTED',
    outcome.retryAfterMs === undefined ? {} : { coolDownMs: outcome.retryAfterMs },
  );
}

/** The caller's fault (any 4xx left, or a 5xx carrying a caller-fault shape): returned verbatim. */
function callerFault(
  status: number,
  kind: ProviderErrorKind | undefined,
  bodyCode: string | undefined,
): FailureVerdict {
  const refusal: Refusal | undefined =
    kind === 'context-length' || kind === 'content-filter' || kind === 'prefill-rejected' ? kind : undefined;
  const detail = bodyCode ?? refusal;
  return {
    action: 'return',
    reason:
      `${status < 500 ? 'caller error' : 'caller fault labelled as'} ` +
      `${status}${detail === undefined ? '' : ` (${detail})`}`,
    countsAsBreakerFailure: false,
    ...(refusal === undefined ? {} : { refusal }),
  };
}
