/**
 * Names of the durable functions and events. They are part of the deployed app's contract: renaming one
 * strands running instances (their history names the old one), so they are constants, never literals.
 */

/** The per-request orchestration (instance id = the job id). */
export const GATEWAY_REQUEST_ORCHESTRATOR = 'gatewayRequest';
/** The per-pool capacity ledger entity (entity key = the pool id). */
export const CAPACITY_LEDGER_ENTITY = 'capacityLedger';
/** Activity: send the job's message to Service Bus. */
export const ENQUEUE_JOB_ACTIVITY = 'enqueueJob';
/** Activity: record the orchestration's end in the job store and read the job's final status. */
export const FINALIZE_JOB_ACTIVITY = 'finalizeJob';
/** Event raised by the Service Bus worker when the job is finished (any final status). */
export const JOB_FINISHED_EVENT = 'JobFinished';
/** Event raised by the `jobs` trigger when the owner cancels the job. */
export const JOB_CANCELLED_EVENT = 'JobCancelled';
/** Event raised by the capacity ledger entity when it offers a waiting request a freed slot. */
export const CAPACITY_GRANTED_EVENT = 'CapacityGranted';

/** Operations of the capacity ledger entity. */
export const LEDGER_OPERATIONS = Object.freeze({
  report: 'report',
  acquire: 'acquire',
  release: 'release',
  leave: 'leave',
  get: 'get',
} as const);
