import { describe, expect, it } from 'vitest';
import { MemoryCapacityLedger } from '../../adapters/memory/memory-capacity-ledger.js';
import type { CapacityLedger } from '../../ports/capacity-ledger.js';
import { FakeClock } from '../test-support/fake-clock.js';
import { ManualTimers } from '../jobs/test-support/manual-timers.js';
import { CapacityShareAgent, poolDemandOf, type CapacitySharingOptions } from './capacity-share-agent.js';
import { hasConverged } from './capacity-grants.js';
import { PriorityScheduler } from './priority-scheduler.js';
import { SchedulerGate } from './scheduler-gate.js';
import type { Lease } from './scheduler-types.js';

const POOL = 'pool';
const SEEN = [{ groupId: 'ptu', capacity: 8 }];

/** One gateway instance: its own scheduler and gate, sharing `ledger` through an agent. */
function startInstance(id: string, ledger: CapacityLedger, timers: ManualTimers, options: CapacitySharingOptions = {}) {
  const clock = timers.clock;
  const scheduler = new PriorityScheduler({ clock, options: { levels: 3, maxQueueDepth: 1_000 } });
  const holder: { agent?: CapacityShareAgent } = {};
  const gate = new SchedulerGate({
    scheduler,
    clock,
    setTimer: timers.setTimer,
    onChange: () => holder.agent?.poke(),
  });
  const resync = (): void => gate.setCapacity(POOL, agent.cap(POOL, SEEN));
  const agent = new CapacityShareAgent(
    { ledger, clock, instanceId: id, observe: () => poolDemandOf(gate.stats()), resync, setTimer: timers.setTimer },
    options,
  );
  holder.agent = agent;
  resync();
  const leases: Lease[] = [];
  let n = 0;
  return {
    gate,
    agent,
    leases,
    /** Sends `count` requests of `level`; granted ones land in `leases`. */
    send(count: number, level: number): void {
      for (let i = 0; i < count; i++)
        void gate
          .acquire({
            requestId: `${id}-${n++}`,
            poolId: POOL,
            priority: level,
            userId: `u${n}`,
            deadlineMs: clock.now() + 600_000,
          })
          .then((lease) => leases.push(lease));
    },
    /** Releases `count` held leases (their calls ended). */
    finish(count: number): void {
      for (const lease of leases.splice(0, count)) gate.release(lease);
    },
    inUse: () => gate.stats().pools.find((p) => p.poolId === POOL)?.leases ?? 0,
    enforced: () => gate.stats().pools.find((p) => p.poolId === POOL)?.groups[0]?.capacity ?? 0,
  };
}

/** Counts the reports a ledger receives. */
function countingLedger(inner: CapacityLedger): CapacityLedger & { reports: number } {
  const counter = {
    reports: 0,
    report: (...args: Parameters<CapacityLedger['report']>) => {
      counter.reports += 1;
      return inner.report(...args);
    },
    leave: (...args: Parameters<CapacityLedger['leave']>) => inner.leave(...args),
    read: (poolId: string) => inner.read(poolId),
  };
  return counter;
}

