import { AnswerHeaders } from '../http/answer-headers.js';
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
  /** True once the host drains for shutdown: readiness answers 503 first, liveness stays 200. */
  readonly draining?: (() => boolean) | undefined;
}

/** The seed's probe paths (SimpleL7Proxy's `ProbeServer`), answered in its plain-text form. */
const SEED_PROBES: ReadonlySet<string> = new Set(['/liveness', '/readiness', '/startup']);

/**
 * Answers the endpoints every caller may reach without admission — `/health/live`, `/health/ready` and
 * the seed's `/liveness`, `/readiness` and `/startup` — or `undefined` for any other path. (The model list
 * depends on the caller's allowlists: `model-list.ts`.)
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
    const state = await readinessOf(deps, s);
    return jsonResponse(
      state.ready ? 200 : 503,
      {
        status: state.ready ? 'ready' : state.draining ? 'draining' : 'not_ready',
        backends: { configured: state.configured, usable: state.usable },
        ...state.detail,
      },
      requestId,
    );
  }
  if (SEED_PROBES.has(path)) return seedProbe(deps, s, path, requestId);
  return undefined;
}

interface ReadinessState {
  readonly ready: boolean;
  readonly draining: boolean;
  readonly configured: number;
  readonly usable: number;
  readonly detail: Record<string, unknown>;
}

/** Ready = not draining, the stores answer (host readiness) and at least one backend is usable. */
async function readinessOf(deps: BuiltinEndpointDeps, s: EngineSnapshot): Promise<ReadinessState> {
  const ids = s.config.backends.map((b) => b.id);
  const usable = deps.health.usableCount(ids);
  const draining = deps.draining?.() === true;
  const host = (await deps.readiness?.()) ?? { ready: true, detail: {} };
  return {
    ready: !draining && host.ready && usable > 0,
    draining,
    configured: ids.length,
    usable,
    detail: host.detail,
  };
}

/**
 * `/liveness`: always `200 OK`. `/readiness` and `/startup` (one logic, as in the seed): `200 OK`, or 503
 * `Not Healthy.  Active Hosts: 0` when no backend is usable, `Not Healthy.  Failed Hosts: True` when a store
 * does not answer, `Not Healthy.  Shutting down.` while draining. Plain text, `cache-control: no-cache` and
 * `connection: close`, as the seed answers them (seed catalog §2.23).
 */
async function seedProbe(
  deps: BuiltinEndpointDeps,
  s: EngineSnapshot,
  path: string,
  requestId: string,
): Promise<GatewayResponse> {
  if (path === '/liveness') return probeText(200, 'OK\n', requestId);
  const state = await readinessOf(deps, s);
  if (state.ready) return probeText(200, 'OK\n', requestId);
  const why = state.draining
    ? 'Shutting down.'
    : state.usable === 0
      ? `Active Hosts: ${state.usable}`
      : 'Failed Hosts: True';
  return probeText(503, `Not Healthy.  ${why}\n`, requestId);
}

function probeText(status: number, text: string, requestId: string): GatewayResponse {
  const bytes = new TextEncoder().encode(text);
  const headers = new AnswerHeaders({
    'content-type': 'text/plain',
    'content-length': String(bytes.byteLength),
    'cache-control': 'no-cache',
    connection: 'close',
    'x-gateway-request-id': requestId,
  });
  return {
    status,
    headers,
    body: (async function* () {
      yield bytes;
    })(),
  };
}
