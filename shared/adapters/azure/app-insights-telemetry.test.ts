import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../../core/test-support/fake-clock.js';
import { createUsageRecord } from '../../core/usage/usage-record.js';
import {
  createAppInsightsTelemetry,
  type AppInsightsClientLike,
  type AppInsightsTelemetry,
} from './app-insights-telemetry.js';
import { recordUsageTelemetry } from '../../core/usage/usage-telemetry.js';
import { CaptureIngestionServer, type Envelope } from './test-support/capture-ingestion-server.js';
import { appInsightsCredential, parseAuthenticationString } from './app-insights-credential.js';
import type { AccessToken, TokenCredential } from '@azure/identity';

const IKEY = '00000000-0000-0000-0000-0000000000aa';

/** A credential that hands out a token naming the scope it was asked for, and records the scopes. */
class FakeCredential implements TokenCredential {
  readonly scopes: string[] = [];
  async getToken(scopes: string | string[]): Promise<AccessToken> {
    const scope = Array.isArray(scopes) ? scopes.join(' ') : scopes;
    this.scopes.push(scope);
    return { token: `token-for-${scope}`, expiresOnTimestamp: Date.now() + 3_600_000 };
  }
}

describe('AppInsightsTelemetry → loopback HTTPS ingestion endpoint', () => {
  const ingestion = new CaptureIngestionServer();
  let telemetry: AppInsightsTelemetry;
  const credential = new FakeCredential();
  const previousTls = process.env.NODE_TLS_REJECT_UNAUTHORIZED;

  beforeAll(async () => {
    const port = await ingestion.start();
    // Why: the exporter uses Node's https with default CA validation and offers no agent option in the
    // shim; accepting the self-signed loopback certificate is scoped to this test file's worker process.
    process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';
    telemetry = createAppInsightsTelemetry(
      {},
      {
        connectionString: `InstrumentationKey=${IKEY};IngestionEndpoint=https://127.0.0.1:${port}/`,
        disableOfflineStorage: true,
        credential,
      },
    );
  });

  afterAll(async () => {
    await telemetry?.shutdown();
    await ingestion.stop();
    if (previousTls === undefined) delete process.env.NODE_TLS_REJECT_UNAUTHORIZED;
    else process.env.NODE_TLS_REJECT_UNAUTHORIZED = previousTls;
  });

  const byType = (type: string): Envelope[] => ingestion.envelopes.filter((e) => e.data.baseType === type);

  it('delivers the per-request usage event, token and latency metrics, a dependency and an exception', async () => {
    const record = createUsageRecord(
      {
        requestId: 'req-42',
        httpStatus: 200,
        outcome: 'complete',
        caller: { userId: 'alice', tier: 'gold' },
        route: 'chat',
        api: 'openai-chat',
        modelRequested: 'gpt-4o',
        backend: { name: 'aoai-east', group: 'ptu' },
        tokens: {
          promptTokens: 100,
          completionTokens: 30,
          totalTokens: 130,
          cachedInputTokens: 0,
          cacheCreationTokens: 0,
          reasoningTokens: 0,
          servedModel: 'gpt-4o-2024-08-06',
          source: 'reported',
          promptSource: 'reported',
          completionSource: 'reported',
        },
        timings: { queueWaitMs: 3, ttfbMs: 80, totalMs: 400, overheadMs: 2 },
      },
      new FakeClock(Date.UTC(2026, 10, 1)),
    );
    recordUsageTelemetry(telemetry, record);
    telemetry.dependency({
      requestId: 'req-42',
      target: 'aoai-east',
      name: 'POST /openai/deployments/gpt-4o/chat/completions',
      durationMs: 120,
      status: 429,
      success: false,
      startedAtMs: Date.UTC(2026, 10, 1),
    });
    telemetry.exception(new Error('stream relay failed'), { requestId: 'req-42' });
    await telemetry.flush();
    await ingestion.until((all) =>
      ['EventData', 'MetricData', 'RemoteDependencyData', 'ExceptionData'].every((t) =>
        all.some((e) => e.data.baseType === t),
      ),
    );

    const [event] = byType('EventData');
    expect(event?.iKey).toBe(IKEY);
    expect(event?.data.baseData).toMatchObject({
      name: 'gateway.request',
      properties: {
        requestId: 'req-42',
        userId: 'alice',
        tier: 'gold',
        route: 'chat',
        modelServed: 'gpt-4o-2024-08-06',
        backend: 'aoai-east',
        backendGroup: 'ptu',
        httpStatus: '200',
        outcome: 'complete',
        stream: 'false',
      },
      measurements: { promptTokens: 100, completionTokens: 30, totalTokens: 130, totalMs: 400, ttfbMs: 80 },
    });
    const metrics = byType('MetricData').flatMap((e) =>
      (e.data.baseData.metrics ?? []).map((m) => ({ ...m, properties: e.data.baseData.properties })),
    );
    expect(metrics.find((m) => m.name === 'gateway.tokens.total')).toMatchObject({
      value: 130,
      count: 1,
      properties: { tier: 'gold', model: 'gpt-4o-2024-08-06', backend: 'aoai-east', group: 'ptu', outcome: 'complete' },
    });
    expect(metrics.find((m) => m.name === 'gateway.latency.ttfb_ms')).toMatchObject({ value: 80 });
    expect(byType('RemoteDependencyData')[0]?.data.baseData).toMatchObject({
      name: 'POST /openai/deployments/gpt-4o/chat/completions',
      target: 'aoai-east',
      resultCode: '429',
      success: false,
      type: 'Http',
      properties: { requestId: 'req-42', backend: 'aoai-east' },
    });
    expect(byType('ExceptionData')[0]?.data.baseData).toMatchObject({
      exceptions: [expect.objectContaining({ message: 'stream relay failed', typeName: 'Error' })],
      properties: { requestId: 'req-42' },
    });
    expect(telemetry.dropped).toBe(0);
  });

  it('authenticates every batch with the Entra ID credential (local authentication is disabled on Azure)', () => {
    expect(credential.scopes.length).toBeGreaterThan(0);
    expect(new Set(credential.scopes)).toEqual(new Set(['https://monitor.azure.com/.default']));
    expect(ingestion.authorizations.length).toBeGreaterThan(0);
    expect(new Set(ingestion.authorizations)).toEqual(new Set(['Bearer token-for-https://monitor.azure.com/.default']));
  });
});

