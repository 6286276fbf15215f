import type { HealthTracker } from '../resilience/health-tracker.js';
import type { GatewayResponse } from '../http/gateway-request.js';
import { jsonResponse } from '../http/json-response.js';
import type { EngineSnapshot } from './engine-snapshot.js';

/** Readiness beyond backends (stores reachable): `/health/ready` answers 503 when `ready` is false. */
export type Readiness = () => Promise<{ ready: boolean; detail: Record<string, unknown> }>;

/** Dependencies of {@link builtinEndpoint}. */
export interface BuiltinEndpointDeps {
  readonly health: Pick<HealthTracker, 'usableCount'>;
  readonly readiness?: Readiness | undefined;
}

/**
 * Answers the endpoints every caller may reach without admission — `/health/live` and `/health/ready` —
 * or `undefined` for any other path. (The model list depends on the caller's allowlists: `model-list.ts`.)
 *
 * @example
 * const answer = await builtinEndpoint(deps, snapshot(), '/health/live', requestId);
 */
export async function builtinEndpoint(
  deps: BuiltinEndpointDeps,
  s: EngineSnapshot,
  path: string,
  requestId: string,
): Promise<GatewayResponse | undefined> {
  if (path === '/health/live') return jsonResponse(200, { status: 'live' }, requestId);
  if (path === '/health/ready') {
    const ids = s.config.backends.map((b) => b.id);
    const usable = deps.health.usableCount(ids);
    const readiness = (await deps.readiness?.()) ?? { ready: true, detail: {} };
    const ready = readiness.ready && usable > 0;
    return jsonResponse(
      ready ? 200 : 503,
      { status: ready ? 'ready' : 'not_ready', backends: { configured: ids.length, usable }, ...readiness.detail },
      requestId,
    );
  }
  return undefined;
}
