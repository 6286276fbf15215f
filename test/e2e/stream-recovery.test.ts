import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { completionText } from '../../simulator/token-count.js';
import { ADMIN_BASE_PATH } from '../../shared/core/admin/admin-api.js';
import { anonymousWithAdmin, openaiClient, primaryAndStandby, recordOf, resetSims } from '../support/e2e-gateway.js';
import { startHarness, type Harness } from '../support/gateway-harness.js';

/**
 * Stream recovery end to end: the real `openai` client streams through the standalone host; backend `a`
 * (tried first: its own priority group) breaks the stream after a few tokens, backend `b` finishes it —
 * by prefill when it is declared able to continue one, else by a replay held back until it covers what the
 * client has. Asserts what the client sees and what the usage record says.
 */
describe('stream recovery through the standalone host', () => {
  let h: Harness;
  let client: OpenAI;
  const messages = [{ role: 'user' as const, content: 'Tell me about gateways.' }];

  const config =
    (continuePrefill: boolean, extra: { streamRecovery?: 'auto' | 'replay' | 'off' } = {}) =>
    (urls: Record<string, string>) =>
      primaryAndStandby(urls, { continuePrefill, ...extra });

  beforeAll(async () => {
    h = await startHarness({ simulators: { a: {}, b: {} }, config: config(true) });
    client = openaiClient(h);
  });
  afterAll(async () => h.close());
  beforeEach(() => {
    h.sims.a!.configure({ faults: ['cut;after=5'] });
    h.sims.b!.configure({ continuePrefill: true });
    resetSims(h);
  });

  interface Seen {
    text: string;
    ids: Set<string>;
    models: Set<string>;
    created: Set<number>;
    finishes: string[];
    usage: OpenAI.CompletionUsage[];
    tools: { id?: string; name?: string; args: string }[];
    requestId: string | null;
  }

  async function stream(body: Partial<OpenAI.ChatCompletionCreateParamsStreaming> = {}): Promise<Seen> {
    const { data, response } = await client.chat.completions
      .create({ model: 'gpt-4o-mini', messages, stream: true, ...body })
      .withResponse();
    const seen: Seen = {
      text: '',
      ids: new Set(),
      models: new Set(),
      created: new Set(),
      finishes: [],
      usage: [],
      tools: [],
      requestId: response.headers.get('x-gateway-request-id'),
    };
    for await (const chunk of data) {
      seen.ids.add(chunk.id);
      seen.models.add(chunk.model);
      seen.created.add(chunk.created);
      if (chunk.usage) seen.usage.push(chunk.usage);
      const choice = chunk.choices[0];
      if (choice === undefined) continue;
      seen.text += choice.delta.content ?? '';
      if (choice.finish_reason) seen.finishes.push(choice.finish_reason);
      for (const call of choice.delta.tool_calls ?? []) {
        const tool = (seen.tools[call.index] ??= { args: '' });
        if (call.id !== undefined) tool.id = call.id;
        if (call.function?.name !== undefined) tool.name = call.function.name;
        tool.args += call.function?.arguments ?? '';
      }
    }
    return seen;
  }

  it('continues a cut answer on a backend able to continue a prefill: one seamless stream', async () => {
    const seen = await stream();
    expect(seen.text).toBe(completionText(16));
    expect([seen.ids.size, seen.models.size, seen.created.size]).toEqual([1, 1, 1]);
    expect(seen.finishes).toEqual(['stop']);
    const record = await recordOf(h, seen.requestId);
    expect(record.recovered).toBe(true);
    expect(record.recovery).toMatchObject({ mode: 'continue', result: 'recovered', fromBackend: 'a', toBackend: 'b' });
    expect(record.attempts.items.map((a) => [a.backend, a.outcome])).toEqual([
      ['a', 'cut'],
      ['b', 'success'],
    ]);
    expect(record.backend?.name).toBe('b');
    expect(h.sims.b!.attempts()).toHaveLength(1);
  });

  it('sums both attempts in the one usage chunk the caller asked for, and in the record', async () => {
    const seen = await stream({ stream_options: { include_usage: true } });
    expect(seen.text).toBe(completionText(16));
    expect(seen.usage).toHaveLength(1);
    const record = await recordOf(h, seen.requestId);
    const [first, second] = record.recovery!.attemptTokens;
    // The continuation reports only what it added: 16 − 5 tokens.
    expect(second!.completionTokens).toBe(11);
    expect(second!.source).toBe('reported');
    expect(seen.usage[0]).toMatchObject({
      prompt_tokens: first!.promptTokens + second!.promptTokens,
      completion_tokens: first!.completionTokens + second!.completionTokens,
      total_tokens: first!.totalTokens + second!.totalTokens,
    });
    expect(record.tokens.totalTokens).toBe(seen.usage[0]!.total_tokens);
  });

  it('replays on a backend that refuses the prefill, never showing its 400, and remembers the refusal', async () => {
    h.sims.b!.configure({ continuePrefill: true, faults: ['prefill-rejected'] });
    const seen = await stream();
    expect(seen.text).toBe(completionText(16));
    expect(seen.finishes).toEqual(['stop']);
    const record = await recordOf(h, seen.requestId);
    expect(record.recovery).toMatchObject({ mode: 'replay', result: 'recovered', prefillRefused: true });
    expect(record.attempts.items.map((a) => [a.backend, a.status, a.outcome])).toEqual([
      ['a', 200, 'cut'],
      ['b', 400, 'http_error'],
      ['b', 200, 'success'],
    ]);
    // Remembered: the next recovery replays on b at once, without asking for a prefill again.
    h.sims.b!.reset();
    const again = await stream();
    expect(again.text).toBe(completionText(16));
    expect(h.sims.b!.attempts().map((a) => a.status)).toEqual([200]);
    expect((await recordOf(h, again.requestId)).recovery).toMatchObject({ mode: 'replay', prefillRefused: false });
  });

  it('replays on a backend that cannot continue: held back, then only the rest is forwarded', async () => {
    h.reload(config(false));
    try {
      const seen = await stream();
      expect(seen.text).toBe(completionText(16));
      expect(seen.finishes).toEqual(['stop']);
      expect((await recordOf(h, seen.requestId)).recovery).toMatchObject({ mode: 'replay', result: 'recovered' });
    } finally {
      h.reload(config(true));
    }
  });

  it('ends with the terminal error event when the replay differs, never mixing two answers', async () => {
    h.reload(config(false));
    h.sims.b!.configure({ faults: ['text-offset=3'] });
    try {
      let text = '';
      const { data, response } = await client.chat.completions
        .create({ model: 'gpt-4o-mini', messages, stream: true })
        .withResponse();
      const failure = await (async () => {
        try {
          for await (const chunk of data) text += chunk.choices[0]?.delta.content ?? '';
        } catch (error) {
          return error;
        }
        return undefined;
      })();
      expect(failure).toBeInstanceOf(OpenAI.APIError);
      expect(String((failure as Error).message)).toMatch(/ended before the answer was complete/);
      expect(text).toBe(completionText(5));
      const record = await recordOf(h, response.headers.get('x-gateway-request-id'));
      expect(record.recovered).toBe(false);
      expect(record.outcome).toBe('cut');
      expect(record.recovery).toMatchObject({ mode: 'replay', result: 'diverged', toBackend: 'b' });
    } finally {
      h.reload(config(true));
    }
  });

  it('never continues a tool-call stream by prefill: it is replayed', async () => {
    h.sims.a!.configure({ faults: ['cut;after=3'] });
    const tools: OpenAI.ChatCompletionTool[] = [
      {
        type: 'function',
        function: {
          name: 'weather',
          parameters: {
            type: 'object',
            properties: { city: { type: 'string' }, unit: { type: 'string', enum: ['celsius', 'fahrenheit'] } },
          },
        },
      },
    ];
    const seen = await stream({ tools });
    expect(seen.tools).toHaveLength(1);
    expect(seen.tools[0]).toMatchObject({ name: 'weather' });
    expect(JSON.parse(seen.tools[0]!.args)).toEqual({ city: 'example', unit: 'celsius' });
    expect(seen.finishes).toEqual(['tool_calls']);
    const record = await recordOf(h, seen.requestId);
    expect(record.recovery).toMatchObject({ mode: 'replay', result: 'recovered' });
    // b was asked for the answer from the start: no final assistant message.
    expect(h.sims.b!.attempts()).toHaveLength(1);
  });

  it('leaves a route with streamRecovery off as today: the terminal error event', async () => {
    h.reload(config(true, { streamRecovery: 'off' }));
    try {
      await expect(stream()).rejects.toThrow(/ended before the answer was complete/);
      expect(h.sims.b!.attempts()).toHaveLength(0);
    } finally {
      h.reload(config(true));
    }
  });
});

