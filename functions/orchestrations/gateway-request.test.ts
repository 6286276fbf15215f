import { beforeAll, describe, expect, it } from 'vitest';
import { captureRegistrations, capturedFunction } from '../smoke/capture-registrations.js';
import type { GatewayRequestInput } from './gateway-request.js';
import {
  CAPACITY_GRANTED_EVENT,
  CAPACITY_LEDGER_ENTITY,
  ENQUEUE_JOB_ACTIVITY,
  FINALIZE_JOB_ACTIVITY,
  GATEWAY_REQUEST_ORCHESTRATOR,
  JOB_CANCELLED_EVENT,
  JOB_FINISHED_EVENT,
} from './names.js';
import { ActionType, last, OrchestrationReplay, type Episode } from './test-support/replay.js';

const T0 = Date.UTC(2025, 0, 2, 10, 0, 0);
const at = (ms: number): Date => new Date(T0 + ms);
const INPUT: GatewayRequestInput = {
  jobId: 'job-1',
  requestId: 'req-1',
  poolId: 'gpt-4o',
  level: 2,
  deadlineMs: T0 + 600_000,
};

let handler: (...args: unknown[]) => unknown;
beforeAll(async () => {
  captureRegistrations();
  await import('./registrations.js');
  handler = capturedFunction(GATEWAY_REQUEST_ORCHESTRATOR).handler;
});

const replay = (input: GatewayRequestInput = INPUT) =>
  new OrchestrationReplay(handler, GATEWAY_REQUEST_ORCHESTRATOR, input);
const activities = (e: Episode, name: string) =>
  e.actions.filter((a) => a.actionType === ActionType.CallActivity && a['functionName'] === name);
const releases = (e: Episode) =>
  e.actions.filter((a) => a.actionType === ActionType.SignalEntity && a['operation'] === 'release');

/** Runs to the point where the call is with the worker: granted at once, enqueued. */
async function granted(r: OrchestrationReplay): Promise<Episode> {
  const first = await r.run(at(0));
  const acquire = last(first, ActionType.CallEntity);
  expect(acquire).toMatchObject({
    operation: 'acquire',
    instanceId: `@${CAPACITY_LEDGER_ENTITY.toLowerCase()}@gpt-4o`,
  });
  r.answerEntity(acquire.id!, {
    kind: 'granted',
    lease: { requestId: 'job-1', level: 2, grantedAtMs: T0, expiresAtMs: T0 + 1, waitedMs: 0 },
  });
  const second = await r.run(at(10));
  const enqueue = last(second, ActionType.CallActivity);
  expect(enqueue).toMatchObject({ functionName: ENQUEUE_JOB_ACTIVITY });
  r.completeActivity(enqueue.id!, null);
  const third = await r.run(at(20));
  expect(third.isDone).toBe(false);
  expect(
    third.actions.filter((a) => a.actionType === ActionType.WaitForExternalEvent).map((a) => a['externalEventName']),
  ).toEqual(expect.arrayContaining([JOB_FINISHED_EVENT, JOB_CANCELLED_EVENT]));
  return third;
}

/** Completes the finalize activity and returns the final episode. */
async function finalize(r: OrchestrationReplay, e: Episode, status: string, atMs: number): Promise<Episode> {
  const fin = last(e, ActionType.CallActivity);
  expect(fin['functionName']).toBe(FINALIZE_JOB_ACTIVITY);
  r.completeActivity(fin.id!, { status });
  return r.run(at(atMs));
}

