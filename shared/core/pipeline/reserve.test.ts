import { describe, expect, it } from 'vitest';
import { GatewayError } from '../errors/gateway-error.js';
import type { QuotaReservation } from '../governance/quota-guard.js';
import { reserve } from './reserve.js';
import { admissionOf, jobContext, liveContext } from './test-support/pipeline-fixtures.js';

describe('reserve', () => {
  const reservation: QuotaReservation = {
    reservedTokens: 120,
    settle: async () => 0,
    release: async () => undefined,
  };

  it("reserves a live call's estimate against its profile with the body it sent", async () => {
    const seen: unknown[] = [];
    const admission = admissionOf();
    const answer = await reserve(
      {
        reserveTokens: async (a, body) => {
          seen.push(a, body);
          return reservation;
        },
      },
      liveContext(admission),
      { model: 'gpt-4o', max_tokens: 100 },
    );
    expect(answer).toBe(reservation);
    expect(seen).toEqual([admission, { model: 'gpt-4o', max_tokens: 100 }]);
  });

  it('reserves nothing for a job (it was charged when submitted)', async () => {
    const answer = await reserve(
      { reserveTokens: () => Promise.reject(new Error('must not be called')) },
      jobContext(),
      { model: 'gpt-4o' },
    );
    expect(answer).toBeUndefined();
  });

  it('stops a call over its quota with 429', async () => {
    const exceeded = new GatewayError('GW_ERR_QUOTA_EXCEEDED', { retryAfterMs: 30_000 });
    await expect(reserve({ reserveTokens: () => Promise.reject(exceeded) }, liveContext(), {})).rejects.toBe(exceeded);
  });
});
