import { TelemetryClient } from 'applicationinsights';
import type { Telemetry, TelemetryDependency } from '../../ports/telemetry.js';

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
}

/** Options of {@link createAppInsightsTelemetry}. */
export interface AppInsightsTelemetryOptions {
  /** `APPLICATIONINSIGHTS_CONNECTION_STRING` (required unless `deps.client` is given). */
  readonly connectionString?: string;
  /** Do not keep unsent telemetry on disk for retry (default false; tests set true). */
  readonly disableOfflineStorage?: boolean;
  /** Upper bound on one `flush` (default 10,000 ms); a slower export is left to finish in the background. */
  readonly flushTimeoutMs?: number;
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
 * - `dependency` → dependencies, type `Http`, target = backend id, data `https://{backend id}{path of name}`, `name` like `POST /path`
 *   (never the backend's real URL), resultCode = status (0 when none), plus `requestId`;
 * - `exception` → exceptions.
 * Known gap: with its own providers the v3 shim ignores `context.tags` and `OTEL_SERVICE_NAME` for the
 * cloud role name (items carry `unknown_service:node`); setting it needs an OpenTelemetry `Resource`
 * (`@opentelemetry/resources`, not a direct dependency) in `azureMonitorOpenTelemetryOptions.resource`.
 * Every call is wrapped: the SDK's own batch processors buffer (bounded) and export in the background;
 * anything the SDK throws is counted in `dropped`, never thrown into a request.
 *
 * @example
 * const telemetry = createAppInsightsTelemetry({}, { connectionString: process.env.APPLICATIONINSIGHTS_CONNECTION_STRING });
 * telemetry.event('gateway.request', { route: 'chat', status: 200 }, { totalTokens: 130 });
 */
export function createAppInsightsTelemetry(
  deps: AppInsightsTelemetryDeps,
  options: AppInsightsTelemetryOptions,
): AppInsightsTelemetry {
  const client = deps.client ?? buildClient(options);
  const flushTimeoutMs = options.flushTimeoutMs ?? 10_000;
  let dropped = 0;
  let failedFlushes = 0;
  let closed = false;

  const guard = (send: () => void): void => {
    if (closed) {
      dropped++;
      return;
    }
    try {
      send();
    } catch {
      dropped++;
    }
  };

  const flushBounded = async (): Promise<void> => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      await Promise.race([
        client.flush(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error('flush timed out')), flushTimeoutMs);
          timer.unref();
        }),
      ]);
    } catch {
      failedFlushes++;
    } finally {
      if (timer !== undefined) clearTimeout(timer);
    }
  };

  return {
    get dropped() {
      return dropped;
    },
    get failedFlushes() {
      return failedFlushes;
    },
    event(name, properties, measurements) {
      guard(() =>
        client.trackEvent({
          name,
          properties: stringProperties(properties),
          ...(measurements === undefined ? {} : { measurements: { ...measurements } }),
        }),
      );
    },
    metric(name, value, properties) {
      guard(() =>
        client.trackMetric({ name, value, ...(properties === undefined ? {} : { properties: { ...properties } }) }),
      );
    },
    dependency(attempt: TelemetryDependency) {
      const verb = /^([A-Z]+) +(.*)$/.exec(attempt.name);
      const method = verb?.[1] ?? 'POST';
      const path = (verb?.[2] ?? attempt.name).replace(/^\/*/, '/');
      guard(() =>
        client.trackDependency({
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
        }),
      );
    },
    exception(error, properties) {
      guard(() =>
        client.trackException({
          exception: error instanceof Error ? error : new Error(String(error)),
          ...(properties === undefined ? {} : { properties: { ...properties } }),
        }),
      );
    },
    flush: flushBounded,
    async shutdown() {
      if (closed) return;
      await flushBounded();
      closed = true;
      try {
        await client.shutdown();
      } catch {
        failedFlushes++;
      }
    },
  };
}

function buildClient(options: AppInsightsTelemetryOptions): AppInsightsClientLike {
  if (options.connectionString === undefined || options.connectionString === '')
    throw new Error('AppInsightsTelemetry needs a connection string (APPLICATIONINSIGHTS_CONNECTION_STRING).');
  const client = new TelemetryClient(options.connectionString, { useGlobalProviders: false });
  client.config.azureMonitorOpenTelemetryOptions = {
    azureMonitorExporterOptions: {
      connectionString: options.connectionString,
      disableOfflineStorage: options.disableOfflineStorage ?? false,
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
