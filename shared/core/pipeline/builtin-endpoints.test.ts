import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../config/load-config.js';
import { builtinEndpoint } from './builtin-endpoints.js';
import { readText, snapshotOf } from './test-support/pipeline-fixtures.js';

const result = validateConfig({
  backends: [
    { id: 'a', url: 'http://a.test', kind: 'openai' },
    { id: 'b', url: 'http://b.test', kind: 'openai' },
  ],
  pools: [{ id: 'p', backends: ['a', 'b'] }],
  routes: [
    { id: 'r', match: { models: ['gpt-4o', 'gpt-4o-mini', 'o*'] }, pool: 'p' },
    { id: 'echo', match: { pathPrefix: '/echo' }, pool: 'p' },
  ],
});
if (!result.ok) throw new Error(result.issues.join('\n'));
const s = snapshotOf(result.config);
const usable = (n: number) => ({ usableCount: () => n });

async function json(answer: Awaited<ReturnType<typeof builtinEndpoint>>): Promise<unknown> {
  return JSON.parse(await readText(answer!.body));
}

describe('builtinEndpoint', () => {
  it('answers liveness with no dependency consulted', async () => {
    const answer = await builtinEndpoint({ health: usable(0) }, s, '/health/live', 'r1');
    expect(answer?.status).toBe(200);
    expect(answer?.headers.get('x-gateway-request-id')).toBe('r1');
    expect(await json(answer)).toEqual({ status: 'live' });
  });

  it('is ready when a backend is usable and the stores answer, and says why when not', async () => {
    const ok = async () => ({ ready: true, detail: { stores: { health: 'ok' } } });
    const down = async () => ({ ready: false, detail: { stores: { health: 'unreachable' } } });
    const ready = await builtinEndpoint({ health: usable(1), readiness: ok }, s, '/health/ready', 'r');
    expect(ready?.status).toBe(200);
    expect(await json(ready)).toEqual({
      status: 'ready',
      backends: { configured: 2, usable: 1 },
      stores: { health: 'ok' },
    });
    expect((await builtinEndpoint({ health: usable(0), readiness: ok }, s, '/health/ready', 'r'))?.status).toBe(503);
    const storeDown = await builtinEndpoint({ health: usable(2), readiness: down }, s, '/health/ready', 'r');
    expect(storeDown?.status).toBe(503);
    expect(await json(storeDown)).toMatchObject({ status: 'not_ready', stores: { health: 'unreachable' } });
  });

  it("answers the seed's probe paths in its plain-text form", async () => {
    const ok = async () => ({ ready: true, detail: {} });
    const down = async () => ({ ready: false, detail: {} });
    const probe = async (deps: Parameters<typeof builtinEndpoint>[0], path: string) => {
      const answer = (await builtinEndpoint(deps, s, path, 'r'))!;
      return { status: answer.status, text: await readText(answer.body), headers: answer.headers };
    };
    const live = await probe({ health: usable(0), readiness: down, draining: () => true }, '/liveness');
    expect([live.status, live.text]).toEqual([200, 'OK\n']);
    expect(live.headers.get('content-type')).toBe('text/plain');
    expect(live.headers.get('cache-control')).toBe('no-cache');
    expect(live.headers.get('connection')).toBe('close');
    for (const path of ['/readiness', '/startup']) {
      expect(await probe({ health: usable(1), readiness: ok }, path)).toMatchObject({ status: 200, text: 'OK\n' });
      expect(await probe({ health: usable(0), readiness: ok }, path)).toMatchObject({
        status: 503,
        text: 'Not Healthy.  Active Hosts: 0\n',
      });
      expect(await probe({ health: usable(2), readiness: down }, path)).toMatchObject({
        status: 503,
        text: 'Not Healthy.  Failed Hosts: True\n',
      });
      expect(await probe({ health: usable(2), readiness: ok, draining: () => true }, path)).toMatchObject({
        status: 503,
        text: 'Not Healthy.  Shutting down.\n',
      });
    }
  });

  it('turns /health/ready to 503 draining while the host drains, and leaves /health/live at 200', async () => {
    const deps = { health: usable(2), draining: () => true };
    const ready = await builtinEndpoint(deps, s, '/health/ready', 'r');
    expect(ready?.status).toBe(503);
    expect(await json(ready)).toMatchObject({ status: 'draining' });
    expect((await builtinEndpoint(deps, s, '/health/live', 'r'))?.status).toBe(200);
  });

  it('leaves every other call to the pipeline', async () => {
    expect(await builtinEndpoint({ health: usable(1) }, s, '/v1/models', 'r')).toBeUndefined();
    expect(await builtinEndpoint({ health: usable(1) }, s, '/v1/chat/completions', 'r')).toBeUndefined();
  });
});
