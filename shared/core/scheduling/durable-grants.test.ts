import { describe, expect, it } from 'vitest';
import { applyReport } from './capacity-grants.js';
import { emptyLedger, prune, type InstanceReport, type PoolLedger } from './capacity-ledger.js';
import { acquireDurable, releaseDurable, type DurableAcquire } from './durable-grants.js';

const T0 = 1_700_000_000_000;
const POOL = [{ groupId: 'ptu', capacity: 4 }];

const report = (demand: number[], holding: number, atMs = T0): InstanceReport => ({
  instanceId: 'http-1',
  groups: POOL,
  demand,
  inUse: holding,
  holding: [{ groupId: 'ptu', capacity: holding }],
  atMs,
});
const ask = (requestId: string, level: number, nowMs = T0): DurableAcquire => ({
  requestId,
  level,
  deadlineMs: T0 + 600_000,
  nowMs,
});

/** A pool of 4 where the HTTP instance holds `holding` slots. */
function pool(holding: number, demand: number[] = [0, 0, holding]): PoolLedger {
  return applyReport(applyReport(emptyLedger(), report(demand, 0)).ledger, report(demand, holding, T0 + 1)).ledger;
}

describe('durable grants', () => {
  it('grants at once when a slot is spare', () => {
    const { decision, offered } = acquireDurable(pool(0, [0]), ask('j1', 2));
    expect(decision).toMatchObject({ kind: 'granted', lease: { requestId: 'j1', level: 2 } });
    expect(decision.kind === 'granted' && decision.lease.confirmByMs).toBeUndefined();
    expect(offered).toEqual([]);
  });

  it('waits by level then arrival while the pool is held, and answers its position', () => {
    let ledger = pool(4);
    const first = acquireDurable(ledger, ask('batch', 3));
    ledger = first.ledger;
    const second = acquireDurable(ledger, ask('urgent', 1, T0 + 10));
    expect(first.decision).toEqual({ kind: 'waiting', position: 1 });
    expect(second.decision).toEqual({ kind: 'waiting', position: 1 });
    expect(acquireDurable(second.ledger, ask('batch', 3, T0 + 20)).decision).toEqual({ kind: 'waiting', position: 2 });
  });

  it('offers a freed slot to the most urgent waiter, who confirms it by asking again', () => {
    let ledger = pool(0, [0]);
    ledger = acquireDurable(ledger, ask('running', 2)).ledger;
    ledger = applyReport(ledger, report([0, 0, 3], 3, T0 + 2)).ledger;
    ledger = acquireDurable(ledger, ask('batch', 3, T0 + 3)).ledger;
    ledger = acquireDurable(ledger, ask('urgent', 1, T0 + 4)).ledger;
    expect(ledger.waiting.map((w) => w.requestId)).toEqual(['batch', 'urgent']);

    const released = releaseDurable(ledger, 'running', T0 + 5_000);
    expect(released.released).toBe(true);
    expect(released.offered.map((l) => l.requestId)).toEqual(['urgent']);
    expect(released.offered[0]!.confirmByMs).toBe(T0 + 5_000 + 45_000);

    const confirmed = acquireDurable(released.ledger, ask('urgent', 1, T0 + 5_050));
    expect(confirmed.decision).toMatchObject({ kind: 'granted', lease: { requestId: 'urgent', waitedMs: 4_996 } });
    expect(confirmed.ledger.leases['urgent']!.confirmByMs).toBeUndefined();
    expect(confirmed.ledger.waiting.map((w) => w.requestId)).toEqual(['batch']);
  });

  it('returns an offer nobody confirmed to the waiters, in its old place', () => {
    let ledger = pool(4);
    ledger = acquireDurable(ledger, ask('j1', 2)).ledger;
    ledger = acquireDurable(ledger, ask('j2', 2, T0 + 1)).ledger;
    const freed = applyReport(ledger, report([0, 0, 3], 3, T0 + 1_000));
    expect(freed.offered.map((l) => l.requestId)).toEqual(['j1']);
    // j1's orchestration keeps asking (backstop) but never saw the event: the offer lapses at 45 s.
    const lapsed = prune(freed.ledger, T0 + 1_000 + 45_000);
    expect(lapsed.leases['j1']).toBeUndefined();
    expect(lapsed.waiting.map((w) => [w.requestId, w.seq])).toEqual([
      ['j1', 1],
      ['j2', 2],
    ]);
  });

  it('lets a level-1 durable request shrink the instances’ share; the slot is offered when they give it back', () => {
    let ledger = pool(4);
    const waiting = acquireDurable(ledger, ask('urgent', 1, T0 + 2));
    expect(waiting.decision.kind).toBe('waiting');
    ledger = waiting.ledger;
    // The instance reports its level-3 flood: its grant drops to 3; it still holds 4.
    const lowered = applyReport(ledger, report([0, 0, 9], 4, T0 + 1_000));
    expect(lowered.answer.grant).toEqual([{ groupId: 'ptu', capacity: 3 }]);
    expect(lowered.offered).toEqual([]);
    // Once it holds 3, its report frees the slot and the durable request is offered it.
    const handedBack = applyReport(lowered.ledger, report([0, 0, 9], 3, T0 + 2_000));
    expect(handedBack.offered.map((l) => l.requestId)).toEqual(['urgent']);
  });

  it('rejects a request past its deadline and one beyond the waiting bound', () => {
    expect(acquireDurable(pool(4), { ...ask('late', 1), deadlineMs: T0 }).decision).toEqual({
      kind: 'rejected',
      reason: 'expired',
    });
    const full = acquireDurable(pool(4), ask('a', 1), { maxWaiting: 1 }).ledger;
    expect(acquireDurable(full, ask('b', 1), { maxWaiting: 1 }).decision).toEqual({
      kind: 'rejected',
      reason: 'queue-full',
    });
  });

  it('releases idempotently and removes a waiter that gives up', () => {
    const ledger = acquireDurable(pool(4), ask('gone', 2)).ledger;
    const once = releaseDurable(ledger, 'gone', T0 + 1);
    expect(once.released).toBe(false);
    expect(once.ledger.waiting).toEqual([]);
    expect(releaseDurable(once.ledger, 'gone', T0 + 2).released).toBe(false);
  });
});
