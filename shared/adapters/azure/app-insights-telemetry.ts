import type { TokenCredential } from '@azure/identity';
import type { Telemetry, TelemetryDependency } from '../../ports/telemetry.js';
import { LazyAppInsightsClient } from './lazy-app-insights-client.js';

/** The calls of the `applicationinsights` v3 `TelemetryClient` the adapter makes (a seam for tests). */
export interface AppInsightsClientLike {
  trackEvent(telemetry: {
    name: string;
    properties?: Record<string, string>;
    measurements?: Record<string, number>;
  }): void;
  trackMetric(telemetry: { name: string; value: number; properties?: Record<string, string> }): void;
  trackDependency(telemetry: {
    name: string;
    data: string;
    target: string;
    duration: number;
    resultCode: string | number;
    success: boolean;
    dependencyTypeName: string;
    time: Date;
    properties?: Record<string, string>;
  }): void;
  trackException(telemetry: { exception: Error; properties?: Record<string, string> }): void;
  flush(): Promise<void>;
  shutdown(): Promise<void>;
}

/** Dependencies of {@link createAppInsightsTelemetry}. */
export interface AppInsightsTelemetryDeps {
  /** Use this client instead of building one from `options.connectionString`. */
  readonly client?: AppInsightsClientLike;
  /** Builds the client on first use (default: loads the `applicationinsights` SDK; see the factory). */
  readonly loadClient?: (options: AppInsightsTelemetryOptions) => Promise<AppInsightsClientLike>;
}

/** Options of {@link createAppInsightsTelemetry}. */
export interface AppInsightsTelemetryOptions {
  /** `APPLICATIONINSIGHTS_CONNECTION_STRING` (required unless `deps.client` is given). */
  readonly connectionString?: string;
  /** Do not keep unsent telemetry on disk for retry (default false; tests set true). */
  readonly disableOfflineStorage?: boolean;
  /** Upper bound on one `flush` (default 10,000 ms); a slower export is left to finish in the background. */
  readonly flushTimeoutMs?: number;
  /**
   * Entra ID credential for ingestion (the resource has local authentication disabled); see
   * `appInsightsCredential`. Without it the exporter sends the instrumentation key only.
   */
  readonly credential?: TokenCredential;
  /** Items kept while the SDK loads (default 10,000); more are dropped and counted. */
  readonly maxPendingItems?: number;
}

/** The adapter, with its own health counters. */
export interface AppInsightsTelemetry extends Telemetry {
  /** Items the SDK refused (threw on) or that arrived after `shutdown`. */
  readonly dropped: number;
  /** Flushes that failed or timed out. */
  readonly failedFlushes: number;
  /** Flushes and releases the exporters; later calls are dropped. */
  shutdown(): Promise<void>;
}

/**
 * Creates the Application Insights {@link Telemetry} on the `applicationinsights` v3 SDK (OpenTelemetry
 * based). The client uses its own providers (`useGlobalProviders: false`), so it installs no global
 * instrumentation and two clients (tests) do not share state. Mapping:
 * - `event` → customEvents (properties stringified, undefined dropped; measurements as given);
 * - `metric` → customMetrics (an OpenTelemetry histogram per name, exported on flush or every 60 s);
 * - `dependency` → dependencies, type `Http`, target = backend id, data `https://{backend id}{path of name}`,
 *   `name` like `POST /path` (never the backend's real URL), resultCode = status (0 when none), plus `requestId`;
 * - `exception` → exceptions.
 * Known gap: with its own providers the v3 shim ignores `context.tags` and `OTEL_SERVICE_NAME` for the
 * cloud role name (items carry `unknown_service:node`); setting it needs an OpenTelemetry `Resource`
 * (`@opentelemetry/resources`, not a direct dependency) in `azureMonitorOpenTelemetryOptions.resource`.
 * Every call is wrapped: the SDK's own batch processors buffer (bounded) and export in the background;
 * anything the SDK throws is counted in `dropped`, never thrown into a request.
 *
 * The SDK is loaded on the first item, not when the adapter is made: it is about 3,000 modules (3 s of
 * the Functions app's start on this machine before it was deferred). Items that arrive while it loads are
 * kept in order (up to `maxPendingItems`) and sent once it is ready; if it cannot load, they are dropped
 * and counted, and so is everything after.
 *
 * @example
 * const connectionString = process.env.APPLICATIONINSIGHTS_CONNECTION_STRING;
 * const telemetry = createAppInsightsTelemetry({}, { connectionString });
 * telemetry.event('gateway.request', { route: 'chat', status: 200 }, { totalTokens: 130 });
 */
