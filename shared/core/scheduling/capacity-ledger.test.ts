import { describe, expect, it } from 'vitest';
import { committedIn, spareSlots } from './capacity-commitments.js';
import { applyReport, hasConverged, leaveLedger, withHolding } from './capacity-grants.js';
import {
  allocateProportionally,
  emptyLedger,
  normalizeLedger,
  prune,
  reportPacing,
  type InstanceReport,
  type PoolLedger,
} from './capacity-ledger.js';
import { computeTargets, fillGroups, placeInTierOrder, splitByLevel } from './capacity-targets.js';
import { mulberry32 } from '../../../test/support/seeded-random.js';

const T0 = 1_700_000_000_000;
const GROUPS = [
  { groupId: 'ptu', capacity: 6 },
  { groupId: 'payg', capacity: 4 },
];
const ONE_GROUP = [{ groupId: 'ptu', capacity: 10 }];

function report(instanceId: string, demand: number[], holding = 0, atMs = T0): InstanceReport {
  return {
    instanceId,
    groups: GROUPS,
    demand,
    inUse: holding,
    holding: placeInTierOrder(holding, GROUPS),
    atMs,
  };
}

function applyAll(ledger: PoolLedger, ...reports: InstanceReport[]): PoolLedger {
  return reports.reduce((l, r) => applyReport(l, r).ledger, ledger);
}

const total = (groups: readonly { capacity: number }[] | undefined): number =>
  (groups ?? []).reduce((s, g) => s + g.capacity, 0);

const grantOf = (ledger: PoolLedger, id: string): number => total(ledger.instances[id]?.grant);

describe('allocateProportionally', () => {
  it.each([
    { total: 10, weights: { a: 1, b: 1 }, expected: { a: 5, b: 5 } },
    { total: 3, weights: { a: 1, b: 1 }, expected: { a: 2, b: 1 } },
    { total: 7, weights: { a: 3, b: 1, c: 0 }, expected: { a: 5, b: 2, c: 0 } },
    { total: 0, weights: { a: 3 }, expected: { a: 0 } },
    { total: 5, weights: { a: 0, b: 0 }, expected: { a: 0, b: 0 } },
  ])('splits $total by $weights', ({ total: t, weights, expected }) => {
    expect(Object.fromEntries(allocateProportionally(t, Object.entries(weights)))).toEqual(expected);
  });
});

describe('reportPacing (the ledger operation budget)', () => {
  it.each([
    { instances: 1, expected: { intervalMs: 1_000, heartbeatMs: 5_000, staleAfterMs: 15_000 } },
    { instances: 3, expected: { intervalMs: 1_000, heartbeatMs: 5_000, staleAfterMs: 15_000 } },
    { instances: 32, expected: { intervalMs: 1_000, heartbeatMs: 5_000, staleAfterMs: 15_000 } },
    { instances: 100, expected: { intervalMs: 3_125, heartbeatMs: 6_250, staleAfterMs: 18_750 } },
    { instances: 1_000, expected: { intervalMs: 31_250, heartbeatMs: 62_500, staleAfterMs: 187_500 } },
  ])('$instances instances report at most 32 times a second in all', ({ instances, expected }) => {
    const pacing = reportPacing(instances);
    expect(pacing).toEqual(expected);
    expect((instances * 1_000) / pacing.intervalMs).toBeLessThanOrEqual(32);
  });
});

describe('normalizeLedger', () => {
  it('starts empty and refuses an unknown version', () => {
    expect(normalizeLedger(undefined)).toEqual(emptyLedger());
    expect(() => normalizeLedger({ version: 2 })).toThrow(/version/);
  });
});

