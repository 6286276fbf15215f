import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { QueueClient } from '@azure/storage-queue';
import { hashApiKey } from '../../shared/core/governance/hash-api-key.js';
import { startSimulator } from '../../simulator/simulator.js';
import { serveApp, type AppProcess } from './app-process.js';

/**
 * The Functions smoke checks, driven against an app folder — in CI the unpacked deployment package
 * (package.test.ts), by hand `.package/` (`npm run smoke:functions`). NOT the Functions host: the app is
 * loaded in a process of its own by `load-app.mjs`, its HTTP triggers served on a loopback port with a
 * minimal router over their route templates (request bodies buffered — the real host streams them), and
 * the parent plays the host's part for the other triggers: it receives the long-call messages from the
 * Azure Storage queue on Azurite and invokes `longCallWorker` with the trigger metadata the host passes,
 * deleting a message when the function returns; it invokes both timers. What it proves: the registered
 * handlers of exactly this build, their routes, bindings' settings and the bridges, against the simulator
 * over real HTTP and real storage, under the app settings given (`func start`'s by default).
 */

/** One check's result. */
export interface SmokeCheck {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
}

/** Options of {@link runFunctionsSmoke}. */
export interface FunctionsSmokeOptions {
  /** The app folder (package.json `main`, host.json, node_modules). */
  readonly appRoot: string;
  /** The app settings (`local.settings.sample.json` Values, with Azurite's connection string). */
  readonly settings: Readonly<Record<string, string>>;
  /** `AzureWebJobsStorage` (Azurite) — the long-call queue is read from it as the host would. */
  readonly storageConnectionString: string;
  /** Path of the admin API's status endpoint. */
  readonly adminStatusPath?: string;
}

const USER_KEY = 'smoke-user-key-0123456789';
const ADMIN_KEY = 'smoke-admin-key-0123456789';

/** The gateway configuration the checks run under: the simulator as the one backend, a key for each role. */
function smokeConfig(simulatorUrl: string): Record<string, unknown> {
  return {
    backends: [{ id: 'sim', url: simulatorUrl, kind: 'openai', probe: { path: '/_sim/health' } }],
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
  };
}

