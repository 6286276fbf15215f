import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { buildFunctionsHost } from './runtime.js';
import { readFunctionsSettings } from './functions-settings.js';

describe('buildFunctionsHost', () => {
  let close: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await close?.();
    close = undefined;
  });

  it('keeps GATEWAY_FUNCTIONS__* settings out of the engine config; builds memory stores on request', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'gw-fn-')), 'gateway.config.json');
    writeFileSync(file, '{}');
    const host = await buildFunctionsHost({
      GATEWAY_CONFIG_FILE: file,
      GATEWAY_ASYNC__MAX_DELIVERIES: '3',
      GATEWAY_FUNCTIONS__STORES: 'memory',
      GATEWAY_FUNCTIONS__DURABLE_ALL_REQUESTS: 'true',
    });
    close = () => host.runtime.close();
    expect(host.settings).toMatchObject({
      stores: 'memory',
      durableAllRequests: true,
      durableJobs: true,
      jobQueue: 'gateway-jobs',
    });
    expect(host.runtime.config().async.maxDeliveries).toBe(3);
  });

  it('refuses a production configuration with no caller identity', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'gw-fn-')), 'gateway.config.json');
    writeFileSync(file, JSON.stringify({ server: { mode: 'production' } }));
    await expect(
      buildFunctionsHost({ GATEWAY_CONFIG_FILE: file, GATEWAY_FUNCTIONS__STORES: 'memory' }),
    ).rejects.toThrow(/refused/);
  });

  it('refuses an invalid configuration with every problem listed', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'gw-fn-')), 'gateway.config.json');
    writeFileSync(file, JSON.stringify({ server: { port: 'x' }, routes: [{ id: 'r' }] }));
    await expect(
      buildFunctionsHost({ GATEWAY_CONFIG_FILE: file, GATEWAY_FUNCTIONS__STORES: 'memory' }),
    ).rejects.toThrow(/server\.port[\s\S]*routes/);
  });
});

describe('readFunctionsSettings', () => {
  it('reads defaults and overrides', () => {
    expect(readFunctionsSettings({})).toEqual({
      stores: 'azure',
      jobTransport: 'storage-queue',
      durableJobs: true,
      durableAllRequests: false,
      ledgerReportIntervalMs: undefined,
      jobQueue: 'gateway-jobs',
      durableAllMaxBodyBytes: 1_048_576,
      configSource: 'file',
      appConfigPrefix: 'gateway:',
      appConfigLabel: undefined,
      appConfigPollIntervalMs: 30_000,
    });
    expect(
      readFunctionsSettings({
        GATEWAY_FUNCTIONS__CONFIG_SOURCE: 'app-configuration',
        GATEWAY_FUNCTIONS__APPCONFIG_LABEL: 'prod',
      }),
    ).toMatchObject({ configSource: 'app-configuration', appConfigLabel: 'prod' });
    expect(
      readFunctionsSettings({
        GATEWAY_FUNCTIONS__DURABLE_JOBS: 'false',
        GATEWAY_FUNCTIONS__LEDGER_REPORT_INTERVAL_MS: '0',
      }),
    ).toMatchObject({ durableJobs: false, ledgerReportIntervalMs: 0 });
  });

  it('puts long calls on Service Bus when its connection is set, else on a Storage queue, or as told', () => {
    const transport = (env: Record<string, string>) => readFunctionsSettings(env).jobTransport;
    expect(transport({})).toBe('storage-queue');
    expect(transport({ ServiceBusConnection: '' })).toBe('storage-queue');
    expect(transport({ ServiceBusConnection: 'Endpoint=sb://localhost;UseDevelopmentEmulator=true' })).toBe(
      'service-bus',
    );
    expect(transport({ ServiceBusConnection__fullyQualifiedNamespace: 'gw.servicebus.windows.net' })).toBe(
      'service-bus',
    );
    expect(
      transport({
        ServiceBusConnection__fullyQualifiedNamespace: 'gw.servicebus.windows.net',
        GATEWAY_FUNCTIONS__JOB_TRANSPORT: 'storage-queue',
      }),
    ).toBe('storage-queue');
  });

  it('keeps in-process jobs off the orchestration, and names the values of a wrong transport', () => {
    expect(
      readFunctionsSettings({
        GATEWAY_FUNCTIONS__JOB_TRANSPORT: 'in-process',
        GATEWAY_FUNCTIONS__DURABLE_JOBS: 'true',
      }),
    ).toMatchObject({ jobTransport: 'in-process', durableJobs: false });
    expect(() => readFunctionsSettings({ GATEWAY_FUNCTIONS__JOB_TRANSPORT: 'kafka' })).toThrow(
      /service-bus, storage-queue, in-process/,
    );
  });
});