describe('targets', () => {
  it('splits demand level by level: level 1 across instances first, then level 2', () => {
    expect(
      Object.fromEntries(
        splitByLevel(
          10,
          new Map([
            ['a', [0, 0, 9]],
            ['b', [3, 4]],
            ['c', [2, 0, 9]],
          ]),
        ),
      ),
    ).toEqual({ a: 1, b: 7, c: 2 });
  });

  it('fills the first group before the next, in proportion to what each still needs', () => {
    const filled = fillGroups(
      new Map([
        ['a', 6],
        ['b', 2],
      ]),
      GROUPS,
    );
    expect(filled.get('a')).toEqual([
      { groupId: 'ptu', capacity: 5 },
      { groupId: 'payg', capacity: 1 },
    ]);
    expect(filled.get('b')).toEqual([
      { groupId: 'ptu', capacity: 1 },
      { groupId: 'payg', capacity: 1 },
    ]);
  });

  it('gives a busy instance headroom over its demand and an idle one nothing, and leaves the rest free', () => {
    const ledger = applyAll(emptyLedger(), report('busy', [2]), report('idle', [0, 0, 0]));
    const targets = computeTargets(ledger, T0);
    expect(total(targets.instances.get('busy'))).toBe(3);
    expect(total(targets.instances.get('idle'))).toBe(0);
  });

  it('lets waiting durable requests compete by level with instances', () => {
    const ledger: PoolLedger = {
      ...applyAll(emptyLedger(), report('a', [0, 0, 20])),
      waiting: [
        { requestId: 'j1', level: 1, enqueuedAtMs: T0, deadlineMs: T0 + 60_000, lastSeenAtMs: T0, seq: 1 },
        { requestId: 'j2', level: 1, enqueuedAtMs: T0, deadlineMs: T0 + 60_000, lastSeenAtMs: T0, seq: 2 },
      ],
    };
    const targets = computeTargets(ledger, T0);
    expect(targets.durableTarget).toBe(2);
    expect(targets.durablePlacement).toEqual([
      { groupId: 'ptu', capacity: 2 },
      { groupId: 'payg', capacity: 0 },
    ]);
    expect(total(targets.instances.get('a'))).toBe(8);
  });
});

describe('grants', () => {
  it('grants a first instance its demand plus headroom, at once', () => {
    const { answer } = applyReport(emptyLedger(), report('a', [4]));
    expect(total(answer.grant)).toBe(6);
    expect(answer.instances).toBe(1);
    expect(answer.pacing.intervalMs).toBe(1_000);
  });

  it('never grants a newcomer what another instance still holds; it grows as the holder gives back', () => {
    const one = (id: string, demand: number[], holding: number, atMs: number): InstanceReport => ({
      ...report(id, demand, 0, atMs),
      groups: ONE_GROUP,
      holding: [{ groupId: 'ptu', capacity: holding }],
    });
    let ledger = applyAll(emptyLedger(), one('a', [0, 0, 30], 0, T0), one('a', [0, 0, 30], 10, T0 + 1));
    expect(grantOf(ledger, 'a')).toBe(10);
    // b arrives with level-1 demand: its target is 4, but a holds all 10 slots.
    let b = applyReport(ledger, one('b', [4], 0, T0 + 2));
    expect(total(b.answer.target)).toBe(4);
    expect(total(b.answer.grant)).toBe(0);
    // a reports: its grant drops to 6, but it still holds 10 calls in flight — nothing is freed yet.
    ledger = applyAll(b.ledger, one('a', [0, 0, 30], 10, T0 + 1_000));
    expect(grantOf(ledger, 'a')).toBe(6);
    b = applyReport(ledger, one('b', [4], 0, T0 + 1_001));
    expect(total(b.answer.grant)).toBe(0);
    expect(hasConverged(b.ledger, T0 + 1_001)).toBe(false);
    // a's extra calls end; its next report says it holds 6: b gets its 4.
    ledger = applyAll(b.ledger, one('a', [0, 0, 30], 6, T0 + 2_000));
    b = applyReport(ledger, one('b', [4], 0, T0 + 2_001));
    expect(total(b.answer.grant)).toBe(4);
    expect(hasConverged(b.ledger, T0 + 2_001)).toBe(true);
  });

  it('frees room at once when the instance applied a lowered grant before the report was stored', () => {
    const one = (id: string, demand: number[], holding: number, atMs: number): InstanceReport => ({
      ...report(id, demand, 0, atMs),
      groups: ONE_GROUP,
      holding: [{ groupId: 'ptu', capacity: holding }],
    });
    let ledger = applyAll(emptyLedger(), one('a', [4], 0, T0), one('a', [4], 4, T0 + 1));
    expect(grantOf(ledger, 'a')).toBe(6);
    ledger = applyReport(ledger, one('b', [0, 0, 10], 0, T0 + 2)).ledger;
    expect(grantOf(ledger, 'b')).toBe(4);
    // a goes idle: its grant drops to 0, yet its last holding (6) still counts …
    const lowered = applyReport(ledger, one('a', [0], 6, T0 + 1_000));
    expect(total(lowered.answer.grant)).toBe(0);
    expect(grantOf(applyReport(lowered.ledger, one('b', [0, 0, 10], 4, T0 + 1_001)).ledger, 'b')).toBe(4);
    // … unless it applied the lowered grant before the report was stored: then b gets the whole pool.
    ledger = withHolding(lowered.ledger, 'a', [{ groupId: 'ptu', capacity: 0 }]);
    expect(committedIn(ledger.instances['a']!, 'ptu')).toBe(0);
    expect(grantOf(applyReport(ledger, one('b', [0, 0, 10], 4, T0 + 1_001)).ledger, 'b')).toBe(10);
  });

  it('returns a leaving instance’s share at once, and a silent one’s after the staleness bound', () => {
    const full = applyAll(emptyLedger(), report('a', [0, 0, 30]), report('a', [0, 0, 30], 10, T0 + 1));
    const left = leaveLedger(full, 'a', T0 + 2).ledger;
    expect(grantOf(applyReport(left, report('b', [0, 9], 0, T0 + 3)).ledger, 'b')).toBe(10);
    const { staleAfterMs } = reportPacing(1);
    expect(grantOf(applyReport(full, report('b', [0, 9], 0, T0 + staleAfterMs)).ledger, 'b')).toBe(0);
    expect(grantOf(applyReport(full, report('b', [0, 9], 0, T0 + 1 + staleAfterMs)).ledger, 'b')).toBe(10);
    expect(prune(full, T0 + 1 + staleAfterMs).instances['a']).toBeUndefined();
  });

  it('counts every report as a revision', () => {
    const ledger = applyAll(emptyLedger(), report('a', [1]), report('b', [1]), report('a', [1]));
    expect(ledger.revision).toBe(3);
  });
});

