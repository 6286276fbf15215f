import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../core/test-support/fake-clock.js';
import { createUsageRecord, type UsageRecord } from '../core/usage/usage-record.js';
import { finaliseUsageReading } from '../core/usage/usage-reading.js';
import type { UsageLedger } from './usage-ledger.js';

/** What a contract factory returns: a fresh, empty ledger and, for durable adapters, a way to reopen it. */
export interface UsageLedgerFixture {
  ledger: UsageLedger;
  /** Closes nothing; opens a second ledger over the same storage (durable adapters only). */
  reopen?: () => Promise<UsageLedger>;
  /** Removes the storage. */
  dispose?: () => Promise<void>;
}

const T0 = Date.UTC(2026, 10, 1);
const HOUR_MS = 3_600_000;

function record(i: number, userId: string, atMs: number): UsageRecord {
  return createUsageRecord(
    {
      requestId: `req-${i}`,
      timestampMs: atMs,
      caller: { userId, appId: 'app-1', profileId: 'p1', tier: i % 2 === 0 ? 'gold' : 'bronze' },
      priority: 1 + (i % 3),
      route: 'chat',
      api: 'openai-chat',
      stream: i % 2 === 0,
      modelRequested: 'gpt-4o',
      backend: { name: `b${i % 2}`, group: i % 2 === 0 ? 'ptu' : 'payg' },
      attempts: [{ backend: `b${i % 2}`, group: 'ptu', status: 200, durationMs: 120 + i, outcome: 'success' }],
      httpStatus: 200,
      outcome: 'complete',
      timings: { queueWaitMs: 3, ttfbMs: 80, totalMs: 400, overheadMs: 2 },
      tokens: finaliseUsageReading(
        { promptTokens: 100 + i, completionTokens: 10 + i, totalTokens: 110 + 2 * i, cachedInputTokens: 50 },
        'gpt-4o-2024-08-06',
      ),
      asyncJobId: i === 3 ? 'job-3' : null,
    },
    new FakeClock(atMs),
  );
}

async function collect(iterable: AsyncIterable<UsageRecord>): Promise<UsageRecord[]> {
  const out: UsageRecord[] = [];
  for await (const r of iterable) out.push(r);
  return out;
}

/**
 * The behavioural contract of {@link UsageLedger}. Call it from each adapter's test file.
 *
 * @example
 * describeUsageLedgerContract('MemoryUsageLedger', async () => ({ ledger: createMemoryUsageLedger() }));
 */
export function describeUsageLedgerContract(name: string, factory: () => Promise<UsageLedgerFixture>): void {
  describe(`UsageLedger contract: ${name}`, () => {
    const open: UsageLedgerFixture[] = [];
    const fresh = async (): Promise<UsageLedgerFixture> => {
      const f = await factory();
      open.push(f);
      return f;
    };
    afterEach(async () => {
      for (const f of open.splice(0)) {
        await f.ledger.close();
        await f.dispose?.();
      }
    });

    it('yields nothing from an empty ledger', async () => {
      const { ledger } = await fresh();
      expect(await collect(ledger.query({ fromMs: 0, toMs: Number.MAX_SAFE_INTEGER }))).toEqual([]);
    });

    it('returns appended records unchanged, in append order, before any flush', async () => {
      const { ledger } = await fresh();
      const records = [0, 1, 2, 3].map((i) => record(i, 'alice', T0 + i * HOUR_MS));
      for (const r of records) await ledger.append(r);
      expect(await collect(ledger.query({ fromMs: T0, toMs: T0 + 24 * HOUR_MS }))).toEqual(records);
    });

    it('filters by the half-open time range [fromMs, toMs)', async () => {
      const { ledger } = await fresh();
      for (let i = 0; i < 5; i++) await ledger.append(record(i, 'alice', T0 + i * HOUR_MS));
      const got = await collect(ledger.query({ fromMs: T0 + HOUR_MS, toMs: T0 + 3 * HOUR_MS }));
      expect(got.map((r) => r.requestId)).toEqual(['req-1', 'req-2']);
    });

    it('filters by user id', async () => {
      const { ledger } = await fresh();
      for (let i = 0; i < 6; i++) await ledger.append(record(i, i % 3 === 0 ? 'bob' : 'alice', T0 + i));
      const got = await collect(ledger.query({ fromMs: T0, toMs: T0 + HOUR_MS, userId: 'bob' }));
      expect(got.map((r) => r.requestId)).toEqual(['req-0', 'req-3']);
    });

    it('keeps every record of many concurrent appends', async () => {
      const { ledger } = await fresh();
      await Promise.all(Array.from({ length: 300 }, (_, i) => ledger.append(record(i, 'carol', T0 + i))));
      await ledger.flush();
      const got = await collect(ledger.query({ fromMs: T0, toMs: T0 + HOUR_MS }));
      expect(got).toHaveLength(300);
      expect(new Set(got.map((r) => r.requestId)).size).toBe(300);
    });

    it('rejects appends after close, and close is idempotent', async () => {
      const { ledger } = await fresh();
      await ledger.append(record(1, 'alice', T0));
      await ledger.close();
      await ledger.close();
      await expect(ledger.append(record(2, 'alice', T0))).rejects.toThrow();
    });

    it('keeps flushed records across a reopen (durable adapters)', async (ctx) => {
      const fixture = await fresh();
      if (fixture.reopen === undefined) {
        ctx.skip();
        return;
      }
      const records = [0, 1, 2].map((i) => record(i, 'dave', T0 + i));
      for (const r of records) await fixture.ledger.append(r);
      await fixture.ledger.flush();
      const second = await fixture.reopen();
      try {
        expect(await collect(second.query({ fromMs: T0, toMs: T0 + HOUR_MS }))).toEqual(records);
      } finally {
        await second.close();
      }
    });
  });
}