export function createAppInsightsTelemetry(
  deps: AppInsightsTelemetryDeps,
  options: AppInsightsTelemetryOptions,
): AppInsightsTelemetry {
  if (deps.client === undefined && deps.loadClient === undefined && !options.connectionString)
    throw new Error('AppInsightsTelemetry needs a connection string (APPLICATIONINSIGHTS_CONNECTION_STRING).');
  const client = new LazyAppInsightsClient(deps.client, () => (deps.loadClient ?? loadSdkClient)(options), {
    flushTimeoutMs: options.flushTimeoutMs ?? 10_000,
    maxPendingItems: options.maxPendingItems ?? 10_000,
  });
  return {
    get dropped() {
      return client.dropped;
    },
    get failedFlushes() {
      return client.failedFlushes;
    },
    event: (name, properties, measurements) =>
      client.send((c) => c.trackEvent(eventItem(name, properties, measurements))),
    metric: (name, value, properties) =>
      client.send((c) =>
        c.trackMetric({ name, value, ...(properties === undefined ? {} : { properties: { ...properties } }) }),
      ),
    dependency: (attempt) => client.send((c) => c.trackDependency(dependencyItem(attempt))),
    exception: (error, properties) =>
      client.send((c) =>
        c.trackException({
          exception: error instanceof Error ? error : new Error(String(error)),
          ...(properties === undefined ? {} : { properties: { ...properties } }),
        }),
      ),
    flush: () => client.flush(),
    shutdown: () => client.shutdown(),
  };
}

function eventItem(
  name: string,
  properties: Readonly<Record<string, string | number | boolean | undefined>>,
  measurements: Readonly<Record<string, number>> | undefined,
): Parameters<AppInsightsClientLike['trackEvent']>[0] {
  return {
    name,
    properties: stringProperties(properties),
    ...(measurements === undefined ? {} : { measurements: { ...measurements } }),
  };
}

/** A backend attempt as an Http dependency, named by verb and path, its `data` on the backend id (never its URL). */
function dependencyItem(attempt: TelemetryDependency): Parameters<AppInsightsClientLike['trackDependency']>[0] {
  const verb = /^([A-Z]+) +(.*)$/.exec(attempt.name);
  const method = verb?.[1] ?? 'POST';
  const path = (verb?.[2] ?? attempt.name).replace(/^\/*/, '/');
  return {
    name: attempt.name,
    data: `https://${hostSafe(attempt.target)}${path}`,
    target: attempt.target,
    duration: attempt.durationMs,
    resultCode: attempt.status ?? 0,
    success: attempt.success,
    dependencyTypeName: 'HTTP',
    time: new Date(attempt.startedAtMs),
    // `http.method` makes the exporter map the span as an Http dependency (type, resultCode, target).
    properties: {
      ...attempt.properties,
      'http.method': method,
      requestId: attempt.requestId,
      backend: attempt.target,
    },
  };
}

async function loadSdkClient(options: AppInsightsTelemetryOptions): Promise<AppInsightsClientLike> {
  const { TelemetryClient } = await import('applicationinsights');
  const client = new TelemetryClient(options.connectionString ?? '', { useGlobalProviders: false });
  client.config.azureMonitorOpenTelemetryOptions = {
    azureMonitorExporterOptions: {
      connectionString: options.connectionString,
      disableOfflineStorage: options.disableOfflineStorage ?? false,
      ...(options.credential === undefined ? {} : { credential: options.credential }),
    },
    enableLiveMetrics: false,
  };
  return client as unknown as AppInsightsClientLike;
}

function stringProperties(
  properties: Readonly<Record<string, string | number | boolean | undefined>>,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(properties)) if (value !== undefined) out[key] = String(value);
  return out;
}

/** A backend id as a URL host label, for the dependency's `data` (App Insights derives a target from it). */
function hostSafe(id: string): string {
  return id.toLowerCase().replace(/[^a-z0-9.-]/g, '-') || 'backend';
}
