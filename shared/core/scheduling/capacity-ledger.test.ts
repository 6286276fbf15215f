import { describe, expect, it } from 'vitest';
import { gatewaySchema } from '../../config/gateway-schema.js';
import {
  acquireDurable,
  allocateProportionally,
  computeShares,
  emptyLedger,
  normalizeLedger,
  recordReport,
  releaseDurable,
  spareSlots,
  type InstanceReport,
  type PoolLedger,
} from './capacity-ledger.js';
import { applyCapacityShares } from './capacity-share-config.js';

const T0 = 1_700_000_000_000;
const GROUPS = [
  { groupId: 'ptu', capacity: 6 },
  { groupId: 'payg', capacity: 4 },
];

function report(instanceId: string, demand: number[], inUse = 0, atMs = T0): InstanceReport {
  return { instanceId, groups: GROUPS, demand, inUse, atMs };
}

function ledgerWith(...reports: InstanceReport[]): PoolLedger {
  return reports.reduce((l, r) => recordReport(l, r), emptyLedger());
}

const total = (groups: readonly { capacity: number }[] | undefined): number =>
  (groups ?? []).reduce((s, g) => s + g.capacity, 0);

describe('allocateProportionally', () => {
  it.each([
    {
      total: 10,
      weights: [
        ['a', 1],
        ['b', 1],
      ],
      expected: { a: 5, b: 5 },
    },
    {
      total: 3,
      weights: [
        ['a', 1],
        ['b', 1],
      ],
      expected: { a: 2, b: 1 },
    },
    {
      total: 7,
      weights: [
        ['a', 3],
        ['b', 1],
        ['c', 0],
      ],
      expected: { a: 5, b: 2, c: 0 },
    },
    { total: 0, weights: [['a', 1]], expected: { a: 0 } },
    {
      total: 5,
      weights: [
        ['a', 0],
        ['b', 0],
      ],
      expected: { a: 0, b: 0 },
    },
  ] as const)('splits $total by $weights', ({ total: n, weights, expected }) => {
    expect(Object.fromEntries(allocateProportionally(n, weights))).toEqual(expected);
  });
});

describe('computeShares', () => {
  it('gives level-1 demand before level-3 demand across instances', () => {
    // a: 8 batch (level 3); b: 4 interactive (level 1). Capacity 10.
    const shares = computeShares(ledgerWith(report('a', [0, 0, 8]), report('b', [4, 0, 0])), T0);
    expect(total(shares.get('b'))).toBe(4);
    expect(total(shares.get('a'))).toBe(6);
  });

  it('splits a level in proportion to demand when it does not fit', () => {
    const shares = computeShares(ledgerWith(report('a', [15]), report('b', [5])), T0);
    expect(total(shares.get('a'))).toBe(8);
    expect(total(shares.get('b'))).toBe(2);
  });

  it('splits spare capacity evenly as headroom when demand is met', () => {
    const shares = computeShares(ledgerWith(report('a', [2]), report('b', [0])), T0);
    expect(total(shares.get('a'))).toBe(6);
    expect(total(shares.get('b'))).toBe(4);
  });

  it('never gives out more than a group holds', () => {
    const shares = computeShares(ledgerWith(report('a', [7, 1]), report('b', [1, 9]), report('c', [3])), T0);
    for (const [i, group] of GROUPS.entries()) {
      const handed = [...shares.values()].reduce((s, g) => s + g[i]!.capacity, 0);
      expect(handed).toBeLessThanOrEqual(group.capacity);
    }
    expect([...shares.values()].reduce((s, g) => s + total(g), 0)).toBe(10);
  });

  it('returns the share of an instance that stopped reporting to the others', () => {
    const ledger = ledgerWith(report('a', [5], 0, T0), report('b', [5], 0, T0 + 25_000));
    expect(total(computeShares(ledger, T0 + 20_000).get('a'))).toBe(5);
    const later = computeShares(ledger, T0 + 31_000);
    expect(later.has('a')).toBe(false);
    expect(total(later.get('b'))).toBe(10);
  });

  it('hands out only what durable leases leave', () => {
    let ledger = ledgerWith(report('a', [10]));
    ledger = acquireDurable(ledger, { requestId: 'j1', level: 1, deadlineMs: T0 + 60_000, nowMs: T0 }).ledger;
    ledger = acquireDurable(ledger, { requestId: 'j2', level: 1, deadlineMs: T0 + 60_000, nowMs: T0 }).ledger;
    expect(total(computeShares(ledger, T0).get('a'))).toBe(8);
  });
});

