import type { GatewayConfig } from '../../config/gateway-schema.js';
import type { GatewayResponse } from '../http/gateway-request.js';
import { jsonResponse } from '../http/json-response.js';
import type { HealthTracker } from '../resilience/health-tracker.js';
import type { SchedulerGate } from '../scheduling/scheduler-gate.js';

/**
 * `GET /admin/status`: every configured backend with its health (breaker state, cooling, latency, probe
 * results) and the scheduler's figures per pool and level (docs/operations.md).
 */
export function statusReport(
  deps: {
    readonly config: () => GatewayConfig;
    readonly health: Pick<HealthTracker, 'snapshot'>;
    readonly gate: Pick<SchedulerGate, 'stats'>;
  },
  requestId: string,
): GatewayResponse {
  const backends = deps.config().backends.map((b) => ({ id: b.id, group: b.group, ...deps.health.snapshot(b.id) }));
  return jsonResponse(200, { backends, scheduler: deps.gate.stats() }, requestId);
}
