import { describe, expect, it } from 'vitest';
import { committedIn } from '../core/scheduling/capacity-commitments.js';
import { reportPacing, type InstanceReport } from '../core/scheduling/capacity-ledger.js';
import type { GroupCapacity } from '../core/scheduling/scheduler-types.js';
import type { CapacityLedger } from './capacity-ledger.js';

/** What an adapter can do beyond the contract's common part. */
export interface CapacityLedgerContractOptions {
  /** The adapter stores after {@link ReportOptions.beforeCommit} (Table, memory); the durable entity cannot. */
  readonly appliesBeforeCommit: boolean;
}

const T0 = 1_700_000_000_000;
const GROUPS: readonly GroupCapacity[] = [
  { groupId: 'ptu', capacity: 6 },
  { groupId: 'payg', capacity: 4 },
];

const total = (groups: readonly GroupCapacity[] | undefined): number =>
  (groups ?? []).reduce((s, g) => s + g.capacity, 0);

function report(
  instanceId: string,
  demand: number[],
  holding: readonly GroupCapacity[] = [],
  atMs = T0,
): InstanceReport {
  return { instanceId, groups: GROUPS, demand, inUse: total(holding), holding, atMs };
}

/**
 * The behaviour every {@link CapacityLedger} must show. Run it from the adapter's test:
 *
 * @example
 * describeCapacityLedgerContract('MemoryCapacityLedger', () => new MemoryCapacityLedger(), {
 *   appliesBeforeCommit: true,
 * });
 */
export function describeCapacityLedgerContract(
  name: string,
  createLedger: () => CapacityLedger | Promise<CapacityLedger>,
  adapter: CapacityLedgerContractOptions,
): void {
  // Unique pools per test so that a shared store (Azurite) needs no cleanup between tests.
  let n = 0;
  const pool = (label: string): string => `contract/${label}#${process.pid}-${Date.now()}-${n++}`;

  describe(`CapacityLedger contract: ${name}`, () => {
    it('answers a first instance its demand plus headroom, paced for one reporter', async () => {
      const ledger = await createLedger();
      const answer = await ledger.report(pool('first'), report('a', [4]));
      expect(total(answer.grant)).toBe(6);
      expect(answer.instances).toBe(1);
      expect(answer.pacing).toEqual(reportPacing(1));
    });

    it('serves level-1 demand first across instances, never granting what another instance holds', async () => {
      const ledger = await createLedger();
      const p = pool('levels');
      const a = await ledger.report(p, report('a', [0, 0, 30]));
      expect(total(a.grant)).toBe(10);
      await ledger.report(p, report('a', [0, 0, 30], a.grant, T0 + 1));
      const b = await ledger.report(p, report('b', [4], [], T0 + 2));
      expect(total(b.target)).toBe(4);
      expect(total(b.grant)).toBe(0);
      const aLowered = await ledger.report(p, report('a', [0, 0, 30], a.grant, T0 + 1_000));
      expect(total(aLowered.grant)).toBe(6);
      await ledger.report(p, report('a', [0, 0, 30], aLowered.grant, T0 + 2_000));
      const bGrown = await ledger.report(p, report('b', [4], [], T0 + 2_001));
      expect(bGrown.grant).toEqual(bGrown.target);
      const stored = (await ledger.read(p))!;
      for (const g of GROUPS) {
        const committed = Object.values(stored.instances).reduce((s, e) => s + committedIn(e, g.groupId), 0);
        expect(committed).toBeLessThanOrEqual(g.capacity);
      }
    });

    it('returns what a leaving instance held at once', async () => {
      const ledger = await createLedger();
      const p = pool('leave');
      const a = await ledger.report(p, report('a', [0, 0, 30]));
      await ledger.report(p, report('a', [0, 0, 30], a.grant, T0 + 1));
      await ledger.leave(p, 'a', T0 + 2);
      expect(total((await ledger.report(p, report('b', [0, 20], [], T0 + 3))).grant)).toBe(10);
      expect((await ledger.read(p))!.instances['a']).toBeUndefined();
      await ledger.leave(p, 'a', T0 + 4);
      await ledger.leave(pool('never-reported'), 'a', T0 + 4);
    });

    it('returns what a silent instance held once it has been silent past the staleness bound', async () => {
      const ledger = await createLedger();
      const p = pool('stale');
      const a = await ledger.report(p, report('a', [0, 0, 30]));
      await ledger.report(p, report('a', [0, 0, 30], a.grant, T0 + 1));
      const { staleAfterMs } = reportPacing(2);
      expect(total((await ledger.report(p, report('b', [0, 20], [], T0 + staleAfterMs))).grant)).toBe(0);
      expect(total((await ledger.report(p, report('b', [0, 20], [], T0 + 1 + staleAfterMs))).grant)).toBe(10);
    });

    it('keeps pools apart and counts every change as a revision', async () => {
      const ledger = await createLedger();
      const [p, q] = [pool('apart-p'), pool('apart-q')];
      expect(await ledger.read(p)).toBeUndefined();
      await ledger.report(p, report('a', [0, 0, 30]));
      const other = await ledger.report(q, report('a', [1]));
      expect(total(other.grant)).toBe(2);
      await ledger.report(p, report('b', [1], [], T0 + 1));
      expect((await ledger.read(p))!.revision).toBe(2);
      expect(Object.keys((await ledger.read(q))!.instances)).toEqual(['a']);
    });

    it('records every one of many concurrent reports and still never over-grants', async () => {
      const ledger = await createLedger();
      const p = pool('concurrent');
      const ids = ['a', 'b', 'c', 'd', 'e', 'f'];
      const answers = await Promise.all(
        ids.flatMap((id, i) => [0, 1, 2].map((k) => ledger.report(p, report(id, [0, i, 3], [], T0 + k)))),
      );
      expect(answers).toHaveLength(18);
      const stored = (await ledger.read(p))!;
      expect(Object.keys(stored.instances).sort()).toEqual(ids);
      expect(stored.revision).toBe(18);
      for (const g of GROUPS) {
        const granted = Object.values(stored.instances).reduce((s, e) => s + committedIn(e, g.groupId), 0);
        expect(granted).toBeLessThanOrEqual(g.capacity);
      }
    });

    // Only adapters that store after computing can run the hook (a durable entity signal cannot wait).
    if (adapter.appliesBeforeCommit)
      it('stores the holding the instance returns from beforeCommit, so the room is free at once', async () => {
        const ledger = await createLedger();
        const p = pool('before-commit');
        const a = await ledger.report(p, report('a', [5]));
        await ledger.report(p, report('a', [5], a.grant, T0 + 1));
        const seen: (readonly GroupCapacity[])[] = [];
        const idle = await ledger.report(p, report('a', [0], a.grant, T0 + 1_000), {
          beforeCommit: (grant) => {
            seen.push(grant);
            return grant;
          },
        });
        expect(seen.at(-1)).toEqual(idle.grant);
        expect(total(idle.grant)).toBe(0);
        const b = await ledger.report(p, report('b', [0, 0, 20], [], T0 + 1_001));
        expect(total(b.grant)).toBe(10);
      });
  });
}
