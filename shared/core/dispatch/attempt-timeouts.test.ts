import { describe, expect, it } from 'vitest';
import { effectiveTimeouts } from './attempt-timeouts.js';

const defaults = {
  connectMs: 5_000,
  firstByteMs: 60_000,
  idleMs: 30_000,
  totalMs: 600_000,
  maxTotalMs: 3_600_000,
  defaultTtlMs: 300_000,
  maxTtlMs: 86_400_000,
};

describe('effectiveTimeouts', () => {
  it('takes the route over the backend over the defaults, field by field', () => {
    expect(effectiveTimeouts(defaults, { connectMs: 1_000, idleMs: 9_000 }, { idleMs: 2_000 }, undefined, 1e9)).toEqual(
      {
        connectMs: 1_000,
        firstByteMs: 60_000,
        idleMs: 2_000,
        totalMs: 600_000,
      },
    );
  });

  it("makes the caller's own timeout the total, over the route's", () => {
    expect(effectiveTimeouts(defaults, {}, { totalMs: 90_000 }, 20_000, 1e9).totalMs).toBe(20_000);
  });

  it('cuts the total to the TTL left, and the first-byte deadline to the total', () => {
    expect(effectiveTimeouts(defaults, {}, {}, undefined, 4_000)).toMatchObject({ totalMs: 4_000, firstByteMs: 4_000 });
  });

  it('never gives an attempt less than 1 ms, even with the TTL spent', () => {
    expect(effectiveTimeouts(defaults, {}, {}, undefined, -50)).toMatchObject({ totalMs: 1, firstByteMs: 1 });
  });

  it('leaves the connect and idle deadlines alone when the TTL is short (the total timer bounds the attempt)', () => {
    expect(effectiveTimeouts(defaults, {}, {}, undefined, 100)).toMatchObject({ connectMs: 5_000, idleMs: 30_000 });
  });
});
