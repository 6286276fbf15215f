import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startSimulator, type RunningSimulator } from '../../simulator/simulator.js';
import { buildFunctionsHost, type FunctionsHost } from './runtime.js';
import { drainOnTerminate, workerShutdown } from './shutdown.js';

const chat = (headers: Record<string, string> = {}) => ({
  method: 'POST',
  url: 'http://localhost/v1/chat/completions',
  headers: new Headers({ 'content-type': 'application/json', ...headers }),
  body: (async function* () {
    yield new TextEncoder().encode(
      JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }),
    );
  })(),
  signal: new AbortController().signal,
});

/** The Functions app's shutdown hook, invoked directly on a host built as the worker builds it. */
describe('drainOnTerminate (app.hook.appTerminate)', () => {
  let sim: RunningSimulator;
  let host: FunctionsHost;

  beforeAll(async () => {
    sim = await startSimulator({ name: 'sim', port: 0 });
    const file = join(mkdtempSync(join(tmpdir(), 'gw-fn-drain-')), 'gateway.config.json');
    writeFileSync(
      file,
      JSON.stringify({
        server: { shutdownGraceMs: 5_000 },
        backends: [{ id: 'sim', url: sim.url, kind: 'openai' }],
        pools: [{ id: 'main', backends: ['sim'] }],
        routes: [{ id: 'all', match: { models: ['*'] }, pool: 'main' }],
        governance: { identity: { anonymous: { allowed: true } } },
      }),
    );
    host = await buildFunctionsHost({ GATEWAY_CONFIG_FILE: file, GATEWAY_FUNCTIONS__STORES: 'memory' });
  });
  afterAll(async () => {
    await host.runtime.close();
    await sim.close();
  });

  it('does nothing when the worker never built its host', async () => {
    expect(await drainOnTerminate(undefined)).toBeUndefined();
  });

  it('lets the call in flight finish, refuses new ones, hands jobs back and flushes usage records', async () => {
    const flush = vi.spyOn(host.runtime.ledger, 'close');
    const telemetryFlush = vi.spyOn(host.runtime.telemetry, 'flush');
    const inFlight = host.runtime.gateway.handle(chat({ 'x-sim-fault': 'latency-ms=300' }));
    await sim.waitForAttempts(1);
    const lines: string[] = [];
    const terminated = drainOnTerminate(Promise.resolve(host), (line) => lines.push(line));

    const refused = await host.runtime.gateway.handle(chat());
    expect(refused.status).toBe(503);
    expect(refused.headers.get('connection')).toBe('close');
    for await (const chunk of refused.body!) expect(new TextDecoder().decode(chunk)).toContain('SHUTTING_DOWN');
    const answer = await inFlight;
    expect(answer.status).toBe(200);
    let text = '';
    for await (const chunk of answer.body!) text += new TextDecoder().decode(chunk);
    expect(JSON.parse(text)).toMatchObject({ object: 'chat.completion' });

    const report = await terminated;
    expect(report).toMatchObject({ cut: 0, remaining: 0 });
    expect(report!.inFlightAtStart).toBeGreaterThanOrEqual(1);
    expect(workerShutdown.signal.aborted).toBe(true);
    expect(flush).toHaveBeenCalled();
    expect(telemetryFlush).toHaveBeenCalled();
    const records = [];
    for await (const record of host.runtime.ledger.query({ fromMs: 0, toMs: Date.now() + 60_000 }))
      records.push(record);
    expect(records.map((r) => r.httpStatus)).toEqual(expect.arrayContaining([200, 503]));
    expect(lines).toEqual([
      `gateway: worker shutting down: ${report!.inFlightAtStart} call(s) drained, 0 cut after the grace period`,
    ]);
  });
});
