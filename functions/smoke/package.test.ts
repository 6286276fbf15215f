import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireAzurite } from '../../shared/adapters/azure/test-support/azurite.js';
import { FakeAppConfiguration } from '../../shared/adapters/azure/test-support/fake-app-configuration.js';
import { buildPackage, type PackageSummary } from '../../scripts/package/build-package.js';
import { loadApp, serveApp, type LoadReport, type RegisteredFunction } from './app-process.js';
import { hashApiKey } from '../../shared/core/governance/hash-api-key.js';
import { runFunctionsSmoke } from './functions-smoke.js';
import { reservedRoutePrefix } from './reserved-routes.js';

// The deployment package as a product (issue 11): built by the same code as `npm run package` (and azd's
// prepackage hook), copied into an empty folder, and loaded there in fresh Node processes under the app
// settings the template writes (infra/app-settings.json, which main.bicep loads) and under
// local.settings.sample.json's (`func start`). Not the Functions host: see load-app.mjs.

const repo = new URL('../../', import.meta.url).pathname;
const read = <T>(path: string): T => JSON.parse(readFileSync(join(repo, path), 'utf8')) as T;
const appSettings = read<{ settings: Record<string, string>; fromDeployment: Record<string, string> }>(
  'infra/app-settings.json',
);
const seed = read<{ keyValues: Record<string, unknown> }>('infra/app-config-seed.json');
const localSettings = read<{ Values: Record<string, string> }>('local.settings.sample.json').Values;
const hostJson = read<{ extensions: { durableTask: { storageProvider: { connectionName: string } } } }>('host.json');
const STARTER_KEY = 'gw-starter-key-made-by-the-preprovision-hook';
/** The deployed app settings, the deployment's values stood in for by the file's examples. */
const deployed = { ...appSettings.settings, ...appSettings.fromDeployment };

/** The function names docs/architecture.md lists in its table of functions. */
function documentedFunctions(): string[] {
  const doc = readFileSync(join(repo, 'docs/architecture.md'), 'utf8');
  const table = doc.split('| function (stable name')[1]?.split('\n\n')[0] ?? '';
  return table
    .split('\n')
    .slice(2)
    .flatMap((row) => [...(row.split('|')[1] ?? '').matchAll(/`(\w+)`/g)].map((m) => m[1]!));
}

const trigger = (f: RegisteredFunction) => Object.values(f.bindings).find((b) => /Trigger$/.test(b.type))!;

/** `%NAME%` settings and `connection` names the function's bindings refer to. */
function settingsNamed(f: RegisteredFunction): string[] {
  return Object.values(f.bindings).flatMap((b) => [
    ...Object.values(b).flatMap((v) => (typeof v === 'string' ? [...v.matchAll(/%(\w+)%/g)].map((m) => m[1]!) : [])),
    ...(typeof b['connection'] === 'string' ? [b['connection']] : []),
  ]);
}

/** A setting, or an identity-based connection's `NAME__*` settings, is present. */
const hasSetting = (settings: Record<string, string>, name: string): boolean =>
  name in settings || Object.keys(settings).some((key) => key.startsWith(`${name}__`));

let workDir: string;
let appRoot: string;
let summary: PackageSummary;
let asDeployed: LoadReport;
let asLocal: LoadReport;

beforeAll(async () => {
  workDir = mkdtempSync(join(tmpdir(), 'gw-package-'));
  summary = buildPackage({ root: repo, outDir: join(workDir, 'built') });
  // "Unpack" into an empty folder: nothing outside it (the repository, its node_modules) can be reached.
  appRoot = join(workDir, 'unpacked');
  cpSync(summary.outDir, appRoot, { recursive: true, verbatimSymlinks: true });
  rmSync(summary.outDir, { recursive: true, force: true });
  [asDeployed, asLocal] = await Promise.all([loadApp(appRoot, deployed), loadApp(appRoot, localSettings)]);
}, 900_000);

afterAll(() => {
  if (workDir !== undefined) rmSync(workDir, { recursive: true, force: true });
}, 300_000);

