import { describe, expect, it } from 'vitest';
import { HeldDeliveries, priorDeliveriesOf } from './held-deliveries.js';

class LockLost extends Error {}

function held(expiry: 'local' | 'service') {
  let nowMs = 1_000;
  const deliveries = new HeldDeliveries<{ lockedUntilMs: number; id: string }>({
    now: () => nowMs,
    isLockLost: (error) => error instanceof LockLost,
    expiry,
  });
  return { deliveries, advance: (ms: number) => (nowMs += ms) };
}

describe('HeldDeliveries', () => {
  it('settles a token once: the second settlement answers false without calling the service', async () => {
    const { deliveries } = held('local');
    deliveries.hold('t', { lockedUntilMs: 2_000, id: 'a' });
    const calls: string[] = [];
    const settle = () => deliveries.settle('t', async (h) => void calls.push(h.id));
    expect(await settle()).toBe(true);
    expect(await settle()).toBe(false);
    expect(calls).toEqual(['a']);
  });

  it('answers false for a lock the service says is lost, and rethrows any other error', async () => {
    const { deliveries } = held('service');
    deliveries.hold('lost', { lockedUntilMs: 2_000, id: 'a' });
    deliveries.hold('broken', { lockedUntilMs: 2_000, id: 'b' });
    expect(await deliveries.settle('lost', () => Promise.reject(new LockLost()))).toBe(false);
    await expect(deliveries.settle('broken', () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
  });

  it('with local expiry, treats a lock past its end as lost without asking the service', async () => {
    const { deliveries, advance } = held('local');
    deliveries.hold('t', { lockedUntilMs: 2_000, id: 'a' });
    advance(1_000);
    let called = false;
    expect(await deliveries.settle('t', async () => void (called = true))).toBe(false);
    expect(called).toBe(false);
  });

  it('with service expiry, lets the service decide until the next prune', async () => {
    const { deliveries, advance } = held('service');
    deliveries.hold('t', { lockedUntilMs: 2_000, id: 'a' });
    deliveries.hold('u', { lockedUntilMs: 2_000, id: 'b' });
    advance(1_500);
    expect(await deliveries.settle('t', async () => undefined)).toBe(true);
    deliveries.prune();
    expect(deliveries.get('u')).toBeUndefined();
  });

  it('renews a lock to the end the service answers, and forgets a token whose renewal found it lost', async () => {
    const { deliveries } = held('local');
    deliveries.hold('t', { lockedUntilMs: 2_000, id: 'a' });
    expect(await deliveries.renew('t', async () => 9_000)).toBe(9_000);
    expect(deliveries.get('t')?.lockedUntilMs).toBe(9_000);
    expect(await deliveries.renew('t', () => Promise.reject(new LockLost()))).toBeUndefined();
    expect(deliveries.get('t')).toBeUndefined();
    expect(await deliveries.renew('never', async () => 1)).toBeUndefined();
  });
});

describe('priorDeliveriesOf', () => {
  it.each([
    [undefined, 0],
    [3, 3],
    ['4', 4],
    [2.7, 2],
    [-5, 0],
    ['x', 0],
    [Number.POSITIVE_INFINITY, 0],
    [{}, 0],
  ])('reads %j as %i', (value, expected) => {
    expect(priorDeliveriesOf(value)).toBe(expected);
  });
});