describe('gatewayRequest orchestration (replayed by durable-functions)', () => {
  it('grant: acquires a slot, enqueues, waits for the worker, releases once and records the final status', async () => {
    const r = replay();
    await granted(r);
    r.raise(JOB_FINISHED_EVENT, { status: 'succeeded' });
    const afterEvent = await r.run(at(60_000));
    expect(releases(afterEvent)).toHaveLength(1);
    expect(releases(afterEvent)[0]!['input']).toEqual({ requestId: 'job-1', nowMs: T0 + 60_000 });
    expect(last(afterEvent, ActionType.CallActivity)['input']).toEqual({ jobId: 'job-1', outcome: 'finished' });
    const done = await finalize(r, afterEvent, 'succeeded', 60_100);
    expect(done.isDone).toBe(true);
    expect(done.output).toEqual({ jobId: 'job-1', outcome: 'finished', status: 'succeeded' });
    expect(done.customStatus).toEqual(done.output);
    // Deterministic: replaying the same history gives the same actions and output.
    const again = await r.replay();
    expect(again.actions).toEqual(done.actions);
    expect(again.output).toEqual(done.output);
  });

  it('waits for the ledger’s CapacityGranted event, not a poll; a grant following a release runs at once', async () => {
    const r = replay();
    const first = await r.run(at(0));
    r.answerEntity(last(first, ActionType.CallEntity).id!, { kind: 'waiting', position: 3 });
    const waiting = await r.run(at(5));
    const events = waiting.actions.filter((a) => a.actionType === ActionType.WaitForExternalEvent);
    expect(events.map((a) => a['externalEventName'])).toEqual(
      expect.arrayContaining([CAPACITY_GRANTED_EVENT, JOB_CANCELLED_EVENT]),
    );
    // The only timer is the backstop, 30 s out — the grant is expected by event long before.
    const backstop = last(waiting, ActionType.CreateTimer);
    expect(new Date(backstop['fireAt'] as string).getTime()).toBe(T0 + 5 + 30_000);
    // Another orchestration releases at 1.2 s; the entity raises CapacityGranted on this one at once.
    r.raise(CAPACITY_GRANTED_EVENT, { requestId: 'job-1', grantedAtMs: T0 + 1_200 });
    const woken = await r.run(at(1_210));
    const ask = last(woken, ActionType.CallEntity);
    expect(ask.id).toBeGreaterThan(backstop.id!);
    expect(ask['input']).toMatchObject({ requestId: 'job-1', level: 2, nowMs: T0 + 1_210 });
    expect(woken.actions.filter((a) => a.actionType === ActionType.CreateTimer)).toHaveLength(1);
    r.answerEntity(ask.id!, { kind: 'granted', lease: { requestId: 'job-1' } });
    const running = await r.run(at(1_230));
    expect(last(running, ActionType.CallActivity)).toMatchObject({ functionName: ENQUEUE_JOB_ACTIVITY });
    // Determinism: the same history replays to the same actions.
    expect((await r.replay()).actions).toEqual(running.actions);
  });

  it('asks again when the backstop fires without an event (a lost event cannot strand it)', async () => {
    const r = replay();
    const first = await r.run(at(0));
    r.answerEntity(last(first, ActionType.CallEntity).id!, { kind: 'waiting', position: 1 });
    const waiting = await r.run(at(0));
    const backstop = last(waiting, ActionType.CreateTimer);
    r.fireTimer(backstop.id!, at(30_000));
    const asked = await r.run(at(30_000));
    expect(last(asked, ActionType.CallEntity)['input']).toMatchObject({ nowMs: T0 + 30_000 });
    expect(activities(asked, ENQUEUE_JOB_ACTIVITY)).toHaveLength(0);
  });

  it('continues as new after its waits per execution, keeping its input, so its history stays bounded', async () => {
    const r = replay({ ...INPUT, wait: { waitsPerExecution: 3, backstopMs: 10_000 } });
    let episode = await r.run(at(0));
    for (let wait = 0; wait <= 3; wait++) {
      r.answerEntity(last(episode, ActionType.CallEntity).id!, { kind: 'waiting', position: 2 });
      episode = await r.run(at(wait * 10_000 + 1));
      if (wait === 3) break;
      r.fireTimer(last(episode, ActionType.CreateTimer).id!, at((wait + 1) * 10_000));
      episode = await r.run(at((wait + 1) * 10_000));
    }
    const restart = episode.actions.find((a) => a.actionType === ActionType.ContinueAsNew);
    expect(restart?.['input']).toEqual({ ...INPUT, wait: { waitsPerExecution: 3, backstopMs: 10_000 }, generation: 1 });
    expect(releases(episode)).toHaveLength(0);
    expect(activities(episode, FINALIZE_JOB_ACTIVITY)).toHaveLength(0);
  });

  it('acts on a cancellation received before it would continue as new, rather than losing it', async () => {
    const r = replay({ ...INPUT, wait: { waitsPerExecution: 1 } });
    const first = await r.run(at(0));
    r.answerEntity(last(first, ActionType.CallEntity).id!, { kind: 'waiting', position: 2 });
    const waiting = await r.run(at(1));
    // The backstop and the owner's cancel arrive together; the backstop is first in the history.
    r.fireTimer(last(waiting, ActionType.CreateTimer).id!, at(30_001)).raise(JOB_CANCELLED_EVENT, {});
    const asked = await r.run(at(30_001));
    r.answerEntity(last(asked, ActionType.CallEntity).id!, { kind: 'waiting', position: 2 });
    const e = await r.run(at(30_002));
    expect(e.actions.some((a) => a.actionType === ActionType.ContinueAsNew)).toBe(false);
    expect(last(e, ActionType.CallActivity)['input']).toEqual({ jobId: 'job-1', outcome: 'cancelled' });
  });

  it('timeout: the job deadline fires before the worker answers → release, finalize as deadline', async () => {
    const r = replay();
    const running = await granted(r);
    const deadline = last(running, ActionType.CreateTimer);
    expect(new Date(deadline['fireAt'] as string).getTime()).toBe(INPUT.deadlineMs);
    r.fireTimer(deadline.id!, new Date(INPUT.deadlineMs));
    const late = await r.run(new Date(INPUT.deadlineMs));
    expect(releases(late)).toHaveLength(1);
    expect(last(late, ActionType.CallActivity)['input']).toEqual({ jobId: 'job-1', outcome: 'deadline' });
    const done = await finalize(r, late, 'failed', 600_001);
    expect(done.output).toEqual({ jobId: 'job-1', outcome: 'deadline', status: 'failed' });
  });

  it('timeout while waiting: the backstop stops at the deadline and it never enqueues', async () => {
    const r = replay({ ...INPUT, deadlineMs: T0 + 3_000 });
    const first = await r.run(at(0));
    r.answerEntity(last(first, ActionType.CallEntity).id!, { kind: 'waiting', position: 1 });
    const w1 = await r.run(at(0));
    const backstop = last(w1, ActionType.CreateTimer);
    expect(new Date(backstop['fireAt'] as string).getTime()).toBe(T0 + 3_000);
    r.fireTimer(backstop.id!, at(3_000));
    const p2 = await r.run(at(3_000));
    r.answerEntity(last(p2, ActionType.CallEntity).id!, { kind: 'rejected', reason: 'expired' });
    const out = await r.run(at(3_000));
    expect(activities(out, ENQUEUE_JOB_ACTIVITY)).toHaveLength(0);
    expect(last(out, ActionType.CallActivity)['input']).toEqual({ jobId: 'job-1', outcome: 'deadline' });
    expect(releases(out)).toHaveLength(1);
  });

  it('cancellation while waiting: leaves the queue at once, releases its place, never enqueues', async () => {
    const r = replay();
    const first = await r.run(at(0));
    r.answerEntity(last(first, ActionType.CallEntity).id!, { kind: 'waiting', position: 4 });
    await r.run(at(1));
    r.raise(JOB_CANCELLED_EVENT, {});
    const cancelled = await r.run(at(500));
    expect(activities(cancelled, ENQUEUE_JOB_ACTIVITY)).toHaveLength(0);
    expect(releases(cancelled)).toHaveLength(1);
    const done = await finalize(r, cancelled, 'cancelled', 600);
    expect(done.output).toEqual({ jobId: 'job-1', outcome: 'cancelled', status: 'cancelled' });
  });

  it('cancellation while running: releases the slot and records cancelled', async () => {
    const r = replay();
    await granted(r);
    r.raise(JOB_CANCELLED_EVENT, {});
    const e = await r.run(at(1_000));
    expect(releases(e)).toHaveLength(1);
    expect(last(e, ActionType.CallActivity)['input']).toEqual({ jobId: 'job-1', outcome: 'cancelled' });
  });

  it('worker failure: a failed job ends the orchestration with the failed status', async () => {
    const r = replay();
    await granted(r);
    r.raise(JOB_FINISHED_EVENT, { status: 'failed' });
    const e = await r.run(at(30_000));
    const done = await finalize(r, e, 'failed', 30_100);
    expect(done.output).toEqual({ jobId: 'job-1', outcome: 'finished', status: 'failed' });
  });

  it('hand-off failure: a failed enqueue activity releases the slot and records the failure', async () => {
    const r = replay();
    const first = await r.run(at(0));
    r.answerEntity(last(first, ActionType.CallEntity).id!, { kind: 'granted', lease: {} });
    const second = await r.run(at(1));
    r.failActivity(last(second, ActionType.CallActivity).id!, 'ServiceBusError: ServiceCommunicationProblem');
    const e = await r.run(at(2));
    expect(releases(e)).toHaveLength(1);
    expect(last(e, ActionType.CallActivity)['input']).toEqual({ jobId: 'job-1', outcome: 'enqueue-failed' });
  });

  it('duplicate completion event: acts on the first, releases once, finalizes once', async () => {
    const r = replay();
    await granted(r);
    r.raise(JOB_FINISHED_EVENT, { status: 'succeeded' }).raise(JOB_FINISHED_EVENT, { status: 'succeeded' });
    const e = await r.run(at(40_000));
    expect(releases(e)).toHaveLength(1);
    expect(activities(e, FINALIZE_JOB_ACTIVITY)).toHaveLength(1);
    const done = await finalize(r, e, 'succeeded', 40_100);
    expect(done.isDone).toBe(true);
    expect(activities(done, FINALIZE_JOB_ACTIVITY)).toHaveLength(1);
  });

  it('rejected by the ledger (queue full): records the failure without waiting', async () => {
    const r = replay();
    const first = await r.run(at(0));
    r.answerEntity(last(first, ActionType.CallEntity).id!, { kind: 'rejected', reason: 'queue-full' });
    const e = await r.run(at(1));
    expect(e.actions.some((a) => a.actionType === ActionType.CreateTimer)).toBe(false);
    expect(last(e, ActionType.CallActivity)['input']).toEqual({ jobId: 'job-1', outcome: 'rejected' });
  });
});
