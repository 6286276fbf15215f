import { describe, expect, it } from 'vitest';
import { MemoryQuotaStore } from '../../adapters/memory/memory-quota-store.js';
import type { QuotaStore } from '../../ports/quota-store.js';
import { FakeClock } from '../test-support/fake-clock.js';
import { GatewayError } from '../errors/gateway-error.js';
import { createQuotaGuard } from './quota-guard.js';

const MINUTE = 1_700_000_040_000; // a minute boundary
const DAY = Math.floor(MINUTE / 86_400_000) * 86_400_000;

/** A store whose every call yields to the event loop first, as a remote store would. */
function asyncStore(inner: QuotaStore): QuotaStore {
  const tick = () => new Promise<void>((r) => setImmediate(r));
  return {
    reserve: async (...a) => (await tick(), inner.reserve(...a)),
    adjust: async (...a) => (await tick(), inner.adjust(...a)),
    used: async (...a) => (await tick(), inner.used(...a)),
  };
}

describe('QuotaGuard', () => {
  it('overshoots by at most one reservation under 50 concurrent reservations', async () => {
    const store = new MemoryQuotaStore();
    const guard = createQuotaGuard({ store: asyncStore(store), clock: new FakeClock(MINUTE + 1_000) });
    const limit = 1_000;
    const amount = 70;
    const results = await Promise.allSettled(
      Array.from({ length: 50 }, () =>
        guard.reserve('caller:p:u', { tokensPerMinute: limit, tokensPerDay: 100_000 }, amount),
      ),
    );
    const granted = results.filter((r) => r.status === 'fulfilled').length;
    const used = await store.used('caller:p:u:minute', MINUTE);
    expect(used).toBe(granted * amount);
    expect(used).toBeLessThanOrEqual(limit + amount);
    expect(granted).toBe(Math.floor(limit / amount));
    expect(await store.used('caller:p:u:day', DAY)).toBe(used);
    for (const r of results)
      if (r.status === 'rejected') expect((r.reason as GatewayError).code).toBe('GW_ERR_QUOTA_EXCEEDED');
  });

  it('answers retryAfterMs to the next minute when the minute budget is spent', async () => {
    const clock = new FakeClock(MINUTE + 20_000);
    const guard = createQuotaGuard({ store: new MemoryQuotaStore(), clock });
    await guard.reserve('s', { tokensPerMinute: 100 }, 100);
    const error = await guard.reserve('s', { tokensPerMinute: 100 }, 1).catch((e: unknown) => e as GatewayError);
    expect(error).toMatchObject({ code: 'GW_ERR_QUOTA_EXCEEDED', status: 429, retryAfterMs: 40_000 });
    clock.advance(40_000);
    await expect(guard.reserve('s', { tokensPerMinute: 100 }, 100)).resolves.toBeDefined();
  });

  it('answers retryAfterMs to the next UTC day when the day budget is spent, and gives the minute back', async () => {
    const clock = new FakeClock(DAY + 3_600_000);
    const store = new MemoryQuotaStore();
    const guard = createQuotaGuard({ store, clock });
    await guard.reserve('s', { tokensPerMinute: 1_000, tokensPerDay: 150 }, 100);
    const error = await guard
      .reserve('s', { tokensPerMinute: 1_000, tokensPerDay: 150 }, 100)
      .catch((e: unknown) => e as GatewayError);
    expect(error).toMatchObject({ code: 'GW_ERR_QUOTA_EXCEEDED', retryAfterMs: 86_400_000 - 3_600_000 });
    expect(await store.used('s:minute', DAY + 3_600_000)).toBe(100);
  });

  it('settles to the metered usage and returns the difference; later calls are no-ops', async () => {
    const store = new MemoryQuotaStore();
    const guard = createQuotaGuard({ store, clock: new FakeClock(MINUTE) });
    const held = await guard.reserve('s', { tokensPerMinute: 10_000 }, 500);
    expect(await held.settle(620)).toBe(120);
    expect(await store.used('s:minute', MINUTE)).toBe(620);
    expect(await held.settle(1)).toBe(0);
    await held.release();
    expect(await store.used('s:minute', MINUTE)).toBe(620);
  });

  it('settles into the window it reserved from, even after the minute rolled over', async () => {
    const store = new MemoryQuotaStore();
    const clock = new FakeClock(MINUTE + 59_000);
    const guard = createQuotaGuard({ store, clock });
    const held = await guard.reserve('s', { tokensPerMinute: 10_000 }, 500);
    clock.advance(5_000);
    await held.settle(300);
    expect(await store.used('s:minute', MINUTE)).toBe(300);
    expect(await store.used('s:minute', MINUTE + 60_000)).toBe(0);
  });

  it('releases the whole reservation when the call fails', async () => {
    const store = new MemoryQuotaStore();
    const guard = createQuotaGuard({ store, clock: new FakeClock(MINUTE) });
    const held = await guard.reserve('s', { tokensPerMinute: 100, tokensPerDay: 100 }, 100);
    await held.release();
    expect(await store.used('s:minute', MINUTE)).toBe(0);
    expect(await store.used('s:day', DAY)).toBe(0);
  });
});
