import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postJson, startHarness, type Harness } from '../support/gateway-harness.js';

/**
 * Requeue keeps its word (docs/resilience.md §2): a call whose every eligible backend cools gives its lease
 * back while it waits, and a call waiting for capacity takes the slot meanwhile. Pool `main` holds `a` and `b`
 * (one concurrent call each). The first call meets a fast 504 on `a` (not tried again in this call) and
 * `S7PREQUEUE` with a Retry-After on `b`: nothing is left for it but to wait for `b`. Holding its lease, it
 * would keep the second call (for which `a` is fine) queued until it ended.
 */
describe('a call waiting for a cooling backend', () => {
  let h: Harness;
  const COOLING_MS = 2_500;

  beforeAll(async () => {
    h = await startHarness({
      simulators: { a: { faults: ['504;once'] }, b: { faults: [`requeue;retry-after-ms=${COOLING_MS};once`] } },
      config: (urls) => ({
        backends: ['a', 'b'].map((id) => ({ id, url: urls[id]!, kind: 'openai' as const, maxConcurrency: 1 })),
        pools: [{ id: 'main', backends: ['a', 'b'] }],
        routes: [{ id: 'all', match: { models: ['*'] }, pool: 'main' }],
        governance: { identity: { anonymous: { allowed: true } } },
      }),
    });
  });
  afterAll(async () => h.close());

  it('gives its lease back, so another waiting call is served meanwhile, then queues again and is served', async () => {
    const body = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] };
    const first = postJson(`${h.url}/v1/chat/completions`, body);
    // Both backends have refused the first call: it waits for b's Retry-After now.
    await Promise.all([h.sims.a!.waitForAttempts(1), h.sims.b!.waitForAttempts(1)]);
    const second = await postJson(`${h.url}/v1/chat/completions`, body);
    expect(second.status).toBe(200);
    expect(second.headers.get('x-gateway-backend')).toBe('a');
    const answer = await first;
    expect(answer.status).toBe(200);
    expect(answer.headers.get('x-gateway-backend')).toBe('b');

    const calls = h.calls.filter((c) => c.status === 200);
    const requeued = calls.find((c) => c.attempts.length === 3)!;
    expect(requeued.requeues).toBe(1);
    expect(requeued.attempts.map((a) => a.status).sort()).toEqual([200, 429, 504]);
    expect(requeued.attempts.at(-1)).toMatchObject({ backend: 'b', status: 200, outcome: 'served' });
    // The second call was granted the slot before the first call's last attempt began (one clock: the gateway's
    // and the simulators' are both the system clock) — holding its lease, the first call would have kept it
    // queued until it ended. An order of events, not a time bound: a slow machine cannot fail it.
    const other = calls.find((c) => c !== requeued)!;
    expect(other.attempts.map((a) => [a.backend, a.status])).toEqual([['a', 200]]);
    expect(other.requeues).toBeUndefined();
    const retried = h.sims.b!.attempts();
    expect(retried.map((a) => a.status)).toEqual([429, 200]);
    expect(other.lease!.grantedAtMs).toBeLessThan(retried[1]!.timeMs);
  });
});
