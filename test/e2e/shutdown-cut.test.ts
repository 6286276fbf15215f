import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_BASE_PATH } from '../../shared/core/admin/admin-api.js';
import { completionText } from '../../simulator/token-count.js';
import { anonymousWithAdmin, openaiClient, primaryAndStandby, recordOf } from '../support/e2e-gateway.js';
import { defaultConfig, postJson, startHarness, type Harness } from '../support/gateway-harness.js';

const ADMIN_KEY = 'shutdown-cut-admin-key';
const GRACE_MS = 200;

/**
 * A stream still open when the shutdown drain's grace period ends is cut by the gateway, not by its backend:
 * the real `openai` client streams a long answer from backend `a` while `b` (able to continue a prefill) stands
 * by; the drain begins after the first chunk. The stream must end with the terminal event naming the shutdown,
 * nothing may be re-dispatched to `b`, the record must say why, and `a` must not be blamed.
 */
describe('a recoverable stream cut by the shutdown drain', () => {
  let h: Harness;
  let client: OpenAI;

  beforeAll(async () => {
    h = await startHarness({
      simulators: { a: {}, b: {} },
      config: (urls) =>
        primaryAndStandby(urls, { continuePrefill: true }, { governance: anonymousWithAdmin(ADMIN_KEY) }),
    });
    h.sims.b!.configure({ continuePrefill: true });
    client = openaiClient(h);
  });
  afterAll(async () => h.close());

  it('ends with the shutdown terminal event, is not recovered, records why and blames no backend', async () => {
    // 80 tokens at 10 per second: 8 s, far past the grace period.
    const { data, response } = await client.chat.completions
      .create(
        { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Tell me a long story.' }], stream: true },
        { headers: { 'x-sim-fault': 'tps=10;tokens=80' } },
      )
      .withResponse();
    const ended = h.nextCall();
    let text = '';
    let draining: ReturnType<Harness['runtime']['drain']> | undefined;
    const failure = await (async () => {
      try {
        for await (const chunk of data) {
          text += chunk.choices[0]?.delta.content ?? '';
          draining ??= h.runtime.drain(GRACE_MS);
        }
      } catch (error) {
        return error;
      }
      return undefined;
    })();
    const summary = await ended;

    expect(failure).toBeInstanceOf(OpenAI.APIError);
    expect((failure as InstanceType<typeof OpenAI.APIError>).code).toBe('GW_ERR_SERVICE_SHUTTING_DOWN');
    expect(String((failure as Error).message)).toMatch(/shutting down/);
    expect(completionText(80).startsWith(text) && text.length > 0).toBe(true);
    expect(await draining).toMatchObject({ inFlightAtStart: 1, cut: 1, remaining: 0 });
    // Nothing re-dispatched: b never saw a request, and a's only attempt is a served one.
    expect(h.sims.b!.attempts()).toEqual([]);
    expect(summary.attempts.map((a) => [a.backend, a.outcome])).toEqual([['a', 'served']]);
    const record = await recordOf(h, response.headers.get('x-gateway-request-id'));
    expect([record.outcome, record.cutReason, record.recovered, record.recovery]).toEqual([
      'cut',
      'shutdown',
      false,
      null,
    ]);
    // The status board (still answered while draining) holds nothing against a.
    const live = await fetch(`${h.url}${ADMIN_BASE_PATH}/status/live`, {
      headers: { 'x-gateway-admin-key': ADMIN_KEY },
    });
    const view = (await live.json()) as { backends: { id: string; lastMinute: { errors: number } }[] };
    expect(view.backends.map((b) => [b.id, b.lastMinute.errors])).toEqual([
      ['a', 0],
      ['b', 0],
    ]);
    // A new call is told to go elsewhere.
    const refused = await postJson(`${h.url}/v1/chat/completions`, { model: 'gpt-4o-mini', messages: [] });
    expect([refused.status, refused.headers.get('connection')]).toEqual([503, 'close']);
  });
});

/**
 * A call still dispatching — its backend has not answered the headers yet — when the grace period ends is cut by
 * the gateway too: the caller gets the gateway's 503 `GW_ERR_SERVICE_SHUTTING_DOWN` in the error envelope (with
 * `connection: close`) at once, instead of waiting until the host closes the sockets; the backend is not blamed
 * and the record says the shutdown cut it.
 */
describe('a call still dispatching when the shutdown grace period ends', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness({
      simulators: { a: {} },
      config: (urls) => defaultConfig(urls, { governance: anonymousWithAdmin(ADMIN_KEY) }),
    });
  });
  afterAll(async () => h.close());

  it('gets the 503 shutdown envelope, blames no backend and is recorded as cut by the shutdown', async () => {
    const release = h.sims.a!.hold(); // a takes the request and does not answer until the test is done
    try {
      const ended = h.nextCall();
      const answered = postJson(`${h.url}/v1/chat/completions`, {
        model: 'gpt-4o-mini',
        messages: [{ role: 'user', content: 'hi' }],
      });
      await h.sims.a!.waitForAttempts(1);
      const report = await h.runtime.drain(GRACE_MS);
      const response = await answered;
      const body = (await response.json()) as { error: { code: string } };
      expect([response.status, response.headers.get('connection'), body.error.code]).toEqual([
        503,
        'close',
        'GW_ERR_SERVICE_SHUTTING_DOWN',
      ]);
      expect(report).toMatchObject({ inFlightAtStart: 1, cut: 1, remaining: 0 });
      const summary = await ended;
      expect([summary.outcome, summary.cutReason]).toEqual(['cut', 'shutdown']);
      const record = await (async () => {
        await h.runtime.ledger.flush();
        for await (const r of h.runtime.ledger.query({ fromMs: 0, toMs: Number.MAX_SAFE_INTEGER }))
          if (r.requestId === response.headers.get('x-gateway-request-id')) return r;
        return undefined;
      })();
      expect([record?.httpStatus, record?.outcome, record?.cutReason]).toEqual([503, 'cut', 'shutdown']);
      const live = await fetch(`${h.url}${ADMIN_BASE_PATH}/status/live`, {
        headers: { 'x-gateway-admin-key': ADMIN_KEY },
      });
      const view = (await live.json()) as { backends: { id: string; lastMinute: { errors: number } }[] };
      expect(view.backends.map((b) => [b.id, b.lastMinute.errors])).toEqual([['a', 0]]);
    } finally {
      release();
    }
  });
});
