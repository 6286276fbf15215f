import OpenAI from 'openai';
import { setTimeout as wait } from 'node:timers/promises';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openaiClient, primaryAndStandby, recordOf, resetSims } from '../support/e2e-gateway.js';
import { startHarness, type Harness } from '../support/gateway-harness.js';

/**
 * The simulator, the gateway and the client share this process: on a loaded machine a starved process can see
 * a real gap of a few hundred ms in the backend's stream, which is the deadline doing its job. A second keeps
 * the test about the caller's pace, not the machine's load.
 */
const IDLE_MS = 1_000;
/** Enough streamed bytes (about 200 per token) to fill every socket buffer between the gateway and the caller. */
const TOKENS = 40_000;

/**
 * A caller that reads slower than the idle deadline, in front of a healthy backend that streams as fast as it
 * can: the gateway ends up waiting for the caller's socket to drain, which is not the backend's silence. The
 * real `openai` client stops pulling for three idle deadlines after its first chunk (the caller's own pace, not
 * a synchronisation), then reads the rest. Neither the relay (recovery off) nor the recovering stream (recovery
 * on) may cut the stream as stalled, and with recovery on no second backend is asked. (With recovery on this once
 * failed about one run in five, a stall far into the stream: the recovering stream relayed each event as its own
 * write, so a backlog of ~10,000 buffered events blocked the shared event loop for over a second, and the idle
 * deadline, confirmed after one turn of I/O, fired before the simulator's next bytes, one turn away, were read —
 * ADR 0048.)
 */
/** Backend `a` first (its own group), `b` behind it; the route's stream recovery as given. */
function configWith(streamRecovery: 'auto' | 'off') {
  return (urls: Record<string, string>) =>
    primaryAndStandby(urls, { streamRecovery }, { resilience: { deadlines: { idleMs: IDLE_MS } } });
}

describe.each(['off', 'auto'] as const)('a caller reading slower than the idle deadline, recovery %s', (recovery) => {
  let h: Harness;
  let client: OpenAI;

  beforeAll(async () => {
    h = await startHarness({ simulators: { a: {}, b: {} }, config: configWith(recovery) });
    client = openaiClient(h);
  });
  afterAll(async () => h.close());
  beforeEach(() => resetSims(h));

  async function slowRead(model: string): Promise<{ chunks: number; finishes: string[]; requestId: string | null }> {
    const { data, response } = await client.chat.completions
      .create(
        { model, messages: [{ role: 'user', content: 'Write a lot.' }], stream: true },
        { headers: { 'x-sim-fault': `tokens=${TOKENS}` } },
      )
      .withResponse();
    let chunks = 0;
    const finishes: string[] = [];
    for await (const chunk of data) {
      if (chunks++ === 0) await wait(3 * IDLE_MS);
      const finish = chunk.choices[0]?.finish_reason;
      if (finish) finishes.push(finish);
    }
    return { chunks, finishes, requestId: response.headers.get('x-gateway-request-id') };
  }

  it('gets the whole answer from the first backend: the stream is not cut as stalled', async () => {
    const seen = await slowRead('gpt-4o-mini');
    expect(seen.finishes).toEqual(['stop']);
    expect(seen.chunks).toBeGreaterThanOrEqual(TOKENS);
    const record = await recordOf(h, seen.requestId);
    expect(record.outcome).toBe('complete');
    expect(record.attempts.items.map((a) => [a.backend, a.outcome])).toEqual([['a', 'success']]);
    expect(record.recovery).toBeNull();
    expect(h.sims.b!.attempts()).toHaveLength(0);
  });
});
