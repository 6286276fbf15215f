import { AnswerHeaders } from '../http/answer-headers.js';
import { GatewayError } from '../errors/gateway-error.js';
import type { GatewayResponse } from '../http/gateway-request.js';
import { isAsyncRequested } from '../jobs/async-opt-in.js';
import type { JobService } from '../jobs/job-service.js';
import type { CallContext } from './admit.js';
import type { Call } from './call-summary.js';
import type { EngineSnapshot } from './engine-snapshot.js';
import type { RoutedCall } from './route.js';

/**
 * **schedule**, the job branch: whether a live call runs as an async job at once — the caller opted in
 * (`x-gateway-async`, `S7PAsyncMode`). Throws 403 `GW_ERR_POLICY_ASYNC_NOT_ALLOWED` when async mode is off
 * or the caller's profile does not allow it.
 *
 * @example
 * if (runsAsJob(jobs, snapshot, call, context)) return submitJob(jobs, snapshot, call, context, routed);
 */
export function runsAsJob(jobs: JobService | undefined, s: EngineSnapshot, call: Call, context: CallContext): boolean {
  if (context.asyncJobId !== undefined || jobs === undefined || !isAsyncRequested(call.request.headers)) return false;
  if (!s.config.async.enabled || !context.admission.asyncAllowed)
    throw new GatewayError('GW_ERR_POLICY_ASYNC_NOT_ALLOWED');
  return true;
}

/**
 * How long a live call may wait in the queue before it is upgraded to a job (202 + Location) instead of
 * holding its HTTP response open — the seed's AsyncTriggerTimeout, counted from the queue — or undefined
 * when it is never upgraded. Only a non-streaming call whose profile says so explicitly
 * (`async.upgradeWhenQueued`, off by default) is: a caller that did not ask for async mode may be an
 * ordinary OpenAI client, which cannot read a 202. A caller that asked (`x-gateway-async`, `S7PAsyncMode`)
 * is a job from the start ({@link runsAsJob}).
 */
export function upgradeAfterMs(
  jobs: JobService | undefined,
  s: EngineSnapshot,
  context: CallContext,
  json: Record<string, unknown> | undefined,
): number | undefined {
  const upgradable =
    jobs !== undefined &&
    s.config.async.enabled &&
    context.admission.asyncAllowed &&
    context.admission.asyncUpgradeWhenQueued &&
    json?.stream !== true &&
    context.asyncJobId === undefined;
  return upgradable ? s.config.async.syncWaitMs : undefined;
}

/**
 * Persists the call and queues it as a job of the admitted caller; answers the job's response inline if it
 * finishes within `syncWaitMs` (default: the configured sync wait), else 202 with `Location`. The body is
 * stored as received; the job's execution routes, meters and records it again as its owner. Results are
 * kept for the caller's profile's retention, at most the configured one.
 */
export function submitJob(
  jobs: JobService,
  s: EngineSnapshot,
  call: Call,
  context: CallContext,
  routed: RoutedCall,
  syncWaitMs?: number,
): Promise<GatewayResponse> {
  const { request, url } = call;
  const retentionMs = context.admission.asyncResultRetentionMs;
  return jobs.submitAndWait({
    requestId: call.requestId,
    caller: context.caller,
    routeId: routed.match.route.id,
    model: routed.model,
    priority: context.priority,
    request: {
      method: request.method,
      path: url.pathname + url.search,
      headers: new AnswerHeaders({
        ...routed.headers,
        ...(routed.json !== undefined ? { 'content-type': 'application/json' } : {}),
      }),
      body: routed.body,
    },
    retentionMs: Math.min(retentionMs, s.config.async.retentionMs),
    signal: request.signal,
    syncWaitMs,
  });
}
