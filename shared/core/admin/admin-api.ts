import type { GatewayConfig } from '../../config/gateway-schema.js';
import type { UsageLedger } from '../../ports/usage-ledger.js';
import type { Clock } from '../clock.js';
import { GatewayError } from '../errors/gateway-error.js';
import type { GatewayRequest, GatewayResponse } from '../http/gateway-request.js';
import type { HealthTracker } from '../resilience/health-tracker.js';
import type { PoolShareStatus } from '../scheduling/capacity-share-agent.js';
import type { SchedulerGate } from '../scheduling/scheduler-gate.js';
import { statusReport } from './status-report.js';
import { jsonResponse } from '../http/json-response.js';
import type { StatusBoard, StatusSources } from '../status/status-board.js';
import { statusPageResponse } from '../status/page/status-page.js';
import { usageReport } from './usage-report.js';

/**
 * Where the admin API is mounted, in both hosts. The one place this path is written: the engine routes by
 * it, the Functions `admin` trigger's route and the docs follow it.
 */
export const ADMIN_BASE_PATH = '/gateway/admin';

/** Whether `pathname` is under the admin API. */
export function isAdminPath(pathname: string): boolean {
  return pathname === ADMIN_BASE_PATH || pathname.startsWith(`${ADMIN_BASE_PATH}/`);
}

/** Dependencies of {@link createAdminApi}. */
export interface AdminApiDeps {
  /** The configuration in force (backends listed in the status, prices applied to usage). */
  readonly config: () => GatewayConfig;
  readonly health: Pick<HealthTracker, 'snapshot'>;
  readonly gate: Pick<SchedulerGate, 'stats'>;
  readonly ledger: Pick<UsageLedger, 'query'>;
  readonly clock: Clock;
  /** The live status page's data (`{base}/status/live`); without it the page's data endpoint is a 404. */
  readonly status?: { readonly board: StatusBoard; readonly sources: StatusSources };
  /** Capacity sharing per pool, on an instance that shares capacity through the ledger. */
  readonly capacitySharing?: () => readonly PoolShareStatus[] | undefined;
}

/** The status page itself: a static shell, served without a credential (it holds no data). */
export const STATUS_PAGE_PATH = `${ADMIN_BASE_PATH}/status/page`;

/** The engine-level admin API, mounted at {@link ADMIN_BASE_PATH}. */
export interface AdminApi {
  /**
   * Answers `GET {base}/status` (backends, breakers, scheduler), `GET {base}/usage` (chargeback), and the
   * live status page: `GET {base}/status/page` (the page) and `GET {base}/status/live` (its data). The
   * caller must already be authorised as an admin. Throws `GatewayError` 404 for any other path, 400 for
   * a bad query.
   */
  handle(request: GatewayRequest, context: { readonly requestId: string }): Promise<GatewayResponse>;
  /**
   * Whether `pathname` is served without the admin credential: only the status page's shell, whose data
   * it then asks for with the key the operator types in.
   */
  isPublic(pathname: string): boolean;
}

/**
 * Builds the admin API. Web-standard in and out like the jobs API: the engine checks the admin credential
 * (`authorizeAdmin`) and calls `handle`.
 *
 * @example
 * const admin = createAdminApi({ config, health, gate, ledger, clock });
 * if (isAdminPath(url.pathname)) return admin.handle(request, { requestId });
 */
export function createAdminApi(deps: AdminApiDeps): AdminApi {
  return {
    isPublic: (pathname) => pathname === STATUS_PAGE_PATH,
    async handle(request, { requestId }) {
      const url = new URL(request.url);
      const endpoint = url.pathname.slice(ADMIN_BASE_PATH.length);
      if (request.method === 'GET' && endpoint === '/usage') return usageReport(deps, url.searchParams, requestId);
      if (request.method === 'GET' && endpoint === '/status') return statusReport(deps, requestId);
      if (request.method === 'GET' && endpoint === '/status/page') return statusPageResponse(requestId);
      if (request.method === 'GET' && endpoint === '/status/live' && deps.status !== undefined)
        return jsonResponse(200, deps.status.board.view(deps.status.sources), requestId);
      throw new GatewayError('GW_ERR_REQUEST_ROUTE_NOT_FOUND', {
        message: `No admin endpoint ${request.method} ${url.pathname}.`,
      });
    },
  };
}