/**
 * The status board behind `/gateway/admin/status/live`, fed by the same recovered and failed recoveries: one
 * failure per failed attempt, a recovered call once as a success of the backend that finished it.
 */
describe('stream recovery on the status board', () => {
  const ADMIN_KEY = 'stream-recovery-admin-key';
  let h: Harness;
  let client: OpenAI;

  beforeAll(async () => {
    h = await startHarness({
      simulators: { a: {}, b: {} },
      config: (urls) => primaryAndStandby(urls, {}, { governance: anonymousWithAdmin(ADMIN_KEY) }),
    });
    client = openaiClient(h);
  });
  afterAll(async () => h.close());

  async function lastMinute(): Promise<Record<string, { attempts: number; errors: number; lastError: unknown }>> {
    const res = await fetch(`${h.url}${ADMIN_BASE_PATH}/status/live`, {
      headers: { 'x-gateway-admin-key': ADMIN_KEY },
    });
    expect(res.status).toBe(200);
    const view = (await res.json()) as {
      backends: { id: string; lastMinute: { attempts: number; errors: number; lastError: { code: string } | null } }[];
    };
    return Object.fromEntries(
      view.backends.map((b) => [
        b.id,
        { attempts: b.lastMinute.attempts, errors: b.lastMinute.errors, lastError: b.lastMinute.lastError?.code },
      ]),
    );
  }

  async function streamText(): Promise<string> {
    const ended = h.nextCall();
    let text = '';
    try {
      const data = await client.chat.completions.create({
        model: 'gpt-4o-mini',
        messages: [{ role: 'user', content: 'Tell me about gateways.' }],
        stream: true,
      });
      for await (const chunk of data) text += chunk.choices[0]?.delta.content ?? '';
    } catch {
      text += '<error>';
    }
    await ended;
    return text;
  }

  it('counts a recovered stream once as a success and its cut once as a failure', async () => {
    h.sims.a!.configure({ faults: ['cut;after=5'] });
    expect(await streamText()).toBe(completionText(16));
    expect(await lastMinute()).toEqual({
      a: { attempts: 1, errors: 1, lastError: 'stream-cut' },
      b: { attempts: 1, errors: 0, lastError: undefined },
    });
  });

  it('counts a failed recovery as one failure per attempt, the broken backend once', async () => {
    h.sims.b!.configure({ faults: ['text-offset=3'] });
    expect(await streamText()).toBe(`${completionText(5)}<error>`);
    expect(await lastMinute()).toEqual({
      a: { attempts: 2, errors: 2, lastError: 'stream-cut' },
      b: { attempts: 2, errors: 1, lastError: 'diverged' },
    });
  });
});