describe('AppInsightsTelemetry loads the SDK on first use', () => {
  const recording = (calls: string[]): AppInsightsClientLike => ({
    trackEvent: (t) => void calls.push(`event ${t.name}`),
    trackMetric: (t) => void calls.push(`metric ${t.name}`),
    trackDependency: (t) => void calls.push(`dependency ${t.name}`),
    trackException: (t) => void calls.push(`exception ${t.exception.message}`),
    flush: async () => void calls.push('flush'),
    shutdown: async () => undefined,
  });

  it('does not load it until an item arrives, then sends what arrived meanwhile, in order', async () => {
    const calls: string[] = [];
    let loads = 0;
    let release: (client: AppInsightsClientLike) => void = () => undefined;
    const telemetry = createAppInsightsTelemetry(
      {
        loadClient: () => {
          loads++;
          return new Promise((resolve) => (release = resolve));
        },
      },
      { connectionString: 'InstrumentationKey=x' },
    );
    expect(loads).toBe(0);
    telemetry.event('first', {});
    telemetry.metric('second', 1);
    expect(loads).toBe(1);
    expect(calls).toEqual([]);
    release(recording(calls));
    await telemetry.flush();
    telemetry.exception(new Error('third'));
    expect(calls).toEqual(['event first', 'metric second', 'flush', 'exception third']);
    expect(loads).toBe(1);
    expect(telemetry.dropped).toBe(0);
  });

  it('keeps at most maxPendingItems while loading and counts the rest as dropped', async () => {
    const calls: string[] = [];
    const telemetry = createAppInsightsTelemetry(
      { loadClient: async () => recording(calls) },
      { connectionString: 'InstrumentationKey=x', maxPendingItems: 2 },
    );
    for (const name of ['a', 'b', 'c']) telemetry.event(name, {});
    await telemetry.flush();
    expect(calls).toEqual(['event a', 'event b', 'flush']);
    expect(telemetry.dropped).toBe(1);
  });

  it('drops and counts everything when the SDK cannot load, and never throws', async () => {
    const telemetry = createAppInsightsTelemetry(
      { loadClient: () => Promise.reject(new Error('no sdk')) },
      { connectionString: 'InstrumentationKey=x' },
    );
    telemetry.event('a', {});
    await telemetry.flush();
    telemetry.event('b', {});
    expect(telemetry.dropped).toBe(2);
  });

  it('refuses at once to be made without a connection string', () => {
    expect(() => createAppInsightsTelemetry({}, {})).toThrow(/APPLICATIONINSIGHTS_CONNECTION_STRING/);
  });
});

