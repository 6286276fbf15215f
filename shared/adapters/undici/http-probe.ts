import { Agent } from './undici-parts.js';
import type { BackendConfig } from '../../config/schema.js';
import type { ProbeDefaultsConfig } from '../../config/resilience-schema.js';
import type { CredentialProvider } from '../../ports/credential-provider.js';
import type { ProbeFunction, ProbeTarget } from '../../core/resilience/health-prober.js';

/** A probe target: the backend it checks, with its probe settings. */
export interface BackendProbeTarget extends ProbeTarget {
  readonly backend: BackendConfig;
}

/**
 * The active health probe over HTTP: `{method} {backend url}{probe path}` with the backend's own
 * credentials, body read and discarded. Its own connection pool (one socket per backend), so probes
 * never queue behind traffic.
 *
 * @example
 * const probe = createHttpProbe(credentials);
 * const prober = new HealthProber({ probe, timers: globalThis, clock, sink: tracker }, targets);
 */
export function createHttpProbe(
  credentials: CredentialProvider,
): ProbeFunction<BackendProbeTarget> & { close(): Promise<void> } {
  const dispatcher = new Agent({ connections: 1, keepAliveTimeout: 60_000 });
  const probe = async (
    target: BackendProbeTarget,
    signal: AbortSignal,
  ): Promise<{ status: number; latencyMs: number }> => {
    const started = performance.now();
    const url = new URL(target.backend.url.replace(/\/+$/, '') + target.probe.path);
    const auth = target.backend.auth.type === 'passthrough' ? {} : await credentials.headersFor(target.backend, signal);
    const body = target.backend.probe?.body;
    const response = await dispatcher.request({
      origin: url.origin,
      path: `${url.pathname}${url.search}`,
      method: target.probe.method,
      headers: {
        ...target.backend.headers,
        ...auth,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      body,
      signal,
    });
    await response.body.dump();
    return { status: response.statusCode, latencyMs: performance.now() - started };
  };
  return Object.assign(probe, { close: () => dispatcher.close() });
}

/** The probe targets of a configuration: every backend with a `probe`, unset fields from `resilience.probe`. */
export function probeTargets(backends: readonly BackendConfig[], defaults: ProbeDefaultsConfig): BackendProbeTarget[] {
  return backends.flatMap((backend) =>
    backend.probe === undefined
      ? []
      : [
          {
            id: backend.id,
            backend,
            probe: {
              path: backend.probe.path,
              method: backend.probe.method ?? defaults.method,
              intervalMs: backend.probe.intervalMs ?? defaults.intervalMs,
              timeoutMs: backend.probe.timeoutMs ?? defaults.timeoutMs,
              expectStatus: backend.probe.expectStatus ?? defaults.expectStatus,
            },
          },
        ],
  );
}
