import type { JobRecord } from '../../ports/job-store.js';
import type { Admission, Caller, GatewayAdmission } from '../governance/admission.js';
import type { Call } from './call-summary.js';

/** Who a call runs as, and how: the output of {@link admitCaller} / {@link admitJob}, read by every later stage. */
export interface CallContext {
  readonly caller: Caller;
  readonly priority: number;
  /**
   * The profile's admission: its allowlists, quota and header rules apply to the call. Undefined for a job,
   * whose caller was admitted when the job was submitted.
   */
  readonly admission: Admission | undefined;
  /** The job id when the call runs as an async job. */
  readonly asyncJobId: string | undefined;
  /** The call already holds its capacity (a durable job's ledger lease): it takes no scheduler lease. */
  readonly capacityHeld: boolean;
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
 * **admit**, for an async job's execution: the call runs as the job's stored owner at the job's priority
 * instead of a credential's caller (the request was admitted when the job was submitted). This is the one
 * place a job's standing is decided; a re-check of the owner's standing (issue 13) belongs here.
 *
 * @example
 * const context = await admitJob(job, { capacityHeld: false }, call);
 */
export async function admitJob(
  job: JobRecord,
  options: { readonly capacityHeld: boolean },
  call: Call,
): Promise<CallContext> {
  const caller: Caller = {
    userId: job.owner.userId,
    profileId: job.owner.profileId ?? 'anonymous',
    appId: job.owner.appId,
    identity: 'anonymous',
  };
  call.summary.caller = caller;
  call.summary.priority = job.priority;
  call.summary.asyncJobId = job.id;
  return {
    caller,
    priority: job.priority,
    admission: undefined,
    asyncJobId: job.id,
    capacityHeld: options.capacityHeld,
  };
}
