import type { BackendConfig, PoolConfig } from '../../config/schema.js';
import type { ResilienceConfig } from '../../config/resilience-schema.js';
import type { BackendTransport } from '../../ports/backend-transport.js';
import type { CredentialProvider } from '../../ports/credential-provider.js';
import type { Clock } from '../clock.js';
import type { AttemptPolicyOptions } from '../resilience/attempt-policy.js';
import type { FailureClassifierOptions } from '../resilience/failure-classifier.js';
import type { HealthTracker } from '../resilience/health-tracker.js';
import type { DispatcherDeps } from './dispatcher.js';
import { poolCandidates, type Candidate } from './pool-candidates.js';

/** A backend URL split once: the origin the transport connects to, the base path attempts go under. */
export interface BackendUrl {
  readonly origin: string;
  /** The URL's path without a trailing slash ('' for none). */
  readonly basePath: string;
}

/** What every call of one configuration snapshot shares: the dependencies and what is derived from them once. */
export interface DispatchContext {
  readonly transport: BackendTransport;
  readonly credentials: CredentialProvider;
  readonly clock: Clock;
  readonly health: HealthTracker;
  readonly resilience: ResilienceConfig;
  readonly random: () => number;
  /** Round-robin counters per pool (kept across config snapshots by the caller). */
  readonly roundRobin: Map<string, number>;
  readonly classifierOptions: FailureClassifierOptions;
  readonly attemptPolicy: AttemptPolicyOptions;
  /** Each backend's URL, by backend id. */
  readonly urls: ReadonlyMap<string, BackendUrl>;
  /** A pool's members in group order, as the selector sees them. */
  readonly candidates: (pool: PoolConfig) => readonly Candidate[];
}

/**
 * Derives a snapshot's dispatch context: the classifier and attempt-policy options from `resilience`, each
 * backend's URL parsed once, the pool candidates built on first use.
 *
 * @example
 * const ctx = createDispatchContext(deps); // once per config snapshot, in createDispatcher
 */
export function createDispatchContext(deps: DispatcherDeps): DispatchContext {
  const { resilience } = deps;
  return {
    transport: deps.transport,
    credentials: deps.credentials,
    clock: deps.clock,
    health: deps.health,
    resilience,
    random: deps.random,
    roundRobin: deps.roundRobin,
    classifierOptions: {
      defaultCoolDownMs: resilience.retryAfter.defaultCoolDownMs,
      quotaExhaustedCoolDownMs: resilience.retryAfter.quotaExhaustedCoolDownMs,
      maxSameBackendRetries: resilience.retry.sameBackendRetries,
    },
    attemptPolicy: { fastFailureMs: resilience.retry.fastFailureMs },
    urls: backendUrls(deps.backends.values()),
    candidates: poolCandidates(deps.backends),
  };
}

function backendUrls(backends: Iterable<BackendConfig>): Map<string, BackendUrl> {
  const urls = new Map<string, BackendUrl>();
  for (const backend of backends) {
    const url = new URL(backend.url);
    urls.set(backend.id, { origin: url.origin, basePath: url.pathname.replace(/\/+$/, '') });
  }
  return urls;
}