describe('acquireDurable', () => {
  const ask = (ledger: PoolLedger, requestId: string, level: number, nowMs = T0, deadlineMs = T0 + 600_000) =>
    acquireDurable(ledger, { requestId, level, deadlineMs, nowMs });

  it('grants at once when a slot is spare, and again (same lease) when asked twice', () => {
    const first = ask(ledgerWith(report('a', [0], 9)), 'j1', 2);
    expect(first.decision.kind).toBe('granted');
    const again = ask(first.ledger, 'j1', 2, T0 + 1_000);
    expect(again.decision).toEqual(first.decision);
    expect(spareSlots(again.ledger, T0 + 1_000)).toBe(0);
  });

  it('makes a request wait while instances use the whole pool', () => {
    const { decision } = ask(ledgerWith(report('a', [10], 10)), 'j1', 1);
    expect(decision).toEqual({ kind: 'waiting', position: 1 });
  });

  it('gives a freed slot to the more urgent waiter even when the less urgent one polls first', () => {
    let ledger = ledgerWith(report('a', [10], 10));
    ledger = ask(ledger, 'batch', 3).ledger;
    ledger = ask(ledger, 'chat', 1, T0 + 1).ledger;
    ledger = recordReport(ledger, report('a', [9], 9, T0 + 2));
    const batch = ask(ledger, 'batch', 3, T0 + 3);
    expect(batch.decision).toEqual({ kind: 'waiting', position: 2 });
    const chat = ask(batch.ledger, 'chat', 1, T0 + 4);
    expect(chat.decision.kind).toBe('granted');
  });

  it('lets a long-waiting request age ahead of later urgent ones', () => {
    let ledger = ledgerWith(report('a', [10], 10));
    ledger = ask(ledger, 'batch', 3).ledger;
    ledger = ask(ledger, 'batch', 3, T0 + 50_000).ledger;
    ledger = ask(ledger, 'chat', 1, T0 + 70_000).ledger;
    ledger = recordReport(ledger, report('a', [9], 9, T0 + 70_001));
    // batch has waited 70 s: effective level 1 at 30 s steps, and it arrived first.
    expect(ask(ledger, 'batch', 3, T0 + 70_002).decision.kind).toBe('granted');
  });

  it('drops a waiter whose orchestration stopped polling, so it does not block others', () => {
    let ledger = ledgerWith(report('a', [10], 10));
    ledger = ask(ledger, 'gone', 1).ledger;
    ledger = ask(ledger, 'batch', 3, T0 + 1_000).ledger;
    ledger = recordReport(ledger, report('a', [9], 9, T0 + 61_000));
    ledger = ask(ledger, 'batch', 3, T0 + 50_000).ledger;
    expect(ask(ledger, 'batch', 3, T0 + 61_500).decision.kind).toBe('granted');
  });

  it('rejects at the deadline and when the waiting list is full', () => {
    expect(ask(emptyLedger(), 'late', 1, T0, T0).decision).toEqual({ kind: 'rejected', reason: 'expired' });
    const full = acquireDurable(
      ledgerWith(report('a', [10], 10)),
      { requestId: 'x', level: 1, deadlineMs: T0 + 1_000, nowMs: T0 },
      { maxWaiting: 0 },
    );
    expect(full.decision).toEqual({ kind: 'rejected', reason: 'queue-full' });
  });

  it('waits (never grants) before any instance has reported the pool capacity', () => {
    expect(ask(emptyLedger(), 'j1', 1).decision.kind).toBe('waiting');
  });

  it('reclaims a lease never released after its TTL', () => {
    const ledger = acquireDurable(
      ledgerWith(report('a', [0], 9)),
      { requestId: 'j1', level: 1, deadlineMs: T0 + 10_000, nowMs: T0 },
      { durableLeaseTtlMs: 5_000 },
    ).ledger;
    expect(spareSlots(ledger, T0 + 1_000, { durableLeaseTtlMs: 5_000 })).toBe(0);
    expect(spareSlots(ledger, T0 + 5_001, { durableLeaseTtlMs: 5_000, instanceStaleMs: 60_000 })).toBe(1);
  });
});

describe('releaseDurable', () => {
  it('frees the slot once; a second release is a no-op', () => {
    const granted = acquireDurable(ledgerWith(report('a', [0], 9)), {
      requestId: 'j1',
      level: 1,
      deadlineMs: T0 + 1_000,
      nowMs: T0,
    }).ledger;
    const once = releaseDurable(granted, 'j1');
    expect(once.released).toBe(true);
    expect(spareSlots(once.ledger, T0)).toBe(1);
    expect(releaseDurable(once.ledger, 'j1').released).toBe(false);
  });

  it('removes a waiter that gives up', () => {
    const waiting = acquireDurable(ledgerWith(report('a', [0], 10)), {
      requestId: 'j1',
      level: 1,
      deadlineMs: T0 + 1_000,
      nowMs: T0,
    }).ledger;
    expect(releaseDurable(waiting, 'j1').ledger.waiting).toEqual([]);
  });
});

describe('normalizeLedger', () => {
  it('starts empty and survives a JSON round trip', () => {
    const ledger = acquireDurable(ledgerWith(report('a', [1, 2], 3)), {
      requestId: 'j',
      level: 1,
      deadlineMs: T0 + 5,
      nowMs: T0,
    }).ledger;
    expect(normalizeLedger(JSON.parse(JSON.stringify(ledger)))).toEqual(ledger);
    expect(normalizeLedger(undefined)).toEqual(emptyLedger());
    expect(() => normalizeLedger({ version: 9 })).toThrow(/version/);
  });
});

describe('applyCapacityShares', () => {
  const config = gatewaySchema.parse({
    backends: [
      { id: 'p1', url: 'http://127.0.0.1:1', group: 'ptu', maxConcurrency: 4 },
      { id: 'p2', url: 'http://127.0.0.1:2', group: 'ptu', maxConcurrency: 2 },
      { id: 'g1', url: 'http://127.0.0.1:3', group: 'payg', maxConcurrency: 4 },
    ],
    pools: [{ id: 'gpt', backends: ['p1', 'p2', 'g1'] }],
    routes: [{ id: 'chat', pool: 'gpt', match: { pathPrefix: '/' } }],
  });

  it('scales backends so each group adds up to the share', () => {
    const scaled = applyCapacityShares(
      config,
      new Map([
        [
          'gpt',
          [
            { groupId: 'ptu', capacity: 3 },
            { groupId: 'payg', capacity: 1 },
          ],
        ],
      ]),
    );
    const byId = Object.fromEntries(scaled.backends.map((b) => [b.id, b.maxConcurrency]));
    expect(byId).toEqual({ p1: 2, p2: 1, g1: 1 });
  });

  it('keeps the configuration when there is no share yet', () => {
    expect(applyCapacityShares(config, new Map())).toBe(config);
  });
});
