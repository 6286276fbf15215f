import { describe, expect, it } from 'vitest';
import { AttemptBudget, backoffDelayMs } from './backoff.js';

const backoff = { baseDelayMs: 100, maxDelayMs: 1_000 };

describe('backoffDelayMs', () => {
  it.each<[number, number, number]>([
    [0, 0.5, 50],
    [1, 0.5, 100],
    [2, 0.5, 200],
    [3, 0.999, 799],
    [4, 0.5, 500],
    [10, 0.5, 500],
    [1_000, 0.5, 500],
    [0, 0, 0],
    [2, 1, 400],
    [2, 7, 400],
    [2, -1, 0],
  ])('retry %d with random %d → %d ms', (retry, r, expected) => {
    expect(backoffDelayMs(retry, backoff, () => r)).toBe(expected);
  });
});

describe('AttemptBudget', () => {
  const options = { ...backoff, maxAttempts: 3, totalBudgetMs: 10_000 };

  it('allows maxAttempts attempts', () => {
    const budget = new AttemptBudget(options, 0);
    let n = 0;
    while (budget.canAttempt(0) && n < 100) {
      budget.recordAttempt();
      n++;
    }
    expect(n).toBe(3);
    expect(budget.attempts).toBe(3);
  });

  it('stops when the time budget is spent', () => {
    const budget = new AttemptBudget(options, 1_000);
    expect(budget.canAttempt(10_999)).toBe(true);
    expect(budget.canAttempt(11_000)).toBe(false);
    expect(budget.remainingMs(10_000)).toBe(1_000);
    expect(budget.remainingMs(20_000)).toBe(0);
  });

  it('grows the delay with the attempts made and cuts it to the time left', () => {
    const budget = new AttemptBudget({ ...options, maxAttempts: 10 }, 0);
    expect(budget.nextDelayMs(() => 0.99)).toBe(0);
    const delays: number[] = [];
    for (let i = 0; i < 5; i++) {
      budget.recordAttempt();
      delays.push(budget.nextDelayMs(() => 0.5));
    }
    expect(delays).toEqual([50, 100, 200, 400, 500]);
    expect(budget.nextDelayMs(() => 0.5, 9_800)).toBe(200);
  });
});