describe('the deployment package', () => {
  it('holds the app, host.json and production dependencies only', () => {
    const manifest = JSON.parse(readFileSync(join(appRoot, 'package.json'), 'utf8')) as Record<string, unknown>;
    expect(Object.keys(manifest)).not.toContain('devDependencies');
    expect(Object.keys(manifest)).not.toContain('scripts');
    expect(manifest['main']).toBe('dist/functions/index.js');
    // Dev-only packages stay out; a devDependency a production package also needs (@types/node) is in, as
    // `npm ci --omit=dev` would have it.
    const lock = read<{ packages: Record<string, { dev?: boolean }> }>('package-lock.json').packages;
    const devOnly = Object.keys(lock).filter((path) => lock[path]!.dev === true);
    expect(devOnly).toEqual(expect.arrayContaining(['node_modules/vitest', 'node_modules/typescript']));
    expect(devOnly.filter((path) => existsSync(join(appRoot, path, 'package.json')))).toEqual([]);
    const production = Object.keys(lock).filter((path) => path !== '' && lock[path]!.dev !== true);
    expect(production.filter((path) => !existsSync(join(appRoot, path, 'package.json')))).toEqual([]);
    for (const path of ['dist/simulator/main.js', 'dist/functions/smoke/main.js', 'dist/scripts/package/main.js'])
      expect(existsSync(join(appRoot, path)), path).toBe(false);
    expect(summary.files).toBeGreaterThan(1_000);
  });

  it('registers every function the docs list, under the deployed settings and under func start’s', () => {
    const documented = documentedFunctions();
    expect(documented).toContain('proxy');
    expect(asDeployed.functions.map((f) => f.name).sort()).toEqual([...documented].sort());
    expect(asLocal.functions.map((f) => f.name).sort()).toEqual([...documented].sort());
  });

  it('takes long calls from Service Bus as deployed, from a Storage queue under func start', () => {
    const worker = (report: LoadReport) => trigger(report.functions.find((f) => f.name === 'longCallWorker')!);
    expect(worker(asDeployed)).toMatchObject({ type: 'serviceBusTrigger', connection: 'ServiceBusConnection' });
    expect(worker(asLocal)).toMatchObject({ type: 'queueTrigger', connection: 'AzureWebJobsStorage' });
  });

  it('claims no HTTP route the Functions host reserves for itself', () => {
    for (const report of [asDeployed, asLocal])
      for (const f of report.functions) {
        const t = trigger(f);
        if (t.type === 'httpTrigger') expect(reservedRoutePrefix(String(t['route'] ?? f.name)), f.name).toBeUndefined();
      }
  });

  it('names only settings that exist, in the deployed app settings and in local.settings.sample.json', () => {
    const durable = hostJson.extensions.durableTask.storageProvider.connectionName;
    for (const [report, settings] of [
      [asDeployed, deployed],
      [asLocal, localSettings],
    ] as const) {
      const named = [...new Set([durable, ...report.functions.flatMap(settingsNamed)])];
      expect(named.filter((name) => !hasSetting(settings, name))).toEqual([]);
      expect(named.filter((name) => !hasSetting(localSettings, name))).toEqual([]);
    }
  });

  it('loads no SDK, telemetry, tokenizer or durable engine while the host indexes it', () => {
    for (const heavy of [
      'applicationinsights',
      'durable-functions',
      'js-tiktoken',
      'undici',
      'zod',
      '@azure/identity',
      '@azure/service-bus',
      '@azure/storage-blob',
      '@azure/storage-queue',
      '@azure/data-tables',
      '@azure/app-configuration',
    ])
      expect(asDeployed.packages).not.toContain(heavy);
    expect(asDeployed.packages).toContain('@azure/functions');
  });
});

describe('the deployment package, running', () => {
  it('resolves a valid gateway configuration from the deployed settings and the seeded App Configuration', async () => {
    const store = new FakeAppConfiguration();
    const endpoint = 'https://example-openai.openai.azure.com/';
    for (const [key, value] of Object.entries(seed.keyValues))
      store.set({
        key,
        label: null,
        value: JSON.stringify(value)
          .replaceAll('__AZURE_OPENAI_ENDPOINT__', endpoint)
          .replaceAll('__STARTER_KEY_SHA256__', hashApiKey(STARTER_KEY)),
        contentType: 'application/json',
      });
    const connection = await store.start();
    // Only what cannot be reached from here is replaced: Storage (Azurite) and App Configuration (the fake,
    // holding the seed main.bicep writes) by connection strings; telemetry off (no ingestion endpoint here).
    const app = await serveApp(appRoot, {
      ...deployed,
      AzureWebJobsStorage: requireAzurite().connectionString,
      AppConfigConnection: connection,
      APPLICATIONINSIGHTS_CONNECTION_STRING: '',
    });
    try {
      const ready = await fetch(`${app.url}/health/ready`);
      const text = await ready.text();
      expect(ready.status, text).toBe(200);
      const body = JSON.parse(text) as Record<string, unknown>;
      expect(body).toMatchObject({ status: 'ready', backends: { configured: 1 } });
      expect(store.requests.some((r) => r.startsWith('GET /kv'))).toBe(true);
      // Production mode, API keys on: a caller without the starter key (or a key added since) is refused.
      const call = await fetch(`${app.url}/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'api-key': 'not-a-key' },
        body: '{"messages":[]}',
      });
      expect(call.status).toBe(401);
    } finally {
      await app.close();
      await store.stop();
    }
  }, 300_000);

  it('passes the Functions smoke checks under func start’s settings, against the simulator and Azurite', async () => {
    const checks = await runFunctionsSmoke({
      appRoot,
      settings: localSettings,
      storageConnectionString: requireAzurite().connectionString,
    });
    expect(checks.filter((c) => !c.ok)).toEqual([]);
    expect(checks).toHaveLength(6);
  }, 300_000);
});
