import { createHttpProbe, probeTargets, type BackendProbeTarget } from '../adapters/undici/http-probe.js';
import type { Clock } from '../core/clock.js';
import { HealthProber } from '../core/resilience/health-prober.js';
import type { HealthTracker } from '../core/resilience/health-tracker.js';
import type { CredentialProvider } from '../ports/credential-provider.js';
import type { RuntimeOptions } from './create-runtime.js';
import type { RuntimeBase } from './runtime-base.js';
import type { GatewayConfig } from '../config/gateway-schema.js';

/** The HTTP probe of the backends (closed with the runtime). */
export type HttpProbe = ReturnType<typeof createHttpProbe>;

/** Backend probes: the HTTP probe and the prober that runs it on each backend's interval. */
export interface RuntimeProbes {
  readonly httpProbe: HttpProbe;
  readonly prober: HealthProber<BackendProbeTarget>;
}

/** The probes of the backends that have a `probe`, started in this process unless `runProbesInProcess` is false. */
export function runtimeProbes(
  options: RuntimeOptions,
  { clock, telemetry, initial }: RuntimeBase,
  credentials: CredentialProvider,
  health: HealthTracker,
): RuntimeProbes {
  const httpProbe = createHttpProbe(credentials);
  const prober = new HealthProber(
    {
      probe: httpProbe,
      timers: globalThis,
      clock,
      sink: health,
      onError: (error: unknown) => telemetry.exception(error, { component: 'health-probe' }),
    },
    probeTargets(initial.backends, initial.resilience.probe),
  );
  if (options.runProbesInProcess ?? true) prober.start();
  return { httpProbe, prober };
}

/** Probes every backend that has a `probe` once, now, records the results and flushes them to the store. */
export async function probeBackendsOnce(
  config: GatewayConfig,
  httpProbe: HttpProbe,
  health: HealthTracker,
  clock: Clock,
): Promise<void> {
  await Promise.all(
    probeTargets(config.backends, config.resilience.probe).map(async (target) => {
      const started = clock.monotonicMs();
      try {
        const { status, latencyMs } = await httpProbe(target, AbortSignal.timeout(target.probe.timeoutMs));
        const ok =
          target.probe.expectStatus.length === 0
            ? status >= 200 && status < 300
            : target.probe.expectStatus.includes(status);
        health.recordProbe(target.id, { ok, latencyMs, status });
      } catch {
        health.recordProbe(target.id, { ok: false, latencyMs: clock.monotonicMs() - started });
      }
    }),
  );
  await health.flush();
}