/** Runs every check; never throws for a failed check (it is reported). */
export async function runFunctionsSmoke(options: FunctionsSmokeOptions): Promise<SmokeCheck[]> {
  const sim = await startSimulator({ name: 'sim', port: 0 });
  const dir = mkdtempSync(join(tmpdir(), 'gw-smoke-'));
  const configFile = join(dir, 'gateway.config.json');
  writeFileSync(configFile, JSON.stringify(smokeConfig(sim.url)));
  const queueName = `smoke-jobs-${process.pid}-${Date.now()}`;
  let app: AppProcess | undefined;
  try {
    app = await serveApp(options.appRoot, {
      ...options.settings,
      AzureWebJobsStorage: options.storageConnectionString,
      GATEWAY_CONFIG_FILE: configFile,
      GATEWAY_FUNCTIONS__JOB_QUEUE: queueName,
    });
    const queue = new QueueClient(options.storageConnectionString, queueName);
    return await checks(app, queue, options.adminStatusPath ?? '/gateway/admin/status');
  } finally {
    await app?.close();
    await sim.close();
    await new QueueClient(options.storageConnectionString, queueName).deleteIfExists().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** What every smoke check gets: the app, its URL, the job queue, and a chat call as the smoke user. */
interface SmokeContext {
  readonly app: AppProcess;
  readonly base: string;
  readonly queue: QueueClient;
  readonly adminStatusPath: string;
  chat(extra?: Record<string, unknown>, headers?: Record<string, string>): Promise<Response>;
}

/** One check: its name, and a run that returns what it saw or throws what went wrong. */
interface Smoke {
  name(ctx: SmokeContext): string;
  run(ctx: SmokeContext): Promise<string>;
}

async function checks(app: AppProcess, queue: QueueClient, adminStatusPath: string): Promise<SmokeCheck[]> {
  const base = app.url;
  const chat = (extra: Record<string, unknown> = {}, headers: Record<string, string> = {}): Promise<Response> =>
    fetch(`${base}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'api-key': USER_KEY, ...headers },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }], ...extra }),
    });
  const ctx: SmokeContext = { app, base, queue, adminStatusPath, chat };
  const results: SmokeCheck[] = [];
  for (const smoke of SMOKES) {
    const name = smoke.name(ctx);
    try {
      results.push({ name, ok: true, detail: await smoke.run(ctx) });
    } catch (error) {
      results.push({ name, ok: false, detail: error instanceof Error ? error.message : String(error) });
    }
  }
  return results;
}

const SMOKES: readonly Smoke[] = [
  {
    name: () => 'health: /health/live and /health/ready',
    run: async ({ base }) => {
      expectStatus(await fetch(`${base}/health/live`), 200);
      expectStatus(await fetch(`${base}/health/ready`), 200);
      return 'live, ready';
    },
  },
  {
    name: () => 'proxy: chat completion through the engine',
    run: async ({ chat }) => {
      const response = await chat();
      expectStatus(response, 200);
      const body = (await response.json()) as { choices?: unknown[] };
      if (body.choices?.length !== 1) throw new Error('no choice in the answer');
      return `request ${response.headers.get('x-gateway-request-id') ?? '?'}`;
    },
  },
  {
    name: () => 'proxy: streamed chat completion ends with [DONE]',
    run: async ({ chat }) => {
      const response = await chat({ stream: true });
      expectStatus(response, 200);
      const text = await response.text();
      if (!text.trimEnd().endsWith('data: [DONE]')) throw new Error('stream did not end with [DONE]');
      return `${text.length} bytes of SSE`;
    },
  },
  {
    name: ({ adminStatusPath }) => `admin: ${adminStatusPath} needs the admin key`,
    run: async ({ base, adminStatusPath }) => {
      const denied = await fetch(`${base}${adminStatusPath}`);
      if (denied.status < 400) throw new Error(`admin answered ${denied.status} without a key`);
      expectStatus(await fetch(`${base}${adminStatusPath}`, { headers: { 'x-gateway-admin-key': ADMIN_KEY } }), 200);
      return `without key ${denied.status}`;
    },
  },
  { name: () => 'async → 202 → Storage queue → longCallWorker runs it → jobs returns the result', run: asyncJobSmoke },
  { name: () => 'timers: healthProbe and retention run', run: timersSmoke },
];

async function asyncJobSmoke({ app, base, queue, chat }: SmokeContext): Promise<string> {
  const accepted = await chat({}, { 'x-gateway-async': 'true', 'x-sim-fault': 'latency-ms=600' });
  expectStatus(accepted, 202);
  const location = accepted.headers.get('location') ?? '';
  const delivered = await deliverJobs(app, queue);
  const status = (await (await fetch(`${base}${location}`, { headers: { 'api-key': USER_KEY } })).json()) as {
    status: string;
  };
  if (status.status !== 'succeeded') throw new Error(`job is ${status.status}`);
  expectStatus(await fetch(`${base}${location}/result`, { headers: { 'api-key': USER_KEY } }), 200);
  return `${delivered} delivery, ${location}`;
}

async function timersSmoke({ app, base, adminStatusPath }: SmokeContext): Promise<string> {
  const timer = { isPastDue: false, schedule: { adjustForDST: false } };
  await app.invoke('healthProbe', timer);
  await app.invoke('retention', timer);
  const status = await fetch(`${base}${adminStatusPath}`, { headers: { 'x-gateway-admin-key': ADMIN_KEY } });
  const body = (await status.json()) as { backends: { id: string; lastProbe?: { ok: boolean } }[] };
  if (body.backends[0]?.lastProbe?.ok !== true) throw new Error(`probe not recorded: ${JSON.stringify(body)}`);
  return 'probe recorded';
}

/**
 * Plays the Functions host's Storage queue trigger: receives each message, invokes `longCallWorker` with
 * the parsed body and the trigger metadata the host passes, deletes the message when it returns and makes it
 * visible again when it throws. Bounded: stops when the queue is empty or after 20 rounds.
 */
async function deliverJobs(app: AppProcess, queue: QueueClient): Promise<number> {
  let delivered = 0;
  for (let round = 0; round < 20; round++) {
    const { receivedMessageItems } = await queue.receiveMessages({ numberOfMessages: 8, visibilityTimeout: 60 });
    if (receivedMessageItems.length === 0) return delivered;
    for (const m of receivedMessageItems) {
      delivered++;
      const body = JSON.parse(Buffer.from(m.messageText, 'base64').toString('utf8')) as unknown;
      try {
        await app.invoke('longCallWorker', body, {
          dequeueCount: m.dequeueCount,
          id: m.messageId,
          popReceipt: m.popReceipt,
        });
        await queue.deleteMessage(m.messageId, m.popReceipt);
      } catch {
        await queue.updateMessage(m.messageId, m.popReceipt, undefined, 0);
      }
    }
  }
  return delivered;
}

function expectStatus(response: Response, status: number): void {
  if (response.status !== status)
    throw new Error(`expected ${status}, got ${response.status} ${response.headers.get('x-gateway-error-code') ?? ''}`);
}
