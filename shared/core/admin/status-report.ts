import type { GatewayConfig } from '../../config/gateway-schema.js';
import type { GatewayResponse } from '../http/gateway-request.js';
import { jsonResponse } from '../http/json-response.js';
import type { HealthTracker } from '../resilience/health-tracker.js';
import type { PoolShareStatus } from '../scheduling/capacity-share-agent.js';
import type { SchedulerGate } from '../scheduling/scheduler-gate.js';

/**
 * `GET /gateway/admin/status`: every configured backend with its health (breaker state, cooling, latency, probe
 * results), the scheduler's figures per pool and level and, on an instance that shares capacity through
 * the ledger, its share per pool (docs/operations.md, docs/scheduling.md).
 */
export function statusReport(
  deps: {
    readonly config: () => GatewayConfig;
    readonly health: Pick<HealthTracker, 'snapshot'>;
    readonly gate: Pick<SchedulerGate, 'stats'>;
    readonly capacitySharing?: () => readonly PoolShareStatus[] | undefined;
  },
  requestId: string,
): GatewayResponse {
  const backends = deps.config().backends.map((b) => ({ id: b.id, group: b.group, ...deps.health.snapshot(b.id) }));
  const sharing = deps.capacitySharing?.();
  return jsonResponse(
    200,
    { backends, scheduler: deps.gate.stats(), ...(sharing === undefined ? {} : { capacitySharing: sharing }) },
    requestId,
  );
}
