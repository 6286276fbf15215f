import OpenAI, { AzureOpenAI } from 'openai';
import { zodFunction, zodResponseFormat } from 'openai/helpers/zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { UsageRecord } from '../../shared/core/usage/usage-record.js';
import { completionText, tokensForChars } from '../../simulator/token-count.js';
import { startHarness, type Harness } from '../support/gateway-harness.js';

/**
 * Tool calling, `n` and JSON mode through the standalone host with the real `openai` client: what the
 * quick start's simulator backends now answer, and what the gateway meters for it.
 */
describe('tools, n and JSON mode through the gateway', () => {
  let h: Harness;
  let client: OpenAI;
  const ask = [{ role: 'user' as const, content: 'What is the weather in Paris?' }];
  const Weather = z.object({ city: z.string(), unit: z.enum(['celsius', 'fahrenheit']) });
  const ARGS = '{"city":"example","unit":"celsius"}';

  beforeAll(async () => {
    h = await startHarness({ simulators: { a: {}, b: {} } });
    client = new OpenAI({ baseURL: `${h.url}/v1`, apiKey: 'unused-anonymous', maxRetries: 0 });
  });
  afterAll(async () => h.close());

  async function records(): Promise<UsageRecord[]> {
    await h.runtime.ledger.flush();
    const out: UsageRecord[] = [];
    for await (const r of h.runtime.ledger.query({ fromMs: 0, toMs: Number.MAX_SAFE_INTEGER })) out.push(r);
    return out;
  }

  async function recordOf(requestId: string | null): Promise<UsageRecord> {
    const found = (await records()).find((r) => r.requestId === requestId);
    if (found === undefined) throw new Error(`no usage record for ${requestId}`);
    return found;
  }

  it('runs a tool-calling round trip, streamed and not, metering every call exactly', async () => {
    for (const stream of [false, true]) {
      const before = (await records()).length;
      const calls: unknown[] = [];
      const body = {
        model: 'gpt-4o-mini',
        messages: ask,
        tools: [
          zodFunction({
            name: 'get_weather',
            parameters: Weather,
            function: (args) => {
              calls.push(args);
              return 'sunny, 18 °C';
            },
          }),
        ],
      };
      const runner = stream
        ? client.chat.completions.runTools({ ...body, stream: true })
        : client.chat.completions.runTools(body);
      expect(await runner.finalContent()).toBe(completionText(16));
      expect(calls).toEqual([{ city: 'example', unit: 'celsius' }]);
      const [toolTurn, answerTurn] = (await records()).slice(before);
      expect(toolTurn?.tokens).toMatchObject({ completionTokens: tokensForChars(ARGS.length), source: 'reported' });
      expect(answerTurn?.tokens).toMatchObject({ completionTokens: 16, source: 'reported' });
    }
  });

  it('answers n choices and meters them all, with the usage chunk it injected hidden', async () => {
    const { data, response } = await client.chat.completions
      .create({ model: 'gpt-4o-mini', messages: ask, n: 3 })
      .withResponse();
    expect(data.choices.map((c) => c.message.content)).toEqual([0, 1, 2].map(() => completionText(16)));
    expect((await recordOf(response.headers.get('x-gateway-request-id'))).tokens.completionTokens).toBe(48);

    const streamed = await client.chat.completions
      .create({ model: 'gpt-4o-mini', messages: ask, n: 2, stream: true })
      .withResponse();
    const texts = ['', ''];
    let sawUsage = false;
    for await (const chunk of streamed.data) {
      for (const c of chunk.choices) texts[c.index] += c.delta.content ?? '';
      if (chunk.usage) sawUsage = true;
    }
    expect(texts).toEqual([completionText(16), completionText(16)]);
    expect(sawUsage).toBe(false);
    const record = await recordOf(streamed.response.headers.get('x-gateway-request-id'));
    expect(record.includeUsageInjected).toBe(true);
    expect(record.tokens).toMatchObject({ completionTokens: 32, source: 'reported' });
  });

  it('answers valid JSON in JSON mode and a parsed object for a schema', async () => {
    const json = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'Reply in JSON.' }],
      response_format: { type: 'json_object' },
    });
    expect(JSON.parse(json.choices[0]!.message.content!)).toEqual({ answer: completionText(16) });
    const parsed = await client.chat.completions.parse({
      model: 'gpt-4o-mini',
      messages: ask,
      response_format: zodResponseFormat(Weather, 'weather'),
    });
    expect(parsed.choices[0]!.message.parsed).toEqual({ city: 'example', unit: 'celsius' });
  });

  it('passes a backend 400 for a bad tool_choice through to the client', async () => {
    const call = client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: ask,
      tools: [zodFunction({ name: 'get_weather', parameters: Weather })],
      tool_choice: { type: 'function', function: { name: 'get_wether' } },
    });
    await expect(call).rejects.toMatchObject({ status: 400, param: 'tool_choice' });
  });

  it('serves tool calls to the Azure OpenAI client and to the Responses API', async () => {
    const azure = new AzureOpenAI({
      endpoint: h.url,
      apiKey: 'unused',
      apiVersion: '2024-10-21',
      deployment: 'gpt-4o-mini',
      maxRetries: 0,
    });
    const stream = azure.chat.completions.stream({
      model: 'gpt-4o-mini',
      messages: ask,
      tools: [zodFunction({ name: 'get_weather', parameters: Weather })],
    });
    const final = await stream.finalChatCompletion();
    expect(final.choices[0]!.finish_reason).toBe('tool_calls');
    expect(final.choices[0]!.message.tool_calls?.[0]?.function.parsed_arguments).toEqual({
      city: 'example',
      unit: 'celsius',
    });

    const response = await client.responses.create({
      model: 'gpt-4.1',
      input: 'Weather in Paris?',
      tools: [{ type: 'function', name: 'get_weather', parameters: z.toJSONSchema(Weather), strict: true }],
    });
    expect(response.output[0]).toMatchObject({ type: 'function_call', name: 'get_weather', arguments: ARGS });
  });
});
