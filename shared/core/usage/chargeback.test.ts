import { describe, expect, it } from 'vitest';
import { FakeClock } from '../test-support/fake-clock.js';
import { aggregateUsage, findModelPrice } from './chargeback.js';
import { renderChargebackTable } from './chargeback-table.js';
import { createUsageRecord, type UsageRecordInput } from './usage-record.js';
import { emptyUsageReading, finaliseUsageReading } from './usage-reading.js';

const clock = new FakeClock(Date.UTC(2026, 10, 3));
const PRICES = {
  'gpt-4o': { inputPer1k: 0.0025, cachedInputPer1k: 0.00125, outputPer1k: 0.01 },
  'gpt-4o-mini': { inputPer1k: 0.00015, cachedInputPer1k: 0.000075, outputPer1k: 0.0006 },
};

function rec(id: string, over: Partial<UsageRecordInput>): ReturnType<typeof createUsageRecord> {
  return createUsageRecord({ requestId: id, httpStatus: 200, outcome: 'complete', ...over }, clock);
}

// The worked example of docs/usage.md.
const records = [
  rec('r1', {
    caller: { userId: 'alice', tier: 'interactive' },
    backend: { name: 'aoai-ptu-east', group: 'ptu' },
    tokens: finaliseUsageReading(
      { promptTokens: 12_000, completionTokens: 800, totalTokens: 12_800, cachedInputTokens: 8_000 },
      'gpt-4o-2024-08-06',
    ),
  }),
  rec('r2', {
    caller: { userId: 'alice', tier: 'interactive' },
    backend: { name: 'aoai-payg-west', group: 'payg' },
    tokens: finaliseUsageReading(
      { promptTokens: 2_000, completionTokens: 1_000, totalTokens: 3_000 },
      'gpt-4o-mini-2024-07-18',
    ),
  }),
  rec('r3', {
    caller: { userId: 'bob', tier: 'batch' },
    outcome: 'cut',
    backend: { name: 'aoai-payg-west', group: 'payg' },
    tokens: finaliseUsageReading({}, 'gpt-4o-2024-08-06', { promptTokens: 500, completionTokens: 300 }),
  }),
  rec('r4', {
    caller: { userId: 'bob', tier: 'batch' },
    httpStatus: 429,
    outcome: 'rejected',
    tokens: emptyUsageReading(),
  }),
];

describe('aggregateUsage', () => {
  it('sums tokens and prices by user (docs/usage.md worked example)', () => {
    const rows = aggregateUsage(records, { by: 'user', prices: PRICES });
    // alice: r1 = (4000*0.0025 + 8000*0.00125 + 800*0.01)/1000 = 0.028; r2 = (2000*0.00015 + 1000*0.0006)/1000 = 0.0009
    // bob:   r3 = (500*0.0025 + 300*0.01)/1000 = 0.00425 (estimated); r4 rejected, no tokens
    expect(rows).toEqual([
      {
        key: 'alice',
        requests: 2,
        promptTokens: 14_000,
        cachedInputTokens: 8_000,
        cacheCreationTokens: 0,
        completionTokens: 1_800,
        reasoningTokens: 0,
        totalTokens: 15_800,
        estimatedRequests: 0,
        unpricedRequests: 0,
        cost: 0.0289,
      },
      {
        key: 'bob',
        requests: 2,
        promptTokens: 500,
        cachedInputTokens: 0,
        cacheCreationTokens: 0,
        completionTokens: 300,
        reasoningTokens: 0,
        totalTokens: 800,
        estimatedRequests: 1,
        unpricedRequests: 0,
        cost: 0.00425,
      },
    ]);
  });

  it('groups by model, tier, backend and group, with (none) for missing keys', () => {
    expect(aggregateUsage(records, { by: 'model' }).map((r) => [r.key, r.requests])).toEqual([
      ['(none)', 1],
      ['gpt-4o-2024-08-06', 2],
      ['gpt-4o-mini-2024-07-18', 1],
    ]);
    expect(aggregateUsage(records, { by: 'group' }).map((r) => [r.key, r.totalTokens])).toEqual([
      ['(none)', 0],
      ['payg', 3_800],
      ['ptu', 12_800],
    ]);
    expect(aggregateUsage(records, { by: 'tier' }).map((r) => r.key)).toEqual(['batch', 'interactive']);
    expect(aggregateUsage(records, { by: 'backend' })[0]).not.toHaveProperty('cost');
  });

  it('counts unpriced models apart instead of costing them 0 silently', () => {
    const rows = aggregateUsage(records, { by: 'user', prices: { 'gpt-4o-mini': PRICES['gpt-4o-mini'] } });
    expect(rows[0]).toMatchObject({ key: 'alice', unpricedRequests: 1, cost: 0.0009 });
  });

  it('gives a row with tokens but no priced request a null cost, not 0', () => {
    const rows = aggregateUsage(records, { by: 'user', prices: { 'claude-sonnet-4': PRICES['gpt-4o'] } });
    expect(rows.map((r) => [r.key, r.cost, r.unpricedRequests])).toEqual([
      ['alice', null, 2],
      ['bob', null, 1],
    ]);
  });

  it('prices Anthropic cache writes at cacheWritePer1k', () => {
    const r = rec('a1', {
      tokens: finaliseUsageReading(
        { uncachedInputTokens: 100, cachedInputTokens: 1000, cacheCreationTokens: 2000, completionTokens: 10 },
        'claude-sonnet-4-20250514',
      ),
    });
    const [row] = aggregateUsage([r], {
      by: 'model',
      prices: {
        'claude-sonnet-4': {
          inputPer1k: 0.003,
          cachedInputPer1k: 0.0003,
          cacheWritePer1k: 0.00375,
          outputPer1k: 0.015,
        },
      },
    });
    expect(row?.cost).toBeCloseTo((100 * 0.003 + 1000 * 0.0003 + 2000 * 0.00375 + 10 * 0.015) / 1000, 9);
  });

  it('matches prices exactly, else by the longest dash-prefix', () => {
    expect(findModelPrice(PRICES, 'gpt-4o-mini-2024-07-18')).toBe(PRICES['gpt-4o-mini']);
    expect(findModelPrice(PRICES, 'gpt-4o')).toBe(PRICES['gpt-4o']);
    expect(findModelPrice(PRICES, 'gpt-4ox')).toBeUndefined();
    expect(findModelPrice(PRICES, null)).toBeUndefined();
  });

  it('renders a table with a total line', () => {
    const table = renderChargebackTable(aggregateUsage(records, { by: 'user', prices: PRICES }), 'user', {
      currency: 'USD',
    });
    expect(table.split('\n')).toEqual([
      'user   requests  prompt  cached  completion  total  estimated  cost USD',
      '-----  --------  ------  ------  ----------  -----  ---------  --------',
      'alice         2   14000    8000        1800  15800          0  0.028900',
      'bob           2     500       0         300    800          1  0.004250',
      '-----  --------  ------  ------  ----------  -----  ---------  --------',
      'TOTAL         4   14500    8000        2100  16600          1  0.033150',
    ]);
  });
});