describe('CapacityShareAgent', () => {
  it('admits nothing before its first grant, then as much as the ledger grants', async () => {
    const timers = new ManualTimers(new FakeClock());
    const a = startInstance('a', new MemoryCapacityLedger(), timers);
    expect(a.enforced()).toBe(0);
    a.send(3, 2);
    expect(a.leases).toHaveLength(0);
    await timers.advance(0);
    expect(a.leases).toHaveLength(3);
    expect(a.enforced()).toBe(5);
    expect(a.agent.status()[0]).toMatchObject({ state: 'granted', reports: 1, lastReason: 'waiting' });
  });

  it('hands a level-1 burst on one instance the capacity a level-3 flood holds on another in 1.5 rounds', async () => {
    const timers = new ManualTimers(new FakeClock());
    const ledger = new MemoryCapacityLedger();
    const a = startInstance('a', ledger, timers);
    const b = startInstance('b', ledger, timers);
    const overCapacity = (): void => expect(a.inUse() + b.inUse()).toBeLessThanOrEqual(8);
    a.send(30, 3);
    await timers.advance(0);
    expect(a.inUse()).toBe(8);
    b.send(4, 1);
    const shiftAt = timers.clock.now();
    // Calls end every 100 ms and their callers send the next one: a keeps its pool full as long as its
    // grant lets it, b keeps 4 level-1 calls going.
    let convergedAfterMs: number | undefined;
    for (let t = 0; t < 5_000; t += 100) {
      a.finish(2);
      const ended = Math.min(1, b.leases.length);
      b.finish(ended);
      b.send(ended, 1);
      await timers.advance(100);
      overCapacity();
      if (convergedAfterMs === undefined && hasConverged((await ledger.read(POOL))!, timers.clock.now()))
        convergedAfterMs = timers.clock.now() - shiftAt;
    }
    expect(b.enforced()).toBeGreaterThanOrEqual(4);
    expect(convergedAfterMs).toBeDefined();
    expect(convergedAfterMs!).toBeLessThanOrEqual(1_500);
  });

  it('reports at most once per interval while requests wait, and rarely when idle', async () => {
    const timers = new ManualTimers(new FakeClock());
    const ledger = countingLedger(new MemoryCapacityLedger());
    const a = startInstance('a', ledger, timers);
    a.send(50, 3);
    await timers.advance(10_000);
    expect(ledger.reports).toBeLessThanOrEqual(11);
    expect(ledger.reports).toBeGreaterThanOrEqual(10);
    a.finish(50);
    await timers.advance(50);
    while (a.leases.length > 0 || a.gate.waiting > 0) {
      a.finish(a.leases.length);
      await timers.advance(10);
    }
    await timers.advance(2_000);
    const afterIdle = ledger.reports;
    await timers.advance(60_000);
    expect(ledger.reports - afterIdle).toBe(0);
    expect(a.enforced()).toBe(0);
  });

  it('gives its share back when it leaves, and the other instance takes it at its next report', async () => {
    const timers = new ManualTimers(new FakeClock());
    const ledger = new MemoryCapacityLedger();
    const a = startInstance('a', ledger, timers);
    const b = startInstance('b', ledger, timers);
    a.send(8, 3);
    await timers.advance(0);
    b.send(8, 3);
    await timers.advance(1_500);
    expect(b.inUse()).toBe(0);
    a.finish(8);
    await a.agent.close();
    await timers.advance(1_000);
    expect(b.inUse()).toBe(8);
  });

  it('keeps an even share while the ledger is unreachable, or stops, as configured', async () => {
    for (const [policy, expected] of [
      ['keep-even-share', 4],
      ['stop', 0],
    ] as const) {
      const timers = new ManualTimers(new FakeClock());
      const inner = new MemoryCapacityLedger();
      let down = false;
      const flaky: CapacityLedger = {
        report: (...args) => (down ? Promise.reject(new Error('storage unreachable')) : inner.report(...args)),
        leave: (...args) => inner.leave(...args),
        read: (poolId) => inner.read(poolId),
      };
      const a = startInstance('a', flaky, timers, { whenUnreachable: policy });
      const b = startInstance('b', flaky, timers, { whenUnreachable: policy });
      a.send(20, 3);
      b.send(20, 3);
      const churn = async (ms: number): Promise<void> => {
        for (let t = 0; t < ms; t += 100) {
          for (const x of [a, b]) {
            const ended = Math.min(1, x.leases.length);
            x.finish(ended);
            x.send(ended, 3);
          }
          await timers.advance(100);
        }
      };
      await churn(4_000);
      expect([a.enforced(), b.enforced()]).toEqual([4, 4]);
      down = true;
      await churn(9_000);
      expect(a.agent.status()[0]!.state).toBe('granted');
      await churn(2_000);
      expect(a.agent.status()[0]!.state).toBe('unreachable');
      expect(a.enforced()).toBe(expected);
      down = false;
      await churn(6_000);
      expect(a.agent.status()[0]!.state).toBe('granted');
    }
  });

  it('serves from its first failed report when the ledger was never reached: an even share, or nothing', async () => {
    for (const [policy, expected] of [
      ['keep-even-share', 8],
      ['stop', 0],
    ] as const) {
      const timers = new ManualTimers(new FakeClock());
      const inner = new MemoryCapacityLedger();
      let down = true;
      const flaky: CapacityLedger = {
        report: (...args) => (down ? Promise.reject(new Error('no durable client bound yet')) : inner.report(...args)),
        leave: (...args) => inner.leave(...args),
        read: (poolId) => inner.read(poolId),
      };
      const a = startInstance('a', flaky, timers, { whenUnreachable: policy });
      expect(a.enforced()).toBe(0);
      a.send(10, 3);
      await timers.advance(100);
      expect(a.agent.status()[0]!.state).toBe('unreachable');
      expect(a.enforced()).toBe(expected);
      expect(a.inUse()).toBe(expected);
      down = false;
      await timers.advance(20_000);
      expect(a.agent.status()[0]!.state).toBe('granted');
      expect(a.inUse()).toBe(8);
    }
  });
});
