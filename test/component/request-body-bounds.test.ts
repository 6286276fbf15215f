import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { defaultConfig, postJson, startHarness, type Harness } from '../support/gateway-harness.js';

/** A chat call carrying one base64 image of `imageBytes` bytes, as the `openai` SDK sends a local file. */
function imageChat(imageBytes: number): Record<string, unknown> {
  const image = randomBytes(imageBytes).toString('base64');
  return {
    model: 'gpt-4o-mini',
    messages: [
      {
        role: 'user',
        content: [
          { type: 'text', text: 'What is in this image?' },
          { type: 'image_url', image_url: { url: `data:image/png;base64,${image}` } },
        ],
      },
    ],
  };
}

interface Envelope {
  readonly error: { readonly code: string; readonly message: string; readonly type: string };
}

describe('request body bounds', () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it('admits a chat call with a 20 MB image, the largest one OpenAI and Azure OpenAI take, by default', async () => {
    h = await startHarness({ simulators: { a: {} } });
    const response = await postJson(`${h.url}/v1/chat/completions`, imageChat(20 * 1024 * 1024));
    expect(response.status).toBe(200);
    await response.arrayBuffer();
    const [attempt] = h.sims.a!.attempts();
    expect(attempt?.path).toBe('/v1/chat/completions');
  });

  it('answers 413 naming the setting that raises the limit', async () => {
    h = await startHarness({
      simulators: { a: {} },
      config: (urls) => defaultConfig(urls, { limits: { maxBodyBytes: 64 * 1024 } }),
    });
    const response = await postJson(`${h.url}/v1/chat/completions`, imageChat(64 * 1024));
    expect(response.status).toBe(413);
    const envelope = (await response.json()) as Envelope;
    expect(envelope.error.code).toBe('GW_ERR_REQUEST_BODY_TOO_LARGE');
    expect(envelope.error.message).toContain('limits.maxBodyBytes');
    expect(envelope.error.message).toContain('GATEWAY_LIMITS__MAX_BODY_BYTES');
    expect(h.sims.a!.attempts()).toHaveLength(0);
  });

  it('refuses with a retryable 503 a body that does not fit in the bytes buffered by calls in flight', async () => {
    h = await startHarness({
      simulators: { a: {} },
      config: (urls) =>
        defaultConfig(urls, {
          limits: { maxBodyBytes: 600 * 1024, maxBufferedBodyBytes: 1024 * 1024 },
          resilience: { deadlines: { firstByteMs: 60_000 } },
        }),
    });
    const body = imageChat(400 * 1024); // ~550 KB of JSON: one fits in 1 MiB, two do not
    // The first call's backend never answers: the call holds its body until its caller leaves.
    const caller = new AbortController();
    const held = fetch(`${h.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-sim-fault': 'hang' },
      body: JSON.stringify(body),
      signal: caller.signal,
    }).catch((error: unknown) => error);
    await h.sims.a!.waitForAttempts(1);

    const refused = await postJson(`${h.url}/v1/chat/completions`, body);
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('1');
    const envelope = (await refused.json()) as Envelope;
    expect(envelope.error.code).toBe('GW_ERR_SERVICE_OVERLOADED');
    expect(envelope.error.message).toContain('limits.maxBufferedBodyBytes');
    expect(h.sims.a!.attempts()).toHaveLength(1);

    // The held call ends (its caller left): its bytes go back and the next call fits again.
    const ended = h.nextCall();
    caller.abort();
    await held;
    await ended;
    const admitted = await postJson(`${h.url}/v1/chat/completions`, body);
    expect(admitted.status).toBe(200);
    await admitted.arrayBuffer();
    expect(h.sims.a!.attempts()).toHaveLength(2);
  });
});
