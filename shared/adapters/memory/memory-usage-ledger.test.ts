import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../core/test-support/fake-clock.js';
import { createUsageRecord } from '../../core/usage/usage-record.js';
import { describeUsageLedgerContract } from '../../ports/usage-ledger.contract.js';
import { createMemoryUsageLedger } from './memory-usage-ledger.js';

describeUsageLedgerContract('MemoryUsageLedger', () => Promise.resolve({ ledger: createMemoryUsageLedger() }));

describe('MemoryUsageLedger', () => {
  it('evicts the oldest records beyond its bound and counts them', async () => {
    const ledger = createMemoryUsageLedger({ maxRecords: 3 });
    const clock = new FakeClock(1_000);
    for (let i = 0; i < 5; i++) {
      await ledger.append(createUsageRecord({ requestId: `r${i}`, httpStatus: 200, outcome: 'complete' }, clock));
      clock.advance(1);
    }
    const ids: string[] = [];
    for await (const r of ledger.query({ fromMs: 0, toMs: 10_000 })) ids.push(r.requestId);
    expect(ids).toEqual(['r2', 'r3', 'r4']);
    expect(ledger.evictedRecords).toBe(2);
    expect(ledger.size).toBe(3);
  });
});
