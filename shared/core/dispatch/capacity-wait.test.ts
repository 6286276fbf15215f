import { describe, expect, it } from 'vitest';
import { decideCapacityWait, type CapacityWaitFacts } from './capacity-wait.js';

const limits = { maxWaits: 4, maxRetryAfterMs: 60_000 };
const facts: CapacityWaitFacts = { nowMs: 1_000, deadlineMs: 61_000, waitsSoFar: 0, budgetRemainingMs: 120_000 };
const cooling = (inMs: number) => ({ reason: 'all-cooling' as const, retryAtMs: 1_000 + inMs });

describe('decideCapacityWait', () => {
  it('waits for the earliest cooling backend when its Retry-After fits the TTL and the budgets', () => {
    expect(decideCapacityWait(cooling(400), facts, limits)).toEqual({ wait: true, waitMs: 400 });
  });

  it('waits at least 1 ms (a cooling that already ended is never a tight loop)', () => {
    expect(decideCapacityWait(cooling(-5), facts, limits)).toEqual({ wait: true, waitMs: 1 });
  });

  it.each([
    ['the cooling outlasts the TTL', cooling(60_000), facts],
    ['the cooling outlasts the time budget', cooling(5_000), { ...facts, budgetRemainingMs: 5_000 }],
    ['the waits are used up', cooling(400), { ...facts, waitsSoFar: 4 }],
    ['the Retry-After is beyond retryAfter.maxMs', cooling(60_001), { ...facts, deadlineMs: 1e9 }],
  ])('answers 429 throttled with the Retry-After when %s', (_, selection, given) => {
    const retryAfterMs = selection.retryAtMs - given.nowMs;
    expect(decideCapacityWait(selection, given, limits)).toEqual({
      wait: false,
      code: 'GW_ERR_BACKEND_THROTTLED',
      retryAfterMs,
    });
  });

  it('answers 503 all open at once, with the earliest reopen (or 1 s) as Retry-After', () => {
    expect(decideCapacityWait({ reason: 'all-open', retryAtMs: 3_000 }, facts, limits)).toEqual({
      wait: false,
      code: 'GW_ERR_BACKEND_ALL_OPEN',
      retryAfterMs: 2_000,
    });
    expect(decideCapacityWait({ reason: 'all-open' }, facts, limits)).toMatchObject({ retryAfterMs: 1000 });
  });

  it('answers none configured without a Retry-After', () => {
    expect(decideCapacityWait({ reason: 'no-backends' }, facts, limits)).toEqual({
      wait: false,
      code: 'GW_ERR_BACKEND_NONE_CONFIGURED',
      retryAfterMs: undefined,
    });
  });
});
