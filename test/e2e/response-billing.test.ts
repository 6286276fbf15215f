import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemoryQuotaStore } from '../../shared/adapters/memory/memory-quota-store.js';
import { hashApiKey } from '../../shared/core/governance/hash-api-key.js';
import type { UsageRecord } from '../../shared/core/usage/usage-record.js';
import type { QuotaReserveResult, QuotaStore } from '../../shared/ports/quota-store.js';
import { defaultConfig, postJson, startHarness, type Harness } from '../support/gateway-harness.js';

const KEY = 'alice-key-0123456789';

/** A quota store that remembers the day windows it was asked about, to read what they hold. */
class DayQuota implements QuotaStore {
  private readonly inner = new MemoryQuotaStore();
  private readonly days = new Set<string>();
  async reserve(key: string, windowStartMs: number, amount: number, limit: number): Promise<QuotaReserveResult> {
    if (key.endsWith(':day')) this.days.add(`${key}\n${windowStartMs}`);
    return this.inner.reserve(key, windowStartMs, amount, limit);
  }
  adjust(key: string, windowStartMs: number, delta: number): Promise<number> {
    return this.inner.adjust(key, windowStartMs, delta);
  }
  used(key: string, windowStartMs: number): Promise<number> {
    return this.inner.used(key, windowStartMs);
  }
  /** Tokens charged today over every subject. */
  async chargedToday(): Promise<number> {
    let total = 0;
    for (const day of this.days) {
      const [key, start] = day.split('\n');
      total += await this.inner.used(key!, Number(start));
    }
    return total;
  }
}

/** Issue 13 item 8: a Responses API response is billed once — its creation or its completion — never its reads. */
describe('billing of Responses API responses', () => {
  let h: Harness;
  let simNowMs = 1_700_000_000_000;
  let quota: DayQuota;
  const headers = { 'api-key': KEY };
  beforeEach(async () => {
    quota = new DayQuota();
    h = await startHarness({
      simulators: { a: { now: () => simNowMs } },
      runtime: { quotaStore: quota },
      config: (urls) =>
        defaultConfig(urls, {
          governance: {
            identity: { apiKeys: { enabled: true, keys: [{ id: 'alice', sha256: hashApiKey(KEY), profile: 'p' }] } },
            profiles: [{ id: 'p', quotas: { tokensPerDay: 10_000_000 } }],
          },
        }),
    });
  });
  afterEach(async () => h.close());

  /** Waits until `n` calls have ended, and answers the ledger's records. */
  async function records(n: number): Promise<UsageRecord[]> {
    while (h.calls.length < n) await h.nextCall();
    await h.runtime.ledger.flush();
    const out: UsageRecord[] = [];
    for await (const r of h.runtime.ledger.query({ fromMs: 0, toMs: Number.MAX_SAFE_INTEGER })) out.push(r);
    expect(out).toHaveLength(n);
    return out;
  }
  const poll = async (id: string) => {
    const response = await fetch(`${h.url}/v1/responses/${id}`, { headers });
    expect(response.status).toBe(200);
    return (await response.json()) as { status: string; usage: { total_tokens: number } | null };
  };
  const tokens = (rs: UsageRecord[]) => rs.reduce((sum, r) => sum + r.tokens.totalTokens, 0);

  it('bills a background response once, at its completion, however often it is polled', async () => {
    const created = await postJson(
      `${h.url}/v1/responses`,
      { model: 'gpt-4.1#latency-ms=5000', input: 'a long question', background: true },
      headers,
    );
    expect(created.status).toBe(200);
    const { id, status } = (await created.json()) as { id: string; status: string };
    expect(status).toBe('queued');
    expect((await poll(id)).status).toBe('in_progress');
    simNowMs += 5_000;
    const polls = [await poll(id), await poll(id), await poll(id)];
    expect(polls.map((p) => p.status)).toEqual(['completed', 'completed', 'completed']);
    const total = polls[0]!.usage!.total_tokens;
    expect(total).toBeGreaterThan(0);

    const all = await records(5);
    expect(tokens(all)).toBe(total);
    expect(all.filter((r) => r.tokens.totalTokens > 0)).toHaveLength(1);
    expect(await quota.chargedToday()).toBe(total);
  });

  it('bills a response at its creation, and its reads nothing', async () => {
    const created = await postJson(`${h.url}/v1/responses`, { model: 'gpt-4.1', input: 'hello' }, headers);
    const { id, usage } = (await created.json()) as { id: string; usage: { total_tokens: number } };
    for (let i = 0; i < 3; i++) expect((await poll(id)).usage?.total_tokens).toBe(usage.total_tokens);
    const all = await records(4);
    expect(tokens(all)).toBe(usage.total_tokens);
    expect(await quota.chargedToday()).toBe(usage.total_tokens);
  });
});
