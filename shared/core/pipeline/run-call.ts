import type { AffinityStore } from '../../ports/affinity-store.js';
import type { DispatchResult } from '../dispatch/dispatcher.js';
import { isEventStream } from '../dispatch/first-event.js';
import type { GatewayAdmission } from '../governance/admission.js';
import type { GatewayResponse } from '../http/gateway-request.js';
import type { JobService } from '../jobs/job-service.js';
import type { BackgroundWrites } from '../resilience/background-writes.js';
import type { UsageReading } from '../usage/usage-reading.js';
import type { CallContext } from './admit.js';
import { billOnce, type BillOnceDeps } from './bill-once.js';
import type { BodyBudget } from './body-budget.js';
import type { Call } from './call-summary.js';
import { dispatchWithFallbacks, type UpstreamBody } from './dispatch.js';
import type { EngineSnapshot } from './engine-snapshot.js';
import { CallHoldings, type CallRecorder } from './record.js';
import type { PrefillRefusals, StreamRecoveryHooks } from './recover.js';
import { reserve } from './reserve.js';
import { askForUsage, respond, type RespondDeps } from './respond.js';
import { callerClosed } from './respond-error.js';
import { learnAffinity, route, type RoutedCall } from './route.js';
import { CallLeases, orUpgrade, UPGRADE_TO_JOB, type ScheduleDeps } from './schedule.js';
import { runsAsJob, submitJob, upgradeAfterMs } from './schedule-job.js';

/** What the stages after admission share across calls: the engine's ports and its per-engine state. */
export interface StageDeps extends ScheduleDeps, RespondDeps, BillOnceDeps {
  readonly admission: Pick<GatewayAdmission, 'authorizeTarget' | 'reserveTokens'>;
  /** Which backend holds which server-side state: read by route, written by affinity learning. */
  readonly affinity: Pick<AffinityStore, 'get' | 'set' | 'claimOnce'>;
  /** Async jobs, when configured: a call that asks for async mode, or is upgraded from the queue, becomes one. */
  readonly jobService?: JobService | undefined;
  /** Quota settlements, affinity writes and ledger appends after the answer. */
  readonly writes: BackgroundWrites;
  readonly recorder: CallRecorder;
  /** Request bodies buffered across live calls (a job's run is bounded by the job queue's own limits). */
  readonly bodies: BodyBudget;
  /** Recovery prefixes the backends refused, shared by every call's stream recovery. */
  readonly prefillRefusals: PrefillRefusals;
}

/**
 * The stages after admission, the same for a live call and a job: **route** → **reserve** → **schedule**
 * (a capacity lease, or the call becomes a job) → **dispatch** → **respond**, whose end **records** the call.
 * Whatever the call holds (body bytes, quota, leases) is released if a stage throws; the error is thrown on
 * (as the caller's own close when the caller went away) for the gateway to answer in the error envelope.
 *
 * @example
 * const response = await runCall(stageDeps, snapshot(), call, await admitCaller(admission, call));
 */
export async function runCall(
  d: StageDeps,
  s: EngineSnapshot,
  call: Call,
  context: CallContext,
): Promise<GatewayResponse> {
  const holdings = new CallHoldings(d.writes);
  try {
    const bodyLease = (holdings.body = context.asyncJobId === undefined ? d.bodies.lease() : undefined);
    const routed = await route(d, s, call, context, bodyLease);
    holdings.reservation = await reserve(d.admission, context, routed.json);
    const upstream = askForUsage(s, call, routed);
    if (runsAsJob(d.jobService, s, call, context)) return await handOff(d, holdings, s, call, context, routed);
    const upgradeAfter = upgradeAfterMs(d.jobService, s, context, upstream.json);
    const leases = (holdings.leases = new CallLeases(d, s, call, context, routed.deadline, upgradeAfter));
    const result = await orUpgrade(
      dispatchWithFallbacks(d.clock, s, call, routed, upstream, leases.take, { requeue: leases.requeue }),
    );
    if (result === UPGRADE_TO_JOB) return await handOff(d, holdings, s, call, context, routed, 0);
    return answer(d, s, call, { routed, upstream, result, holdings, leases });
  } catch (error) {
    holdings.releaseAll();
    throw callerClosed(error, call.request.signal);
  }
}

/** A dispatched call on its way to the caller: what {@link answer} needs from the earlier stages. */
interface Dispatched {
  readonly routed: RoutedCall;
  readonly upstream: UpstreamBody;
  readonly result: DispatchResult;
  readonly holdings: CallHoldings;
  readonly leases: CallLeases;
}

/** **respond** and, when the body ends, **record**: affinity learned, billed once, recoverable if it breaks. */
function answer(d: StageDeps, s: EngineSnapshot, call: Call, dispatched: Dispatched): GatewayResponse {
  const { routed, upstream, result, holdings, leases } = dispatched;
  const once = billOnce(d, routed.target, call.request.method, routed.json, s.config.affinity.ttlMs);
  const observe = both(learnAffinity(d.affinity, s, routed, call.request.method, result, d.writes), once?.observe);
  if (observe !== undefined) call.summary.observeChunk = observe;
  // Only a stream can be recovered (recoveringStreamFor looks no further for any other answer): no hooks built else.
  const recovery: StreamRecoveryHooks | undefined = !isEventStream(result.response.headers['content-type'])
    ? undefined
    : {
        refusals: d.prefillRefusals,
        redispatch: (body, exclude, signal) =>
          dispatchWithFallbacks(d.clock, s, call, routed, jsonBody(body), leases.take, {
            excludeBackendIds: exclude,
            signal,
            requeue: leases.requeue,
          }),
      };
  const finish = (usage: UsageReading): void => {
    holdings.settle(result.response.status, usage);
    d.recorder.recordLater(call.summary);
  };
  const billed = (usage: UsageReading): void => {
    if (once === undefined) return finish(usage);
    // A Responses API object is billed once: the record and the quota carry what billOnce decides.
    void once.billable(usage).then((decided) => {
      call.summary.usage = decided;
      finish(decided);
    });
  };
  return respond(d, s, call, routed, upstream, result, billed, recovery);
}

/** The call becomes an async job: answered inline if it finishes within `syncWaitMs`, else 202. */
async function handOff(
  d: StageDeps,
  holdings: CallHoldings,
  s: EngineSnapshot,
  call: Call,
  context: CallContext,
  routed: RoutedCall,
  syncWaitMs?: number,
): Promise<GatewayResponse> {
  const answered = await submitJob(d.jobService!, s, call, context, routed, syncWaitMs);
  holdings.chargeForJob();
  return answered;
}

const encoder = new TextEncoder();

/** A recovery request's body, as the dispatcher sends it. */
function jsonBody(json: Record<string, unknown>): { body: Uint8Array; json: Record<string, unknown> } {
  return { body: encoder.encode(JSON.stringify(json)), json };
}

/** One chunk observer out of two optional ones. */
function both(
  a: ((chunk: Uint8Array) => void) | undefined,
  b: ((chunk: Uint8Array) => void) | undefined,
): ((chunk: Uint8Array) => void) | undefined {
  if (a === undefined || b === undefined) return a ?? b;
  return (chunk) => {
    a(chunk);
    b(chunk);
  };
}
