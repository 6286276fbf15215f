import * as df from 'durable-functions';
import type { OrchestrationContext, OrchestrationHandler } from 'durable-functions';
import type { DurableDecision } from '../../shared/core/scheduling/durable-grants.js';
import {
  DEFAULT_CAPACITY_WAIT,
  nextBackstopAtMs,
  type CapacityWaitOptions,
  type OrchestrationOutcome,
} from '../../shared/core/jobs/orchestrated-job.js';
import {
  CAPACITY_GRANTED_EVENT,
  CAPACITY_LEDGER_ENTITY,
  ENQUEUE_JOB_ACTIVITY,
  FINALIZE_JOB_ACTIVITY,
  JOB_CANCELLED_EVENT,
  JOB_FINISHED_EVENT,
  LEDGER_OPERATIONS,
} from './names.js';

/**
 * Input of the `gatewayRequest` orchestration, set by whoever starts it (the job queue that the engine
 * submits to). Compatibility: stored in durable history; fields are only added.
 */
export interface GatewayRequestInput {
  readonly jobId: string;
  readonly requestId?: string;
  readonly poolId: string;
  /** Priority level, 1 = most urgent. */
  readonly level: number;
  /** The job's run deadline (epoch ms). */
  readonly deadlineMs: number;
  readonly wait?: CapacityWaitOptions;
  /** Executions so far (0 for the first; each `continueAsNew` while waiting counts one up). */
  readonly generation?: number;
}

/** What the `JobFinished` event carries (raised by the Service Bus worker). */
export interface JobFinishedEvent {
  readonly status: string;
}

/** The orchestration's output (and final custom status). */
export interface GatewayRequestOutput {
  readonly jobId: string;
  readonly outcome: OrchestrationOutcome;
  /** The job's status in the job store after finalizing (what the job API answers). */
  readonly status: string;
}

/**
 * One request that waits or runs long: wait for a slot of its pool by priority — it asks the pool's
 * capacity ledger entity once, then waits for the entity's `CapacityGranted` event (raised the moment a
 * slot is offered to it; a backstop timer only catches an event that never came) and confirms by asking
 * again; nothing runs or is billed in between — hand the call to Service Bus, wait for the worker's
 * completion event or the job's deadline, release the slot, record the final status. Cancellation
 * (`JobCancelled`) ends any wait. A long wait continues as new every `waitsPerExecution` waits, so the
 * history stays bounded.
 *
 * Deterministic: time is `context.df.currentUtcDateTime`, decisions are the pure functions of
 * `shared/core` (`nextBackstopAtMs`, and `finalJobPatch` inside the finalize activity), I/O is in activities
 * and the entity. Replay-tested on synthetic histories (`gateway-request.test.ts`).
 */
export const gatewayRequestOrchestrator: OrchestrationHandler = function* (context: OrchestrationContext) {
  const input = context.df.getInput<GatewayRequestInput>();
  const ledger = new df.EntityId(CAPACITY_LEDGER_ENTITY, input.poolId);
  const cancelled = context.df.waitForExternalEvent(JOB_CANCELLED_EVENT);
  const now = (): number => context.df.currentUtcDateTime.getTime();

  function* finish(outcome: OrchestrationOutcome): Generator<df.Task, GatewayRequestOutput, unknown> {
    // Releases the slot, or removes a waiter that never got one (idempotent); the entity offers the slot
    // on to the next waiter at once. Fire-and-forget: no answer needed.
    context.df.signalEntity(ledger, LEDGER_OPERATIONS.release, { requestId: input.jobId, nowMs: now() });
    const final = (yield context.df.callActivity(FINALIZE_JOB_ACTIVITY, { jobId: input.jobId, outcome })) as {
      status: string;
    };
    const output: GatewayRequestOutput = { jobId: input.jobId, outcome, status: final.status };
    context.df.setCustomStatus(output);
    return output;
  }

  // 1. Wait for capacity, by priority: ask, then wait for the ledger's event (or the backstop), ask again.
  context.df.setCustomStatus({ jobId: input.jobId, phase: 'waiting-for-capacity', generation: input.generation ?? 0 });
  const waits = input.wait?.waitsPerExecution ?? DEFAULT_CAPACITY_WAIT.waitsPerExecution;
  for (let wait = 0; ; wait++) {
    const decision = (yield context.df.callEntity(ledger, LEDGER_OPERATIONS.acquire, {
      requestId: input.jobId,
      level: input.level,
      deadlineMs: input.deadlineMs,
      nowMs: now(),
    })) as DurableDecision;
    if (decision.kind === 'granted') break;
    if (decision.kind === 'rejected') return yield* finish(decision.reason === 'expired' ? 'deadline' : 'rejected');
    const backstopAtMs = nextBackstopAtMs(now(), input.deadlineMs, input.wait);
    if (backstopAtMs === undefined) return yield* finish('deadline');
    if (wait >= waits) {
      // A cancellation already received would not survive the restart: act on it first.
      if (cancelled.isCompleted) return yield* finish('cancelled');
      // Its place in the ledger is kept (asking again is idempotent): only the history starts afresh.
      context.df.continueAsNew({ ...input, generation: (input.generation ?? 0) + 1 });
      return undefined;
    }
    const granted = context.df.waitForExternalEvent(CAPACITY_GRANTED_EVENT);
    const backstop = context.df.createTimer(new Date(backstopAtMs));
    const winner: unknown = yield context.df.Task.any([granted, backstop, cancelled]);
    if (winner !== backstop) backstop.cancel();
    if (winner === cancelled) return yield* finish('cancelled');
  }

  // 2. Hand the call to Service Bus; the worker runs it with the engine.
  context.df.setCustomStatus({ jobId: input.jobId, phase: 'running' });
  try {
    yield context.df.callActivity(ENQUEUE_JOB_ACTIVITY, { jobId: input.jobId, requestId: input.requestId });
  } catch {
    return yield* finish('enqueue-failed');
  }

  // 3. Wait for the worker's completion event, the deadline, or a cancellation.
  const finished = context.df.waitForExternalEvent(JOB_FINISHED_EVENT);
  const deadline = context.df.createTimer(new Date(Math.max(input.deadlineMs, now())));
  const winner: unknown = yield context.df.Task.any([finished, deadline, cancelled]);
  if (winner !== deadline) deadline.cancel();
  return yield* finish(winner === finished ? 'finished' : winner === cancelled ? 'cancelled' : 'deadline');
};
