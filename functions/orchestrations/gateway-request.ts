import * as df from 'durable-functions';
import type { OrchestrationContext, OrchestrationHandler } from 'durable-functions';
import type { DurableDecision } from '../../shared/core/scheduling/capacity-ledger.js';
import {
  nextPollAtMs,
  type CapacityPollOptions,
  type OrchestrationOutcome,
} from '../../shared/core/jobs/orchestrated-job.js';
import {
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
  readonly poll?: CapacityPollOptions;
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
 * One request that waits or runs long: wait for a slot of its pool by priority (polling the pool's
 * capacity ledger entity on durable timers — nothing runs or is billed in between), hand the call to
 * Service Bus, wait for the worker's completion event or the job's deadline, release the slot, record the
 * final status. Cancellation (`JobCancelled`) ends any wait.
 *
 * Deterministic: time is `context.df.currentUtcDateTime`, decisions are the pure functions of
 * `shared/core` (`nextPollAtMs`, and `finalJobPatch` inside the finalize activity), I/O is in activities
 * and the entity. Replay-tested on synthetic histories (`gateway-request.test.ts`).
 */
export const gatewayRequestOrchestrator: OrchestrationHandler = function* (context: OrchestrationContext) {
  const input = context.df.getInput<GatewayRequestInput>();
  const ledger = new df.EntityId(CAPACITY_LEDGER_ENTITY, input.poolId);
  const cancelled = context.df.waitForExternalEvent(JOB_CANCELLED_EVENT);
  const now = (): number => context.df.currentUtcDateTime.getTime();

  function* finish(outcome: OrchestrationOutcome): Generator<df.Task, GatewayRequestOutput, unknown> {
    // Releases the slot, or removes a waiter that never got one (idempotent). Fire-and-forget: no answer needed.
    context.df.signalEntity(ledger, LEDGER_OPERATIONS.release, { requestId: input.jobId });
    const final = (yield context.df.callActivity(FINALIZE_JOB_ACTIVITY, { jobId: input.jobId, outcome })) as {
      status: string;
    };
    const output: GatewayRequestOutput = { jobId: input.jobId, outcome, status: final.status };
    context.df.setCustomStatus(output);
    return output;
  }

  // 1. Wait for capacity, by priority, on durable timers.
  context.df.setCustomStatus({ jobId: input.jobId, phase: 'waiting-for-capacity' });
  for (let poll = 0; ; poll++) {
    const decision = (yield context.df.callEntity(ledger, LEDGER_OPERATIONS.acquire, {
      requestId: input.jobId,
      level: input.level,
      deadlineMs: input.deadlineMs,
      nowMs: now(),
    })) as DurableDecision;
    if (decision.kind === 'granted') break;
    if (decision.kind === 'rejected') return yield* finish(decision.reason === 'expired' ? 'deadline' : 'rejected');
    const wakeAtMs = nextPollAtMs(poll, now(), input.deadlineMs, input.poll);
    if (wakeAtMs === undefined) return yield* finish('deadline');
    const timer = context.df.createTimer(new Date(wakeAtMs));
    const winner: unknown = yield context.df.Task.any([timer, cancelled]);
    if (winner === cancelled) {
      timer.cancel();
      return yield* finish('cancelled');
    }
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
