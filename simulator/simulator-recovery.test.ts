import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type RunningSimulator } from './simulator.js';
import { completionText, continuedTokens } from './token-count.js';
import { postJson, sseJson } from './test-support/sse.js';

/** The simulator behaviours stream recovery and pool failover are tested against. */

let sim: RunningSimulator;

beforeAll(async () => {
  sim = await startSimulator({ name: 'recovery' });
});
afterEach(() => {
  sim.configure({});
  sim.reset();
});
afterAll(async () => {
  await sim.close();
});

const user = { role: 'user', content: 'Hello there' };
const chatBody = (extra: Record<string, unknown> = {}, messages: unknown[] = [user]) => ({
  model: 'gpt-4o',
  messages,
  ...extra,
});

/** The content of a streamed chat answer, joined. */
async function streamedText(response: Response): Promise<string> {
  const chunks = sseJson(await response.text()) as { choices?: { delta?: { content?: string } }[] }[];
  return chunks.map((c) => c.choices?.[0]?.delta?.content ?? '').join('');
}

describe('deployment-not-found', () => {
  it('answers 404 model_not_found on the OpenAI path', async () => {
    const res = await postJson(`${sim.url}/v1/chat/completions`, chatBody(), { 'x-sim-fault': 'deployment-not-found' });
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: { code: 'model_not_found', type: 'invalid_request_error' } });
  });

  it("answers 404 DeploymentNotFound in Azure's shape on a deployment path", async () => {
    const res = await postJson(
      `${sim.url}/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21`,
      { messages: [user] },
      { 'x-sim-fault': 'deployment-not-found' },
    );
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: { code: 'DeploymentNotFound' } });
  });

  it("answers Anthropic's and Gemini's not-found shapes on their endpoints", async () => {
    const anthropic = await postJson(
      `${sim.url}/v1/messages`,
      { model: 'claude-sonnet-4-5', max_tokens: 10, messages: [user] },
      { 'x-sim-fault': 'deployment-not-found' },
    );
    expect(await anthropic.json()).toMatchObject({
      type: 'error',
      error: { message: expect.stringMatching(/^model:/) },
    });
    const gemini = await postJson(
      `${sim.url}/v1beta/models/gemini-2.5-flash:generateContent`,
      { contents: [{ parts: [{ text: 'Hi' }] }] },
      { 'x-sim-fault': 'deployment-not-found' },
    );
    expect(await gemini.json()).toMatchObject({ error: { code: 404, status: 'NOT_FOUND' } });
  });
});

describe('assistant prefill', () => {
  const prefill = completionText(5);
  const withPrefill = chatBody({ stream: true }, [user, { role: 'assistant', content: prefill }]);

  it('answers anew by default, as OpenAI does', async () => {
    const res = await postJson(`${sim.url}/v1/chat/completions`, withPrefill);
    expect(await streamedText(res)).toBe(completionText(16));
  });

  it('continues after the words of the prefill when configured to', async () => {
    sim.configure({ continuePrefill: true });
    const res = await postJson(`${sim.url}/v1/chat/completions`, {
      ...withPrefill,
      stream_options: { include_usage: true },
    });
    const text = await streamedText(res);
    expect(prefill + text).toBe(completionText(16));
    expect(text.startsWith(' ')).toBe(true);
  });

  it('continues a prefill whose trailing blanks were trimmed', async () => {
    sim.configure({ continuePrefill: true });
    const res = await postJson(
      `${sim.url}/v1/chat/completions`,
      chatBody({ stream: true }, [user, { role: 'assistant', content: `${prefill}   ` }]),
    );
    expect(prefill + (await streamedText(res))).toBe(completionText(16));
  });

  it('reports only the continuation as completion tokens', async () => {
    sim.configure({ continuePrefill: true });
    const res = await postJson(
      `${sim.url}/v1/chat/completions`,
      chatBody({}, [user, { role: 'assistant', content: prefill }]),
    );
    const body = (await res.json()) as {
      usage: { completion_tokens: number };
      choices: { message: { content: string } }[];
    };
    expect(body.usage.completion_tokens).toBe(11);
    expect(prefill + body.choices[0]!.message.content).toBe(completionText(16));
  });

  it('refuses a final assistant message with prefill-rejected, and answers other requests', async () => {
    sim.configure({ faults: ['prefill-rejected'] });
    const refused = await postJson(`${sim.url}/v1/chat/completions`, withPrefill);
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { error: { message: string } }).error.message).toMatch(
      /does not support assistant message prefill/,
    );
    const answered = await postJson(`${sim.url}/v1/chat/completions`, chatBody());
    expect(answered.status).toBe(200);
  });

  it('counts the whole tokens a prefill holds', () => {
    expect(continuedTokens('')).toBe(0);
    expect(continuedTokens('Hello')).toBe(1);
    expect(continuedTokens(completionText(7))).toBe(7);
    expect(continuedTokens(`${completionText(3)} simul`)).toBe(3);
    expect(continuedTokens('Something else')).toBe(0);
  });
});

describe('text-offset', () => {
  it('starts the answer at another word, so two backends give different answers', async () => {
    const res = await postJson(`${sim.url}/v1/chat/completions`, chatBody({ stream: true }), {
      'x-sim-fault': 'text-offset=3',
    });
    const text = await streamedText(res);
    expect(text).toBe(completionText(16, 3));
    expect(text).not.toBe(completionText(16));
  });
});
