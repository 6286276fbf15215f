import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import type { HttpResponseInit } from '@azure/functions';
import { validateConfig } from '../../shared/config/load-config.js';
import { hashApiKey } from '../../shared/core/governance/hash-api-key.js';
import { startSimulator } from '../../simulator/simulator.js';
import { createFunctionsHost, setFunctionsHost, type FunctionsHost } from '../bridge/runtime.js';
import { captureRegistrations, capturedFunction, type CapturedFunction } from './capture-registrations.js';

// `@azure/functions` is a bundled CommonJS module whose classes Node's ESM loader cannot name-import.
const { HttpRequest, InvocationContext } = createRequire(import.meta.url)(
  '@azure/functions',
) as typeof import('@azure/functions');

/**
 * The Functions smoke test (CI). NOT the Functions host: it loads `functions/index.js` with
 * `@azure/functions` registrations captured (see `captureRegistrations`), serves the captured HTTP
 * triggers from a loopback `node:http` server on port 0 with a minimal router over their route templates
 * (request bodies buffered — the real host streams them), and calls the Service Bus and timer handlers
 * itself with a memory queue standing in for Service Bus. Durable orchestration is off here (no durable
 * backend); its replay tests cover it. What it proves: the registered handlers, their routes and the
 * bridges work end to end against the simulator over real HTTP.
 */

/** One check's result. */
export interface SmokeCheck {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
}

const USER_KEY = 'smoke-user-key-0123456789';
const ADMIN_KEY = 'smoke-admin-key-0123456789';

