import OpenAI, { AzureOpenAI, BadRequestError } from 'openai';
import { zodFunction, zodResponseFormat, zodTextFormat } from 'openai/helpers/zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { startSimulator, type RunningSimulator } from './simulator.js';
import { completionText, countPromptTokens, tokensForChars } from './token-count.js';

/**
 * `tools` / `tool_choice`, `n` and JSON answers, as the real `openai` client sees them: chat completions
 * (OpenAI and Azure flavours, streamed and not) and the Responses API.
 */

const weatherParameters = {
  type: 'object',
  properties: {
    city: { type: 'string' },
    unit: { type: 'string', enum: ['celsius', 'fahrenheit'] },
    days: { type: 'integer', minimum: 1 },
  },
  required: ['city', 'unit', 'days'],
  additionalProperties: false,
} as const;
const WEATHER_ARGS = '{"city":"example","unit":"celsius","days":1}';
const tools: OpenAI.Chat.Completions.ChatCompletionTool[] = [
  { type: 'function', function: { name: 'get_weather', parameters: weatherParameters } },
  { type: 'function', function: { name: 'get_time', parameters: { type: 'object', properties: {} } } },
];
const ask = [{ role: 'user' as const, content: 'What is the weather in Paris?' }];

/** The function of a choice's first tool call (function tool calls only). */
function firstCall(message: OpenAI.Chat.Completions.ChatCompletionMessage | undefined) {
  const call = message?.tool_calls?.[0];
  return call?.type === 'function' ? call.function : undefined;
}

let sim: RunningSimulator;
let client: OpenAI;

beforeAll(async () => {
  sim = await startSimulator({ name: 'tools' });
  client = new OpenAI({ baseURL: `${sim.url}/v1`, apiKey: 'sk-test', maxRetries: 0 });
});
afterAll(async () => sim.close());

describe('chat completions with tools', () => {
  it('answers a tool call with finish_reason tool_calls and arguments that fit the schema', async () => {
    const answer = await client.chat.completions.create({ model: 'gpt-4o', messages: ask, tools });
    const choice = answer.choices[0]!;
    expect(choice.finish_reason).toBe('tool_calls');
    expect(choice.message.content).toBeNull();
    const call = choice.message.tool_calls?.[0];
    expect(call).toMatchObject({ type: 'function', function: { name: 'get_weather', arguments: WEATHER_ARGS } });
    expect(call?.id).toMatch(/^call_/);
    expect(JSON.parse(WEATHER_ARGS)).toEqual({ city: 'example', unit: 'celsius', days: 1 });
    const completion = tokensForChars(WEATHER_ARGS.length);
    expect(answer.usage).toMatchObject({ completion_tokens: completion });
  });

  it('answers in text once the conversation ends with the tool result (a round trip)', async () => {
    const first = await client.chat.completions.create({ model: 'gpt-4o', messages: ask, tools });
    const call = first.choices[0]!.message.tool_calls![0]!;
    const second = await client.chat.completions.create({
      model: 'gpt-4o',
      tools,
      messages: [...ask, first.choices[0]!.message, { role: 'tool', tool_call_id: call.id, content: '18 °C, sunny' }],
    });
    expect(second.choices[0]).toMatchObject({
      finish_reason: 'stop',
      message: { role: 'assistant', content: completionText(16) },
    });
  });

  it('honours tool_choice: a named function (finish "stop", as the real API), required, none', async () => {
    const named = await client.chat.completions.create({
      model: 'gpt-4o',
      messages: ask,
      tools,
      tool_choice: { type: 'function', function: { name: 'get_time' } },
    });
    expect(named.choices[0]!.finish_reason).toBe('stop');
    expect(firstCall(named.choices[0]!.message)).toEqual({ name: 'get_time', arguments: '{}' });

    const toolResult = { role: 'tool' as const, tool_call_id: 'call_1', content: 'done' };
    const required = await client.chat.completions.create({
      model: 'gpt-4o',
      messages: [...ask, toolResult],
      tools,
      tool_choice: 'required',
    });
    expect(required.choices[0]!.finish_reason).toBe('tool_calls');

    const none = await client.chat.completions.create({ model: 'gpt-4o', messages: ask, tools, tool_choice: 'none' });
    expect(none.choices[0]).toMatchObject({ finish_reason: 'stop', message: { content: completionText(16) } });
  });

  it('streams a tool call as deltas the client assembles, with the usage chunk', async () => {
    const stream = client.chat.completions.stream({
      model: 'gpt-4o',
      messages: ask,
      tools,
      stream_options: { include_usage: true },
    });
    const deltas: string[] = [];
    stream.on('tool_calls.function.arguments.delta', (e) => {
      if (e.arguments_delta !== '') deltas.push(e.arguments_delta);
    });
    const final = await stream.finalChatCompletion();
    expect(final.choices[0]!.finish_reason).toBe('tool_calls');
    expect(final.choices[0]!.message.tool_calls?.[0]?.function).toMatchObject({
      name: 'get_weather',
      arguments: WEATHER_ARGS,
    });
    expect(deltas).toHaveLength(tokensForChars(WEATHER_ARGS.length));
    expect(final.usage?.completion_tokens).toBe(deltas.length);
  });

  it('runs a whole tool loop with the client runner, streamed and not', async () => {
    for (const stream of [false, true]) {
      const seen: unknown[] = [];
      const body = {
        model: 'gpt-4o',
        messages: ask,
        tools: [
          zodFunction({
            name: 'get_weather',
            parameters: z.object({ city: z.string(), unit: z.enum(['celsius', 'fahrenheit']), days: z.number() }),
            function: (args) => {
              seen.push(args);
              return `${args.days} day(s) of sun in ${args.city}`;
            },
          }),
        ],
      };
      const runner = stream
        ? client.chat.completions.runTools({ ...body, stream: true })
        : client.chat.completions.runTools(body);
      expect(await runner.finalContent()).toBe(completionText(16));
      expect(seen).toEqual([{ city: 'example', unit: 'celsius', days: 1 }]);
    }
  });

  it('cuts a tool call at max_tokens with finish_reason length', async () => {
    const answer = await client.chat.completions.create({ model: 'gpt-4o', messages: ask, tools, max_tokens: 3 });
    expect(answer.choices[0]!.finish_reason).toBe('length');
    expect(firstCall(answer.choices[0]!.message)?.arguments).toBe(WEATHER_ARGS.slice(0, 12));
    expect(answer.usage?.completion_tokens).toBe(3);
  });

  it('refuses a tool_choice naming no tool, and tool_choice without tools, with 400 and the param', async () => {
    const unknown = client.chat.completions.create({
      model: 'gpt-4o',
      messages: ask,
      tools,
      tool_choice: { type: 'function', function: { name: 'get_wether' } },
    });
    await expect(unknown).rejects.toMatchObject({ status: 400, param: 'tool_choice' });
    const without = client.chat.completions.create({ model: 'gpt-4o', messages: ask, tool_choice: 'required' });
    await expect(without).rejects.toBeInstanceOf(BadRequestError);
  });
});