interface SimInstance {
  /** Capacity the instance enforces now, per group. */
  enforced: number[];
  /** Calls in flight, per group. */
  inUse: number[];
  /** A grant answered but not applied yet (the durable entity's instances apply it one step later). */
  pending: number[] | undefined;
  demand: number[];
}

describe('grants under random traffic (safety)', () => {
  it.each([1, 2, 3, 4, 5])('never lets calls in flight exceed any group (seed %i)', (seed) => {
    const rnd = mulberry32(seed);
    const ids = ['a', 'b', 'c', 'd'];
    const sims = new Map<string, SimInstance>(
      ids.map((id) => [id, { enforced: [0, 0], inUse: [0, 0], pending: undefined, demand: [0, 0, 0] }]),
    );
    let ledger = emptyLedger();
    let now = T0;
    let peak = 0;
    for (let step = 0; step < 3_000; step++) {
      now += 1 + Math.floor(rnd() * 50);
      const id = ids[Math.floor(rnd() * ids.length)]!;
      const sim = sims.get(id)!;
      const action = rnd();
      if (action < 0.3) {
        sim.demand = [0, 0, 0].map(() => (rnd() < 0.5 ? 0 : Math.floor(rnd() * 8)));
      } else if (action < 0.55) {
        const holding = GROUPS.map((g, i) => ({
          groupId: g.groupId,
          capacity: Math.max(sim.enforced[i]!, sim.inUse[i]!),
        }));
        const inUse = sim.inUse.reduce((s, n) => s + n, 0);
        const result = applyReport(ledger, {
          instanceId: id,
          groups: GROUPS,
          demand: sim.demand,
          inUse,
          holding,
          atMs: now,
        });
        ledger = result.ledger;
        sim.pending = result.answer.grant.map((g) => g.capacity);
      } else if (action < 0.65 && sim.pending !== undefined) {
        sim.enforced = sim.pending;
        sim.pending = undefined;
      } else if (action < 0.72 && sim.pending === undefined) {
        // A read between reports: the ledger's grant for it (raised by others' reports), lowered on advice.
        const entry = ledger.instances[id];
        if (entry?.grant !== undefined)
          sim.enforced = GROUPS.map((g) =>
            Math.min(
              entry.grant!.find((x) => x.groupId === g.groupId)?.capacity ?? 0,
              entry.lower?.find((x) => x.groupId === g.groupId)?.capacity ?? Number.POSITIVE_INFINITY,
            ),
          );
      } else if (action < 0.85) {
        const g = Math.floor(rnd() * GROUPS.length);
        if (sim.inUse[g]! < sim.enforced[g]!) sim.inUse[g]! += 1;
      } else {
        const g = Math.floor(rnd() * GROUPS.length);
        if (sim.inUse[g]! > 0) sim.inUse[g]! -= 1;
      }
      GROUPS.forEach((group, g) => {
        const inFlight = [...sims.values()].reduce((s, x) => s + x.inUse[g]!, 0);
        expect(inFlight, `step ${step} group ${group.groupId}`).toBeLessThanOrEqual(group.capacity);
        const committed = Object.values(ledger.instances).reduce((s, e) => s + committedIn(e, group.groupId), 0);
        expect(committed, `step ${step} committed in ${group.groupId}`).toBeLessThanOrEqual(group.capacity);
      });
      expect(spareSlots(ledger)).toBeGreaterThanOrEqual(0);
      peak = Math.max(
        peak,
        [...sims.values()].reduce((s, x) => s + x.inUse[0]! + x.inUse[1]!, 0),
      );
    }
    // The run is worth something only if the pool was contended.
    expect(peak).toBeGreaterThanOrEqual(8);
  });
});