/** Runs every check; never throws for a failed check (it is reported). */
export async function runFunctionsSmoke(): Promise<SmokeCheck[]> {
  const functions = captureRegistrations();
  await import('../index.js');
  const sim = await startSimulator({ name: 'sim', port: 0 });
  const validated = validateConfig({
    backends: [{ id: 'sim', url: sim.url, kind: 'openai', probe: { path: '/_sim/health' } }],
    pools: [{ id: 'main', backends: ['sim'] }],
    routes: [{ id: 'chat', match: { models: ['*'] }, pool: 'main' }],
    governance: {
      identity: {
        apiKeys: {
          enabled: true,
          keys: [{ id: 'smoke', sha256: hashApiKey(USER_KEY), profile: 'batch', userId: 'smoke' }],
        },
      },
      profiles: [{ id: 'batch', tier: 'batch', async: { allowed: true } }],
      admin: { keys: [{ id: 'ops', sha256: hashApiKey(ADMIN_KEY) }] },
    },
    async: { syncWaitMs: 200 },
  });
  if (!validated.ok) throw new Error(`smoke config invalid:\n${validated.issues.join('\n')}`);
  const host = createFunctionsHost(
    {
      ...process.env,
      GATEWAY_FUNCTIONS__STORES: 'memory',
      GATEWAY_FUNCTIONS__DURABLE_JOBS: 'false',
      GATEWAY_FUNCTIONS__LEDGER_REPORT_INTERVAL_MS: '0',
    },
    { config: validated.config },
  );
  setFunctionsHost(host);
  const server = await serve([...functions.values()].filter((f) => f.trigger.type === 'httpTrigger'));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const checks: SmokeCheck[] = [];
  const check = async (name: string, run: () => Promise<string>): Promise<void> => {
    try {
      checks.push({ name, ok: true, detail: await run() });
    } catch (error) {
      checks.push({ name, ok: false, detail: error instanceof Error ? error.message : String(error) });
    }
  };
  const expectStatus = (response: Response, status: number): void => {
    if (response.status !== status)
      throw new Error(
        `expected ${status}, got ${response.status} ${response.headers.get('x-gateway-error-code') ?? ''}`,
      );
  };
  const chat = (extra: Record<string, unknown> = {}, headers: Record<string, string> = {}): Promise<Response> =>
    fetch(`${base}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'api-key': USER_KEY, ...headers },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }], ...extra }),
    });

  try {
    await check('health: /health/live and /health/ready', async () => {
      expectStatus(await fetch(`${base}/health/live`), 200);
      expectStatus(await fetch(`${base}/health/ready`), 200);
      return 'live, ready';
    });
    await check('proxy: chat completion through the engine', async () => {
      const response = await chat();
      expectStatus(response, 200);
      const body = (await response.json()) as { choices?: unknown[] };
      if (body.choices?.length !== 1) throw new Error('no choice in the answer');
      return `request ${response.headers.get('x-gateway-request-id') ?? '?'}`;
    });
    await check('proxy: streamed chat completion ends with [DONE]', async () => {
      const response = await chat({ stream: true });
      expectStatus(response, 200);
      const text = await response.text();
      if (!text.trimEnd().endsWith('data: [DONE]')) throw new Error('stream did not end with [DONE]');
      return `${text.length} bytes of SSE`;
    });
    await check('admin: status needs the admin key', async () => {
      const denied = await fetch(`${base}/admin/status`);
      if (denied.status < 400) throw new Error(`admin answered ${denied.status} without a key`);
      expectStatus(await fetch(`${base}/admin/status`, { headers: { 'x-gateway-admin-key': ADMIN_KEY } }), 200);
      return `without key ${denied.status}`;
    });
    await check('async → 202 → longCallWorker runs it → jobs returns the result', async () => {
      const accepted = await chat({}, { 'x-gateway-async': 'true', 'x-sim-fault': 'latency-ms=600' });
      expectStatus(accepted, 202);
      const location = accepted.headers.get('location') ?? '';
      const delivered = await drainQueue(host, capturedFunction('longCallWorker'));
      const status = (await (await fetch(`${base}${location}`, { headers: { 'api-key': USER_KEY } })).json()) as {
        status: string;
      };
      if (status.status !== 'succeeded') throw new Error(`job is ${status.status}`);
      const result = await fetch(`${base}${location}/result`, { headers: { 'api-key': USER_KEY } });
      expectStatus(result, 200);
      return `${delivered} delivery, ${location}`;
    });
    await check('timers: healthProbe and retention run', async () => {
      const timer = {
        isPastDue: false,
        schedule: { adjustForDST: false },
        scheduleStatus: { last: '', next: '', lastUpdated: '' },
      };
      await capturedFunction('healthProbe').handler(
        timer,
        new InvocationContext({ functionName: 'healthProbe', logHandler: () => undefined }),
      );
      await capturedFunction('retention').handler(
        timer,
        new InvocationContext({ functionName: 'retention', logHandler: () => undefined }),
      );
      const probe = host.runtime.health.snapshot('sim') as { lastProbe?: { ok: boolean } };
      if (probe.lastProbe?.ok !== true) throw new Error(`probe not recorded: ${JSON.stringify(probe)}`);
      return 'probe recorded';
    });
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    setFunctionsHost(undefined);
    await host.runtime.close();
    await sim.close();
  }
  return checks;
}

/** Delivers queued job messages to the `longCallWorker` handler the way the host would, settling on the memory queue. */
async function drainQueue(host: FunctionsHost, worker: CapturedFunction): Promise<number> {
  let delivered = 0;
  for (let round = 0; round < 20; round++) {
    const messages = await host.jobQueue.receive(8, 60_000);
    if (messages.length === 0) return delivered;
    for (const m of messages) {
      delivered++;
      const context = new InvocationContext({
        functionName: 'longCallWorker',
        logHandler: () => undefined,
        triggerMetadata: { deliveryCount: m.deliveryCount, messageId: m.message.jobId, applicationProperties: {} },
      });
      try {
        await worker.handler(JSON.parse(JSON.stringify(m.message)), context);
        await host.jobQueue.complete(m.lockToken);
      } catch {
        await host.jobQueue.abandon(m.lockToken);
      }
    }
  }
  return delivered;
}

/** A loopback server that routes to the captured HTTP triggers by their route templates (most literal segments first). */
async function serve(triggers: readonly CapturedFunction[]): Promise<Server> {
  const routes = triggers
    .map((f) => ({
      f,
      template: String(f.trigger['route'] ?? f.name),
      methods: (f.trigger['methods'] as string[] | undefined) ?? ['GET', 'POST'],
    }))
    .sort((a, b) => literalCount(b.template) - literalCount(a.template));
  const server = createServer((req, res) => void handle(req, res));
  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const path = url.pathname.replace(/^\//, '');
      const match = routes
        .map((r) => ({ r, params: matchRoute(r.template, path) }))
        .find((m) => m.params !== undefined && m.r.methods.includes(req.method ?? 'GET'));
      if (match === undefined) {
        res.writeHead(404).end();
        return;
      }
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(req.headers))
        if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
      const request = new HttpRequest({
        method: req.method ?? 'GET',
        url: url.href,
        headers,
        params: match.params!,
        query: Object.fromEntries(url.searchParams),
        ...(chunks.length === 0 ? {} : { body: { bytes: Buffer.concat(chunks) } }),
      });
      const init = (await match.r.f.handler(
        request,
        new InvocationContext({ functionName: match.r.f.name, logHandler: () => undefined }),
      )) as HttpResponseInit;
      res.writeHead(init.status ?? 200, init.headers as Record<string, string> | undefined);
      const body = init.body as AsyncIterable<Uint8Array> | string | undefined;
      if (typeof body === 'string') res.write(body);
      else if (body !== undefined && body !== null) for await (const chunk of body) res.write(chunk);
      res.end();
    } catch (error) {
      res.writeHead(500).end(error instanceof Error ? error.message : String(error));
    }
  }
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

function literalCount(template: string): number {
  return template.split('/').filter((s) => !s.startsWith('{')).length;
}

/** Matches `a/{x}/{*rest}` templates; `undefined` when the path does not match. */
function matchRoute(template: string, path: string): Record<string, string> | undefined {
  const parts = template.split('/');
  const segments = path === '' ? [] : path.split('/');
  const params: Record<string, string> = {};
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    const catchAll = /^\{\*(\w+)\}$/.exec(part);
    if (catchAll !== null) {
      params[catchAll[1]!] = segments.slice(i).join('/');
      return params;
    }
    const segment = segments[i];
    if (segment === undefined) return undefined;
    const param = /^\{(\w+)\}$/.exec(part);
    if (param !== null) params[param[1]!] = decodeURIComponent(segment);
    else if (part.toLowerCase() !== segment.toLowerCase()) return undefined;
  }
  return segments.length === parts.length ? params : undefined;
}
