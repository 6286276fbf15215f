/* eslint-disable @typescript-eslint/no-explicit-any -- the assertions walk parsed JSON payloads */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type RunningSimulator } from './simulator.js';
import { postJson } from './test-support/sse.js';

const CHAT = { model: 'gpt-4o', messages: [{ role: 'user', content: 'Hello' }] };

let sim: RunningSimulator;
const clockMs = 1_750_000_000_000;

beforeAll(async () => {
  sim = await startSimulator({ name: 'control', now: () => clockMs });
});
afterEach(async () => {
  await postJson(`${sim.url}/_sim/config`, {});
  await fetch(`${sim.url}/_sim/reset`, { method: 'POST' });
});
afterAll(async () => {
  await sim.close();
});

describe('control endpoint', () => {
  it('answers health', async () => {
    const res = await fetch(`${sim.url}/_sim/health`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok', name: 'control' });
  });

  it('lists every attempt with its request facts, fault and outcome, and not its own calls', async () => {
    await postJson(
      `${sim.url}/v1/chat/completions?api-version=1`,
      { ...CHAT, model: 'gpt-4o#429;retry-after=1' },
      { 'X-Custom': 'A' },
    );
    await postJson(`${sim.url}/v1/chat/completions`, CHAT);
    await fetch(`${sim.url}/v1/models`);
    const attempts = (await (await fetch(`${sim.url}/_sim/attempts`)).json()) as Record<string, any>[];
    expect(attempts).toHaveLength(3);
    expect(attempts[0]).toMatchObject({
      seq: 1,
      timeMs: clockMs,
      method: 'POST',
      path: '/v1/chat/completions',
      query: 'api-version=1',
      api: 'chat',
      model: 'gpt-4o',
      stream: false,
      fault: 'status=429;retry-after=1',
      status: 429,
      outcome: 'error',
    });
    expect(attempts[0]?.headers['x-custom']).toBe('A');
    expect(attempts[1]).toMatchObject({ seq: 2, fault: null, status: 200, outcome: 'ok' });
    expect(attempts[2]).toMatchObject({ seq: 3, method: 'GET', path: '/v1/models', api: null, model: null });
    expect(sim.attempts()).toEqual(attempts);
  });

  it('replaces the fault config at runtime and reports it', async () => {
    const set = await postJson(`${sim.url}/_sim/config`, {
      faults: ['503;times=1', { status: 429, retryAfterMs: 50 }],
      latencyMs: 0,
    });
    expect(set.status).toBe(200);
    expect(await (await fetch(`${sim.url}/_sim/config`)).json()).toEqual({
      faults: ['503;times=1', { status: 429, retryAfterMs: 50 }],
      latencyMs: 0,
    });
    const first = await postJson(`${sim.url}/v1/chat/completions`, CHAT);
    const second = await postJson(`${sim.url}/v1/chat/completions`, CHAT);
    expect([first.status, second.status, second.headers.get('retry-after-ms')]).toEqual([503, 429, '50']);
    await postJson(`${sim.url}/_sim/config`, {});
    expect((await postJson(`${sim.url}/v1/chat/completions`, CHAT)).status).toBe(200);
  });

  it('rejects an invalid config, naming every problem, and keeps the old one', async () => {
    await postJson(`${sim.url}/_sim/config`, { faults: ['502'] });
    const res = await postJson(`${sim.url}/_sim/config`, { faults: ['bogus'], latencyMs: -1, wat: 1 });
    expect(res.status).toBe(400);
    const error = ((await res.json()) as Record<string, any>).error;
    expect(error.code).toBe('sim_bad_config');
    expect(error.message).toMatch(/faults\[0\]: unknown key "bogus"/);
    expect(error.message).toMatch(/latencyMs/);
    expect(error.message).toMatch(/unknown key "wat"/);
    expect((await postJson(`${sim.url}/v1/chat/completions`, CHAT)).status).toBe(502);
  });

  it('resets attempts and fault counters, keeping the config', async () => {
    await postJson(`${sim.url}/_sim/config`, { faults: ['503;once'] });
    expect((await postJson(`${sim.url}/v1/chat/completions`, CHAT)).status).toBe(503);
    expect((await postJson(`${sim.url}/v1/chat/completions`, CHAT)).status).toBe(200);
    expect((await fetch(`${sim.url}/_sim/reset`, { method: 'POST' })).status).toBe(200);
    expect(sim.attempts()).toEqual([]);
    expect((await postJson(`${sim.url}/v1/chat/completions`, CHAT)).status).toBe(503);
    expect(sim.attempts().map((a) => a.seq)).toEqual([1]);
  });

  it('answers 404 for an unknown control path', async () => {
    expect((await fetch(`${sim.url}/_sim/nope`)).status).toBe(404);
  });
});

describe('attempts log', () => {
  it('is a bounded ring that keeps the newest entries', async () => {
    const small = await startSimulator({ maxAttempts: 3 });
    try {
      for (let i = 0; i < 5; i++) await fetch(`${small.url}/v1/models`);
      expect(small.attempts().map((a) => a.seq)).toEqual([3, 4, 5]);
    } finally {
      await small.close();
    }
  });

  it('records nothing when switched off, while waitForAttempts still counts arrivals', async () => {
    const quiet = await startSimulator({ recordAttempts: false });
    try {
      await postJson(`${quiet.url}/v1/chat/completions`, CHAT);
      await quiet.waitForAttempts(1);
      expect(quiet.attempts()).toEqual([]);
    } finally {
      await quiet.close();
    }
  });

  it('rejects waitForAttempts after its timeout', async () => {
    await expect(sim.waitForAttempts(1, 10)).rejects.toThrow(/0 of 1 attempts/);
  });
});

describe('start options', () => {
  it('applies instance defaults and start-time faults; configure falls back to them, re-arms the rules', async () => {
    const own = await startSimulator({
      name: 'opts',
      defaultCompletionTokens: 3,
      servedModel: 'gpt-4o-2024-08-06',
      faults: ['500;once'],
    });
    try {
      expect((await postJson(`${own.url}/v1/chat/completions`, CHAT)).status).toBe(500);
      const body = (await (await postJson(`${own.url}/v1/chat/completions`, CHAT)).json()) as Record<string, any>;
      expect(body.usage.completion_tokens).toBe(3);
      expect(body.model).toBe('gpt-4o-2024-08-06');
      own.configure({ defaultCompletionTokens: 5 });
      expect((await postJson(`${own.url}/v1/chat/completions`, CHAT)).status).toBe(500);
      const after = (await (await postJson(`${own.url}/v1/chat/completions`, CHAT)).json()) as Record<string, any>;
      expect(after.usage.completion_tokens).toBe(5);
      expect(after.model).toBe('gpt-4o-2024-08-06');
      own.configure({});
      expect((await postJson(`${own.url}/v1/chat/completions`, CHAT)).status).toBe(500);
    } finally {
      await own.close();
    }
  });

  it('throws on an invalid fault at start', async () => {
    await expect(startSimulator({ faults: ['nope'] })).rejects.toThrow(/faults\[0\]/);
  });

  it('closes promptly with idle keep-alive connections open', async () => {
    const own = await startSimulator();
    await fetch(`${own.url}/v1/models`).then((r) => r.text());
    await fetch(`${own.url}/v1/models`).then((r) => r.text());
    await own.close();
    await expect(fetch(`${own.url}/v1/models`)).rejects.toThrow();
  });
});
