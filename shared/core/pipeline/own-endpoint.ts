import { isAdminPath, type AdminApi } from '../admin/admin-api.js';
import { GatewayError } from '../errors/gateway-error.js';
import type { GatewayAdmission } from '../governance/admission.js';
import type { GatewayResponse } from '../http/gateway-request.js';
import type { JobsApi } from '../jobs/jobs-api.js';
import type { CallDrain } from '../lifecycle/call-drain.js';
import { builtinEndpoint, type BuiltinEndpointDeps } from './builtin-endpoints.js';
import type { Call } from './call-summary.js';
import type { EngineSnapshot } from './engine-snapshot.js';
import { noRoute } from './no-route.js';

/** Dependencies of {@link ownEndpoint}: the gateway's own, as `GatewayDeps` holds them. */
export interface OwnEndpointDeps {
  readonly health: BuiltinEndpointDeps['health'];
  readonly readiness?: BuiltinEndpointDeps['readiness'];
  readonly drain?: Pick<CallDrain, 'draining'> | undefined;
  readonly admission: Pick<GatewayAdmission, 'authorizeAdmin'>;
  /** The admin API at `ADMIN_BASE_PATH`, behind `authorizeAdmin`. */
  readonly admin?: AdminApi | undefined;
  /** The job API, which an admin may use with the admin key (every caller's jobs). */
  readonly jobs?: { readonly api: JobsApi } | undefined;
}

/**
 * **Own endpoints**, before admission: the built-in endpoints (`/health/*`, the seed's probes), the admin API
 * and an admin's view of jobs — they take no caller credential (the admin ones take the admin key). Answers
 * undefined for any other call, which goes on to admission. Throws 401/403 for a bad admin key, 404 for an
 * admin path with no admin API or job path with no job.
 *
 * @example
 * const own = await ownEndpoint(deps, snapshot(), call);
 * if (own !== undefined) return own;
 */
export async function ownEndpoint(
  deps: OwnEndpointDeps,
  s: EngineSnapshot,
  call: Call,
): Promise<GatewayResponse | undefined> {
  const { request, url, requestId } = call;
  const builtin = await builtinEndpoint(
    { health: deps.health, readiness: deps.readiness, draining: () => deps.drain?.draining === true },
    s,
    url.pathname,
    requestId,
  );
  if (builtin !== undefined) return builtin;
  if (isAdminPath(url.pathname)) {
    if (deps.admin?.isPublic(url.pathname) !== true) await deps.admission.authorizeAdmin(request.headers);
    if (deps.admin !== undefined) return await deps.admin.handle(request, { requestId });
    throw new GatewayError('GW_ERR_REQUEST_ROUTE_NOT_FOUND', {
      message: `No admin endpoint ${request.method} ${url.pathname}.`,
    });
  }
  const jobs = deps.jobs;
  if (jobs?.api.matches(url.pathname) === true && request.headers.has('x-gateway-admin-key')) {
    const admin = await deps.admission.authorizeAdmin(request.headers);
    return (await jobs.api.handle(request, { requester: admin, requestId })) ?? noRoute(call);
  }
  return undefined;
}
