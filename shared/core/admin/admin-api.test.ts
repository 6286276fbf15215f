import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../config/load-config.js';
import type { UsageQuery } from '../../ports/usage-ledger.js';
import { FakeClock } from '../test-support/fake-clock.js';
import type { BackendHealthView } from '../resilience/health-tracker.js';
import type { SchedulerStats } from '../scheduling/scheduler-types.js';
import { createUsageRecord, type UsageRecord } from '../usage/usage-record.js';
import { emptyUsageReading } from '../usage/usage-reading.js';
import { gatewayRequest, readText } from '../pipeline/test-support/pipeline-fixtures.js';
import { ADMIN_BASE_PATH, createAdminApi, isAdminPath } from './admin-api.js';

const clock = new FakeClock(Date.parse('2026-03-10T12:00:00Z'));
const result = validateConfig({
  backends: [
    { id: 'a', url: 'http://a.test', kind: 'openai', group: 'ptu' },
    { id: 'b', url: 'http://b.test', kind: 'openai' },
  ],
  pools: [{ id: 'p', backends: ['a', 'b'] }],
  routes: [{ id: 'r', match: { models: ['*'] }, pool: 'p' }],
  usage: { prices: { 'gpt-4o': { inputPer1k: 1, outputPer1k: 2 } } },
});
if (!result.ok) throw new Error(result.issues.join('\n'));
const config = result.config;

function record(userId: string, model: string, tokens: number, timestampMs = clock.now() - 1_000): UsageRecord {
  return createUsageRecord(
    {
      requestId: `${userId}-${timestampMs}`,
      timestampMs,
      caller: { userId },
      modelRequested: model,
      httpStatus: 200,
      outcome: 'complete',
      tokens: { ...emptyUsageReading(model), promptTokens: tokens, completionTokens: tokens, totalTokens: 2 * tokens },
    },
    clock,
  );
}

/** A ledger that generates its records as they are read, and remembers the queries. */
function generatedLedger(records: () => Iterable<UsageRecord>) {
  const queries: UsageQuery[] = [];
  return {
    queries,
    async *query(q: UsageQuery): AsyncIterable<UsageRecord> {
      queries.push(q);
      for (const r of records())
        if (
          r.timestampMs >= q.fromMs &&
          r.timestampMs < q.toMs &&
          (q.userId === undefined || r.caller.userId === q.userId)
        )
          yield r;
    },
  };
}

function api(ledger = generatedLedger(() => [])) {
  return createAdminApi({
    config: () => config,
    health: { snapshot: (id) => ({ backendId: id, state: 'closed', usable: true }) as BackendHealthView },
    gate: { stats: () => ({ pools: [], totals: { granted: 3 } }) as unknown as SchedulerStats },
    ledger,
    clock,
  });
}
const get = (path: string) => gatewayRequest({ method: 'GET', path: `${ADMIN_BASE_PATH}${path}` });

describe('the admin API', () => {
  it('is mounted at one base path', () => {
    expect(isAdminPath(ADMIN_BASE_PATH)).toBe(true);
    expect(isAdminPath(`${ADMIN_BASE_PATH}/status`)).toBe(true);
    expect(isAdminPath(`${ADMIN_BASE_PATH}istrator`)).toBe(false);
    expect(isAdminPath('/v1/chat/completions')).toBe(false);
  });

  it('shows every backend with its health, and the scheduler', async () => {
    const answer = await api().handle(get('/status'), { requestId: 'r1' });
    expect(answer.status).toBe(200);
    expect(answer.headers.get('x-gateway-request-id')).toBe('r1');
    expect(JSON.parse(await readText(answer.body))).toEqual({
      backends: [
        { id: 'a', group: 'ptu', backendId: 'a', state: 'closed', usable: true },
        { id: 'b', group: 'default', backendId: 'b', state: 'closed', usable: true },
      ],
      scheduler: { pools: [], totals: { granted: 3 } },
    });
  });

  it('answers chargeback rows for a range (to exclusive), grouped and priced, from the ledger stream', async () => {
    const ledger = generatedLedger(() => [
      record('alice', 'gpt-4o', 100),
      record('alice', 'gpt-4o', 50),
      record('bob', 'other-model', 10),
      record('carol', 'gpt-4o', 1, Date.parse('2026-03-01T00:00:00Z')),
    ]);
    const answer = await api(ledger).handle(get('/usage?by=user&from=2026-03-10&to=2026-03-11'), { requestId: 'r' });
    expect(answer.headers.get('content-type')).toBe('application/json');
    const body = JSON.parse(await readText(answer.body)) as { rows: Record<string, unknown>[] };
    expect(body).toMatchObject({
      from: '2026-03-10T00:00:00.000Z',
      to: '2026-03-11T00:00:00.000Z',
      by: 'user',
      currency: 'USD',
    });
    expect(body.rows.map((r) => [r.key, r.requests, r.totalTokens, r.cost, r.unpricedRequests])).toEqual([
      ['alice', 2, 300, 0.45, 0],
      ['bob', 1, 20, null, 1],
    ]);
    expect(ledger.queries).toEqual([
      { fromMs: Date.parse('2026-03-10'), toMs: Date.parse('2026-03-11'), userId: undefined },
    ]);
  });

  it('defaults to the last 24 hours by user, and filters by user', async () => {
    const ledger = generatedLedger(() => [record('alice', 'gpt-4o', 1), record('bob', 'gpt-4o', 1)]);
    const answer = await api(ledger).handle(get('/usage?user=bob'), { requestId: 'r' });
    const body = JSON.parse(await readText(answer.body)) as { by: string; rows: { key: string }[] };
    expect(body.by).toBe('user');
    expect(body.rows.map((r) => r.key)).toEqual(['bob']);
    expect(ledger.queries[0]).toEqual({ fromMs: clock.now() - 86_400_000, toMs: clock.now(), userId: 'bob' });
  });

  it('aggregates a large range without holding its records, and sends the rows in pieces', async () => {
    let made = 0;
    const ledger = generatedLedger(function* () {
      for (let i = 0; i < 20_000; i++) {
        made++;
        yield record(`user-${i % 2_000}`, 'gpt-4o', 1);
      }
    });
    const answer = await api(ledger).handle(get('/usage'), { requestId: 'r' });
    expect(made).toBe(20_000);
    const chunks: Uint8Array[] = [];
    for await (const chunk of answer.body!) chunks.push(chunk);
    expect(chunks.length).toBeGreaterThan(1);
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { rows: { requests: number }[] };
    expect(body.rows).toHaveLength(2_000);
    expect(body.rows.every((r) => r.requests === 10)).toBe(true);
  });

  it.each([
    ['/usage?by=colour', 400, 'GW_ERR_REQUEST_INVALID_QUERY'],
    ['/usage?from=yesterday', 400, 'GW_ERR_REQUEST_INVALID_QUERY'],
    ['/nothing', 404, 'GW_ERR_REQUEST_ROUTE_NOT_FOUND'],
    ['', 404, 'GW_ERR_REQUEST_ROUTE_NOT_FOUND'],
  ])('refuses %s with %i', async (path, status, code) => {
    await expect(api().handle(get(path), { requestId: 'r' })).rejects.toMatchObject({ status, code });
  });

  it('serves only GET', async () => {
    const post = gatewayRequest({ method: 'POST', path: `${ADMIN_BASE_PATH}/status`, body: '{}' });
    await expect(api().handle(post, { requestId: 'r' })).rejects.toMatchObject({ status: 404 });
  });
});