describe('chat completions with n', () => {
  const prompt = countPromptTokens('chat', { messages: ask });

  it('answers n choices and counts the completion tokens of all of them', async () => {
    const answer = await client.chat.completions.create({ model: 'gpt-4o', messages: ask, n: 3 });
    expect(answer.choices.map((c) => [c.index, c.message.content, c.finish_reason])).toEqual([
      [0, completionText(16), 'stop'],
      [1, completionText(16), 'stop'],
      [2, completionText(16), 'stop'],
    ]);
    expect(answer.usage).toMatchObject({ prompt_tokens: prompt, completion_tokens: 48, total_tokens: prompt + 48 });
  });

  it('streams n choices interleaved, each complete, and the usage of all', async () => {
    const stream = await client.chat.completions.create(
      { model: 'gpt-4o', messages: ask, n: 2, stream: true, stream_options: { include_usage: true } },
      { headers: { 'x-sim-fault': 'tokens=5' } },
    );
    const texts = ['', ''];
    const order: number[] = [];
    const finish: (string | null)[] = [null, null];
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) {
      for (const c of chunk.choices) {
        if (c.delta.content) {
          texts[c.index] += c.delta.content;
          order.push(c.index);
        }
        if (c.finish_reason) finish[c.index] = c.finish_reason;
      }
      if (chunk.usage) usage = chunk.usage;
    }
    expect(texts).toEqual([completionText(5), completionText(5)]);
    expect(order).toEqual([0, 1, 0, 1, 0, 1, 0, 1, 0, 1]);
    expect(finish).toEqual(['stop', 'stop']);
    expect(usage).toMatchObject({ completion_tokens: 10 });
  });

  it('gives every choice its own tool call id', async () => {
    const answer = await client.chat.completions.create({ model: 'gpt-4o', messages: ask, tools, n: 2 });
    const ids = answer.choices.map((c) => c.message.tool_calls?.[0]?.id);
    expect(new Set(ids).size).toBe(2);
    expect(answer.usage?.completion_tokens).toBe(2 * tokensForChars(WEATHER_ARGS.length));
  });

  it('refuses an n outside 1..128 with 400 and param n', async () => {
    await expect(client.chat.completions.create({ model: 'gpt-4o', messages: ask, n: 0 })).rejects.toMatchObject({
      status: 400,
      param: 'n',
    });
  });

  it('cuts an n-choice stream with the scripted fault as any other', async () => {
    const response = await fetch(`${sim.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-sim-fault': 'cut;after=3' },
      body: JSON.stringify({ model: 'gpt-4o', messages: ask, n: 2, stream: true }),
    });
    await expect(response.text()).rejects.toThrow();
    expect(sim.attempts().at(-1)).toMatchObject({ outcome: 'cut', status: 200 });
  });
});

describe('chat completions with JSON answers', () => {
  const jsonAsk = [{ role: 'user' as const, content: 'Answer in JSON, please.' }];

  it('answers valid JSON for response_format json_object, streamed and not', async () => {
    const answer = await client.chat.completions.create({
      model: 'gpt-4o',
      messages: jsonAsk,
      response_format: { type: 'json_object' },
    });
    expect(JSON.parse(answer.choices[0]!.message.content!)).toEqual({ answer: completionText(16) });
    expect(answer.usage?.completion_tokens).toBe(16);
    const stream = await client.chat.completions.create({
      model: 'gpt-4o',
      messages: jsonAsk,
      response_format: { type: 'json_object' },
      stream: true,
    });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    expect(JSON.parse(text)).toEqual({ answer: completionText(16) });
  });

  it('refuses json_object when no message says "json", as the real API does', async () => {
    const call = client.chat.completions.create({
      model: 'gpt-4o',
      messages: ask,
      response_format: { type: 'json_object' },
    });
    await expect(call).rejects.toMatchObject({ status: 400, param: 'messages' });
  });

  it('answers an instance of the schema for json_schema, which the client parses', async () => {
    const Event = z.object({ name: z.string(), attendees: z.array(z.string()), year: z.number().int() });
    const answer = await client.chat.completions.parse({
      model: 'gpt-4o',
      messages: ask,
      response_format: zodResponseFormat(Event, 'event'),
    });
    expect(answer.choices[0]!.message.parsed).toEqual({ name: 'example', attendees: ['example'], year: 1 });
  });
});

describe('the Azure OpenAI flavour', () => {
  it('answers tool calls and n choices on a deployment, with filter results on every choice', async () => {
    const azure = new AzureOpenAI({
      endpoint: sim.url,
      apiKey: 'sk-test',
      apiVersion: '2024-10-21',
      deployment: 'prod-gpt4o',
      maxRetries: 0,
    });
    const answer = await azure.chat.completions.create({ model: '', messages: ask, tools, n: 2 });
    expect(answer.choices).toHaveLength(2);
    for (const choice of answer.choices) {
      expect(choice.finish_reason).toBe('tool_calls');
      expect(choice).toHaveProperty('content_filter_results');
    }
    const stream = azure.chat.completions.stream({ model: '', messages: ask, tools });
    const final = await stream.finalChatCompletion();
    expect(final.choices[0]!.message.tool_calls?.[0]?.function.arguments).toBe(WEATHER_ARGS);
  });
});

describe('the Responses API', () => {
  const responseTools: OpenAI.Responses.FunctionTool[] = [
    { type: 'function', name: 'get_weather', parameters: weatherParameters, strict: true },
  ];

  it('answers a function_call item, then text once the input ends with its output', async () => {
    const first = await client.responses.create({ model: 'gpt-4.1', input: 'Weather in Paris?', tools: responseTools });
    const call = first.output[0];
    expect(call).toMatchObject({ type: 'function_call', name: 'get_weather', arguments: WEATHER_ARGS });
    expect(first.tools).toHaveLength(1);
    if (call?.type !== 'function_call') throw new Error('no function call');
    const second = await client.responses.create({
      model: 'gpt-4.1',
      tools: responseTools,
      input: [
        { role: 'user', content: 'Weather in Paris?' },
        call,
        { type: 'function_call_output', call_id: call.call_id, output: '18 °C' },
      ],
    });
    expect(second.output_text).toBe(completionText(16));
  });

  it('streams the function call arguments as delta events', async () => {
    const stream = await client.responses.create({
      model: 'gpt-4.1',
      input: 'Weather?',
      tools: responseTools,
      stream: true,
    });
    let args = '';
    let done: OpenAI.Responses.Response | undefined;
    for await (const event of stream) {
      if (event.type === 'response.function_call_arguments.delta') args += event.delta;
      if (event.type === 'response.completed') done = event.response;
    }
    expect(args).toBe(WEATHER_ARGS);
    expect(done?.output[0]).toMatchObject({ type: 'function_call', arguments: WEATHER_ARGS });
    expect(done?.usage?.output_tokens).toBe(tokensForChars(WEATHER_ARGS.length));
  });

  it('answers JSON for text.format, which the client parses', async () => {
    const Answer = z.object({ city: z.string(), sunny: z.boolean() });
    const parsed = await client.responses.parse({
      model: 'gpt-4.1',
      input: 'Weather?',
      text: { format: zodTextFormat(Answer, 'answer') },
    });
    expect(parsed.output_parsed).toEqual({ city: 'example', sunny: true });
    const json = await client.responses.create({
      model: 'gpt-4.1',
      input: 'Reply in json',
      text: { format: { type: 'json_object' } },
    });
    expect(JSON.parse(json.output_text)).toEqual({ answer: completionText(16) });
  });
});
