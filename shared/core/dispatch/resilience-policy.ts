import type { BackendConfig, PoolConfig } from '../../config/schema.js';
import type { TransportErrorKind } from '../../ports/backend-transport.js';

/** What the attempt loop tells the classifier about one attempt. */
export interface AttemptObservation {
  readonly phase: 'connect' | 'sent' | 'headers' | 'streaming';
  readonly status?: number;
  readonly errorKind?: TransportErrorKind;
  /** True when the gateway sent its own credentials (a 401/403 is then our configuration's fault). */
  readonly gatewayCredentials: boolean;
  readonly retryAfterMs?: number | undefined;
  /** A provider error code when known (`x-ms-error-code`, body `error.code`). */
  readonly errorCode?: string | undefined;
}

/** The classifier's decision. */
export type AttemptVerdict =
  | { readonly action: 'return' }
  | { readonly action: 'failover'; readonly countsAsBreakerFailure: boolean; readonly coolDownMs?: number | undefined; readonly configFault?: boolean }
  | { readonly action: 'fatal'; readonly reason: string };

/** An ordered attempt plan, or why no backend can be tried. */
export type AttemptPlan =
  | { readonly kind: 'plan'; readonly backends: readonly BackendConfig[] }
  | { readonly kind: 'none'; readonly reason: 'all-open' | 'all-cooling' | 'none-configured'; readonly retryAfterMs: number | undefined };

/** Per-call limits: attempts and total time. */
export interface CallBudget {
  canAttempt(nowMs: number, attemptsSoFar: number): boolean;
  canWait(nowMs: number, waitMs: number): boolean;
}

/**
 * The resilience decisions the attempt loop delegates: selection, breaker admission, classification,
 * health bookkeeping, Retry-After. Implemented over the resilience core (`createResiliencePolicy`).
 */
export interface ResiliencePolicy {
  plan(pool: PoolConfig, backends: ReadonlyMap<string, BackendConfig>, nowMs: number): AttemptPlan;
  tryAcquire(backendId: string, nowMs: number): boolean;
  classify(observation: AttemptObservation): AttemptVerdict;
  onSuccess(backendId: string, latencyMs: number, status: number, nowMs: number): void;
  onFailure(backendId: string, verdict: AttemptVerdict, nowMs: number): void;
  retryAfterMs(headers: Record<string, string | string[] | undefined>, nowMs: number): number | undefined;
  budget(nowMs: number, deadlineMs: number): CallBudget;
}
