import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryQuotaStore } from '../../shared/adapters/memory/memory-quota-store.js';
import { hashApiKey } from '../../shared/core/governance/hash-api-key.js';
import type { QuotaReserveResult, QuotaStore } from '../../shared/ports/quota-store.js';
import { defaultConfig, postJson, startHarness, type Harness } from '../support/gateway-harness.js';

/**
 * A quota store that remembers every amount reserved, with one window for the whole file: the windows are the
 * real clock's minutes, and a run crossing a minute boundary between two requests would open an empty window,
 * which admits one request of any size — the refusal below would then depend on when the suite runs.
 */
class RecordingQuotaStore implements QuotaStore {
  static readonly WINDOW_START_MS = 0;
  readonly inner = new MemoryQuotaStore();
  readonly reserved: number[] = [];
  async reserve(key: string, _windowStartMs: number, amount: number, limit: number): Promise<QuotaReserveResult> {
    if (key.endsWith(':minute')) this.reserved.push(amount);
    return this.inner.reserve(key, RecordingQuotaStore.WINDOW_START_MS, amount, limit);
  }
  adjust(key: string, _windowStartMs: number, delta: number): Promise<number> {
    return this.inner.adjust(key, RecordingQuotaStore.WINDOW_START_MS, delta);
  }
  used(key: string, _windowStartMs: number): Promise<number> {
    return this.inner.used(key, RecordingQuotaStore.WINDOW_START_MS);
  }
}

/** Quota reservations are sized by every answer a request asks for, and absurd sizes are refused. */
describe('token quota reservations and the answers a request asks for', () => {
  const KEY = 'sk-gw-choices-0123456789abcdef';
  const messages = [{ role: 'user', content: 'abcd' }];
  const store = new RecordingQuotaStore();
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness({
      simulators: { a: {} },
      runtime: { quotaStore: store },
      config: (urls) =>
        defaultConfig(urls, {
          governance: {
            identity: {
              apiKeys: { enabled: true, keys: [{ id: 'k', sha256: hashApiKey(KEY), profile: 'metered', userId: 'u' }] },
            },
            profiles: [{ id: 'metered', quotas: { tokensPerMinute: 2_000 } }],
          },
        }),
    });
  });
  afterAll(async () => h.close());

  const send = (extra: Record<string, unknown>): Promise<Response> =>
    postJson(`${h.url}/v1/chat/completions`, { model: 'gpt-4o-mini', messages, ...extra }, { 'api-key': KEY });

  it('reserves max_tokens once per answer: n = 8 reserves eight answers', async () => {
    const response = await send({ max_tokens: 50, n: 8 });
    await response.text();
    expect(response.status).toBe(200);
    // 8 × 50 output tokens, plus the prompt estimate (characters / 4) read once.
    expect(store.reserved.at(-1)).toBeGreaterThanOrEqual(8 * 50);
    expect(store.reserved.at(-1)).toBeLessThan(8 * 50 + 50);
  });

  it('refuses a request whose answers do not fit the remaining budget (n = 128 is not one answer)', async () => {
    const before = h.sims.a!.attempts().length;
    const response = await send({ max_tokens: 50, n: 128 });
    const body = (await response.json()) as { error: { code: string } };
    expect({ status: response.status, code: body.error.code }).toEqual({ status: 429, code: 'GW_ERR_QUOTA_EXCEEDED' });
    expect(h.sims.a!.attempts()).toHaveLength(before);
  });

  it.each([
    [{ max_tokens: 1e308 }, 'max_tokens'],
    [{ max_tokens: 10.5 }, 'max_tokens'],
    [{ max_completion_tokens: '100' }, 'max_completion_tokens'],
    [{ n: 2.5 }, 'n'],
    [{ n: 100_000 }, 'n'],
  ])('refuses %j with 400 before reserving or sending anything', async (extra, param) => {
    const reservations = store.reserved.length;
    const before = h.sims.a!.attempts().length;
    const response = await send(extra);
    const body = (await response.json()) as { error: { code: string; param: string } };
    expect({ status: response.status, code: body.error.code, param: body.error.param }).toEqual({
      status: 400,
      code: 'GW_ERR_REQUEST_INVALID_PARAMETER',
      param,
    });
    expect(store.reserved).toHaveLength(reservations);
    expect(h.sims.a!.attempts()).toHaveLength(before);
  });
});
