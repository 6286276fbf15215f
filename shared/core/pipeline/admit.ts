import type { JobRecord } from '../../ports/job-store.js';
import type { Admission, Caller, GatewayAdmission } from '../governance/admission.js';
import { errorRegistry } from '../errors/error-registry.js';
import { GatewayError } from '../errors/gateway-error.js';
import type { Call } from './call-summary.js';

/** Who a call runs as, and how: the output of {@link admitCaller} / {@link admitJob}, read by every later stage. */
export interface CallContext {
  readonly caller: Caller;
  readonly priority: number;
  /** The profile's admission: its allowlists and header changes apply to the call (and, live, its quota). */
  readonly admission: Admission;
  /** The job id when the call runs as an async job. */
  readonly asyncJobId: string | undefined;
  /** The call already holds its capacity (a durable job's ledger lease): it takes no scheduler lease. */
  readonly capacityHeld: boolean;
  /**
   * A job's owner's standing, checked again once the job holds capacity and is about to be sent (it may
   * have waited in the queue long after its admit); throws as {@link admitJob} does. Undefined for a live call.
   */
  readonly recheckStanding?: (() => void) | undefined;
}

/**
 * Whether `error`, met while running a job, is its owner's standing refused — by {@link admitJob}, by
 * {@link CallContext.recheckStanding} or by the owner's allowlists in **route**: an authentication or
 * permission error. The job then fails with it (never retried) rather than storing it as the job's answer.
 */
export function isStandingRefusal(error: unknown): boolean {
  if (!(error instanceof GatewayError)) return false;
  const { type } = errorRegistry[error.code];
  return type === 'authentication_error' || type === 'permission_error';
}

/**
 * **admit**, for a live call: identifies the caller from its credential, finds its profile, applies
 * suspension, the app allowlist and header rules, and assigns the priority — 4xx here, nothing queued.
 * Header rules on `:path` see the path with its query (the seed's S7Path).
 *
 * @example
 * const context = await admitCaller(deps.admission, call);
 */
export async function admitCaller(admission: GatewayAdmission, call: Call): Promise<CallContext> {
  const admitted = await admission.admit({
    method: call.request.method,
    path: call.url.pathname + call.url.search,
    headers: call.request.headers,
  });
  call.summary.caller = admitted.caller;
  call.summary.priority = admitted.priority;
  return {
    caller: admitted.caller,
    priority: admitted.priority,
    admission: admitted,
    asyncJobId: undefined,
    capacityHeld: false,
  };
}

/**
 * **admit**, for an async job's execution: the call runs as the job's stored owner instead of a
 * credential's caller, and the owner's standing is checked again under the governance in force now —
 * when the job starts and on every retry — so a suspension, a removed key or profile, a revoked async
 * permission or a narrowed model allowlist (checked by **route** with the returned admission) stops a job
 * queued before it. The job was charged its quota at submission, so **reserve** takes nothing for it.
 *
 * @example
 * const context = await admitJob(deps.admission, job, { capacityHeld: false }, call);
 */
export async function admitJob(
  admission: Pick<GatewayAdmission, 'admitOwner'>,
  job: JobRecord,
  options: { readonly capacityHeld: boolean },
  call: Call,
): Promise<CallContext> {
  call.summary.asyncJobId = job.id;
  call.summary.caller = {
    userId: job.owner.userId,
    profileId: job.owner.profileId ?? 'anonymous',
    appId: job.owner.appId,
    identity: 'anonymous',
  };
  call.summary.priority = job.priority;
  const admitted = admission.admitOwner(job.owner, job.priority);
  call.summary.caller = admitted.caller;
  call.summary.priority = admitted.priority;
  return {
    caller: admitted.caller,
    priority: admitted.priority,
    admission: admitted,
    asyncJobId: job.id,
    capacityHeld: options.capacityHeld,
    recheckStanding: () => void admission.admitOwner(job.owner, job.priority),
  };
}
