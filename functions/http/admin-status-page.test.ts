import { HttpRequest, InvocationContext, type HttpResponseInit } from '@azure/functions';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateConfig } from '../../shared/config/load-config.js';
import { STATUS_PAGE_PATH } from '../../shared/core/admin/admin-api.js';
import { hashApiKey } from '../../shared/core/governance/hash-api-key.js';
import { startSimulator, type RunningSimulator } from '../../simulator/simulator.js';
import { openBrowser } from '../../test/support/browser.js';
import { createFunctionsHost, setFunctionsHost, type FunctionsHost } from '../bridge/runtime.js';
import { admin } from './admin.js';

const ADMIN_KEY = 'functions-page-admin-key';
const FUNCTION_KEY = 'functions-page-function-key';

/**
 * The Functions host's part, as it treats an `authLevel: 'function'` trigger: refuses 401 without the
 * function key (`x-functions-key` or `?code=`), otherwise invokes the `admin` handler directly. Records
 * what each request carried.
 */
function functionsFront(seen: { path: string; functionKey: string | undefined; query: string }[]): Server {
  return createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const functionKey = req.headers['x-functions-key'] as string | undefined;
    seen.push({ path: url.pathname, functionKey, query: url.search });
    if (functionKey !== FUNCTION_KEY && url.searchParams.get('code') !== FUNCTION_KEY) {
      res.writeHead(401).end();
      return;
    }
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) if (typeof value === 'string') headers[name] = value;
    const request = new HttpRequest({ method: req.method ?? 'GET', url: url.href, headers });
    void admin(request, new InvocationContext({ functionName: 'admin', invocationId: 'page' })).then((init) =>
      write(res, init),
    );
  });
}

async function write(res: ServerResponse, init: HttpResponseInit): Promise<void> {
  const headers = new Headers(init.headers as ConstructorParameters<typeof Headers>[0]);
  res.writeHead(init.status ?? 200, Object.fromEntries(headers));
  const body = init.body as AsyncIterable<Uint8Array> | string | undefined;
  if (typeof body === 'string') res.write(body);
  else if (body !== undefined) for await (const chunk of body) res.write(chunk);
  res.end();
}

describe('the status page on the Functions app (admin trigger, authLevel function)', () => {
  let sim: RunningSimulator;
  let host: FunctionsHost;
  let front: Server;
  let browser: Awaited<ReturnType<typeof openBrowser>>;
  const seen: { path: string; functionKey: string | undefined; query: string }[] = [];

  beforeAll(async () => {
    sim = await startSimulator({ name: 'sim', port: 0 });
    const config = validateConfig({
      backends: [{ id: 'sim', url: sim.url, kind: 'openai' }],
      pools: [{ id: 'main', backends: ['sim'] }],
      routes: [{ id: 'all', match: { models: ['*'] }, pool: 'main' }],
      governance: {
        identity: { anonymous: { allowed: true } },
        admin: { keys: [{ id: 'ops', sha256: hashApiKey(ADMIN_KEY) }] },
      },
      usage: { ledger: { kind: 'memory' } },
    });
    if (!config.ok) throw new Error(config.issues.join('\n'));
    host = createFunctionsHost(
      {
        GATEWAY_FUNCTIONS__STORES: 'memory',
        GATEWAY_FUNCTIONS__DURABLE_JOBS: 'false',
        GATEWAY_FUNCTIONS__LEDGER_REPORT_INTERVAL_MS: '0',
      },
      { config: config.config },
    );
    setFunctionsHost(host);
    front = functionsFront(seen);
    await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
    browser = await openBrowser();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    front?.close();
    setFunctionsHost(undefined);
    await host?.runtime.close();
    await sim?.close();
  });

  it('opens with ?code=<function key>, keeps it in the tab, sends it as x-functions-key, shows the data', async () => {
    const base = `http://127.0.0.1:${(front.address() as AddressInfo).port}`;
    const page = await browser.context.newPage();
    const opened = await page.goto(`${base}${STATUS_PAGE_PATH}?code=${FUNCTION_KEY}`);
    expect(opened?.status()).toBe(200);
    // The key leaves the address bar at once (it would otherwise stay in history and be copied with the URL).
    expect(page.url()).toBe(`${base}${STATUS_PAGE_PATH}`);
    expect(await page.evaluate(() => sessionStorage.getItem('gateway-functions-key'))).toBe(FUNCTION_KEY);
    await page.fill('#key', ADMIN_KEY);
    await page.click('#login button[type=submit]');
    await page.waitForSelector('tr[data-backend="sim"]');
    const live = seen.filter((s) => s.path.endsWith('/status/live'));
    expect(live.length).toBeGreaterThan(0);
    for (const request of live) expect(request).toMatchObject({ functionKey: FUNCTION_KEY, query: '' });

    // "forget key" drops both keys: the next poll has neither.
    await page.click('#forget');
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
    await page.close();
  });

  it('is refused by the Functions host without the function key', async () => {
    const base = `http://127.0.0.1:${(front.address() as AddressInfo).port}`;
    expect((await fetch(`${base}${STATUS_PAGE_PATH}`)).status).toBe(401);
    const live = await fetch(`${base}${STATUS_PAGE_PATH.replace(/page$/, 'live')}`, {
      headers: { 'x-gateway-admin-key': ADMIN_KEY },
    });
    expect(live.status).toBe(401);
  });
});
