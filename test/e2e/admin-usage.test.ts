import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashApiKey } from '../../shared/core/governance/hash-api-key.js';
import { defaultConfig, startHarness, type Harness } from '../support/gateway-harness.js';
import { usageRecordAt } from '../support/usage-records.js';

const ADMIN_KEY = 'admin-usage-test-key';
const USAGE = '/gateway/admin/usage';

describe('GET admin usage: the chargeback window', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({
      config: (urls) =>
        defaultConfig(urls, {
          governance: {
            identity: { anonymous: { allowed: true } },
            admin: { keys: [{ id: 'ops', sha256: hashApiKey(ADMIN_KEY) }] },
          },
          usage: { currency: 'EUR', prices: { 'gpt-4o': { inputPer1k: 1, outputPer1k: 1 } } },
        }),
    });
    for (const [at, user] of [
      ['2026-10-31T23:59:59Z', 'october'],
      ['2026-11-01T00:00:00Z', 'first'],
      ['2026-11-30T23:59:59Z', 'last'],
      ['2026-12-01T00:00:00Z', 'december'],
    ] as const)
      await h.runtime.ledger.append(usageRecordAt(at, { user }));
  });
  afterAll(() => h.close());

  const get = (query: string): Promise<Response> =>
    fetch(`${h.url}${USAGE}?${query}`, { headers: { 'x-gateway-admin-key': ADMIN_KEY } });

  it('takes a date-only `to` as exclusive, as the CLI does: a month ends before the next 1st', async () => {
    const res = await get('from=2026-11-01&to=2026-12-01&by=user');
    expect(res.status).toBe(200);
    const body = (await res.json()) as { to: string; currency: string; rows: { key: string; cost: number }[] };
    expect(body.rows.map((r) => r.key)).toEqual(['first', 'last']);
    expect(body.to).toBe('2026-12-01T00:00:00.000Z');
    expect(body.currency).toBe('EUR');
    expect(body.rows[0]?.cost).toBe(0.11);
  });

  it('answers 400 naming the bound for a date that does not exist', async () => {
    const res = await get('from=2026-02-30');
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { param: string; message: string } };
    expect(body.error.param).toBe('from');
    expect(body.error.message).toContain('from must be a UTC date (YYYY-MM-DD)');
    expect(res.headers.get('x-gateway-error-code')).toBe('GW_ERR_REQUEST_INVALID_QUERY');
  });

  it('answers a bad `by` with the query-parameter code, not a header code', async () => {
    const res = await get('by=colour');
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { code: string; param: string; message: string } };
    expect(body.error).toMatchObject({ code: 'GW_ERR_REQUEST_INVALID_QUERY', param: 'by' });
    expect(body.error.message).toContain('by must be one of user');
  });
});
