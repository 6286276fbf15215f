import { FakeClock } from '../../shared/core/test-support/fake-clock.js';
import { createUsageRecord, type UsageRecord } from '../../shared/core/usage/usage-record.js';
import { finaliseUsageReading } from '../../shared/core/usage/usage-reading.js';

/** A completed call's usage record at `timestamp` (ISO), for ledger and chargeback tests. */
export function usageRecordAt(
  timestamp: string,
  over: { user?: string; model?: string; prompt?: number; completion?: number; id?: string } = {},
): UsageRecord {
  const prompt = over.prompt ?? 100;
  const completion = over.completion ?? 10;
  return createUsageRecord(
    {
      requestId: over.id ?? `r-${timestamp}-${over.user ?? 'alice'}`,
      httpStatus: 200,
      outcome: 'complete',
      caller: { userId: over.user ?? 'alice', tier: 'standard' },
      backend: { name: 'sim-a', group: 'ptu' },
      modelRequested: over.model ?? 'gpt-4o',
      tokens: finaliseUsageReading(
        { promptTokens: prompt, completionTokens: completion, totalTokens: prompt + completion },
        over.model ?? 'gpt-4o',
      ),
    },
    new FakeClock(Date.parse(timestamp)),
  );
}

/** The same records as NDJSON lines. */
export function ndjson(records: readonly UsageRecord[]): string {
  return records.map((r) => JSON.stringify(r) + '\n').join('');
}