describe('appInsightsCredential (APPLICATIONINSIGHTS_AUTHENTICATION_STRING)', () => {
  it('reads the pairs the Functions host reads', () => {
    expect(Object.fromEntries(parseAuthenticationString('Authorization=AAD;ClientId=abc'))).toEqual({
      authorization: 'AAD',
      clientid: 'abc',
    });
  });

  it('names a managed identity for Authorization=AAD and nothing otherwise', () => {
    expect(appInsightsCredential('Authorization=AAD;ClientId=00000000-0000-0000-0000-000000000001')).toBeDefined();
    expect(appInsightsCredential('Authorization=AAD')).toBeDefined();
    expect(appInsightsCredential(undefined)).toBeUndefined();
    expect(appInsightsCredential('')).toBeUndefined();
    expect(appInsightsCredential('Authorization=Key')).toBeUndefined();
  });
});

describe('AppInsightsTelemetry never fails a request', () => {
  const throwing: AppInsightsClientLike = {
    trackEvent: () => {
      throw new Error('sdk broke');
    },
    trackMetric: () => {
      throw new Error('sdk broke');
    },
    trackDependency: () => {
      throw new Error('sdk broke');
    },
    trackException: () => {
      throw new Error('sdk broke');
    },
    flush: () => Promise.reject(new Error('export failed')),
    shutdown: () => Promise.resolve(),
  };

  it('swallows and counts SDK errors, and flush never rejects', async () => {
    const telemetry = createAppInsightsTelemetry({ client: throwing }, {});
    expect(() => {
      telemetry.event('e', { a: 1 });
      telemetry.metric('m', 1);
      telemetry.dependency({
        requestId: 'r',
        target: 't',
        name: 'n',
        durationMs: 1,
        status: undefined,
        success: false,
        startedAtMs: 0,
      });
      telemetry.exception('not an error');
    }).not.toThrow();
    expect(telemetry.dropped).toBe(4);
    await expect(telemetry.flush()).resolves.toBeUndefined();
    expect(telemetry.failedFlushes).toBe(1);
  });

  it('bounds a flush that hangs', async () => {
    const hanging: AppInsightsClientLike = { ...throwing, flush: () => new Promise(() => undefined) };
    const telemetry = createAppInsightsTelemetry({ client: hanging }, { flushTimeoutMs: 5 });
    await telemetry.flush();
    expect(telemetry.failedFlushes).toBe(1);
  });

  it('drops and counts items after shutdown', async () => {
    const calls: string[] = [];
    const client: AppInsightsClientLike = {
      ...throwing,
      trackEvent: (t) => void calls.push(t.name),
      flush: async () => undefined,
    };
    const telemetry = createAppInsightsTelemetry({ client }, {});
    telemetry.event('before', {});
    await telemetry.shutdown();
    telemetry.event('after', {});
    expect(calls).toEqual(['before']);
    expect(telemetry.dropped).toBe(1);
  });
});
