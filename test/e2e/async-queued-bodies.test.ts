import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { keyedGovernance } from '../support/e2e-gateway.js';
import { defaultConfig, postJson, startHarness, type Harness } from '../support/gateway-harness.js';

const ALICE = 'alice-key-0123456789';
const BOB = 'bob-key-0123456789';
const CAROL = 'carol-key-0123456789';

/** A chat call of about `bytes` bytes of JSON. */
const chatOf = (bytes: number) => ({
  model: 'gpt-4o-mini',
  messages: [{ role: 'user', content: 'x'.repeat(bytes) }],
});

/** Queued async request bodies are bounded per caller and in total (issue 13, item 18). */
describe('queued async request bodies', () => {
  let h: Harness;

  beforeEach(async () => {
    h = await startHarness({
      simulators: { a: {} },
      config: (urls) =>
        defaultConfig(urls, {
          governance: keyedGovernance({
            keys: { alice: ALICE, bob: BOB, carol: CAROL },
            profile: { id: 'batch', tier: 'batch', async: { allowed: true } },
          }),
          // Two 60 KB jobs fit one caller's bound, three do not; four fit in total, five do not.
          async: {
            syncWaitMs: 0,
            pollIntervalMs: 50,
            workerConcurrency: 100,
            maxQueuedBodyBytesPerCaller: 130_000,
            maxQueuedBodyBytes: 250_000,
          },
        }),
    });
  });
  afterEach(async () => h.close());

  /** Submits an async job whose backend call never ends until the test releases it (the job stays running). */
  const submit = (key: string) =>
    postJson(`${h.url}/v1/chat/completions`, chatOf(60_000), {
      'api-key': key,
      'x-gateway-async': 'true',
      'x-sim-fault': 'hang',
    });

  it('answers 429 past the caller bound and past the total, naming the setting; cancelling frees bytes', async () => {
    expect((await submit(ALICE)).status).toBe(202);
    const second = await submit(ALICE);
    expect(second.status).toBe(202);
    const refused = await submit(ALICE);
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('5');
    const envelope = (await refused.json()) as { error: { code: string; message: string } };
    expect(envelope.error.code).toBe('GW_ERR_ASYNC_BACKLOG_FULL');
    expect(envelope.error.message).toContain('async.maxQueuedBodyBytesPerCaller');

    // Another caller still has room of their own — until the total is reached.
    expect((await submit(BOB)).status).toBe(202);
    expect((await submit(BOB)).status).toBe(202);
    const total = await submit(CAROL);
    expect(total.status).toBe(429);
    expect(((await total.json()) as { error: { message: string } }).error.message).toContain(
      '(async.maxQueuedBodyBytes, GATEWAY_ASYNC__MAX_QUEUED_BODY_BYTES)',
    );
    await h.sims.a!.waitForAttempts(4);

    // Alice cancels one job: its bytes come back, and her next job is accepted.
    const location = second.headers.get('location')!;
    const cancelled = await fetch(`${h.url}${location}`, { method: 'DELETE', headers: { 'api-key': ALICE } });
    expect(cancelled.status).toBe(200);
    expect((await submit(CAROL)).status).toBe(202);
    // Four jobs hold 240 KB again: the next one is past the total.
    expect((await submit(ALICE)).status).toBe(429);
  });
});
