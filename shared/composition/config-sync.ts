import type { GatewayConfig } from '../config/gateway-schema.js';
import { probeTargets } from '../adapters/undici/http-probe.js';
import type { Clock } from '../core/clock.js';
import { syncCapacity } from '../core/pipeline/capacity-sync.js';
import type { HealthProber } from '../core/resilience/health-prober.js';
import type { BackendProbeTarget } from '../adapters/undici/http-probe.js';
import type { HealthTracker } from '../core/resilience/health-tracker.js';
import type { CapacitySharingOptions } from '../core/scheduling/capacity-share-agent.js';
import type { StatusBoard } from '../core/status/status-board.js';
import type { Telemetry } from '../ports/telemetry.js';
import type { RuntimeScheduling } from './runtime-scheduling.js';

/** Dependencies of {@link ConfigSync}. */
export interface ConfigSyncDeps extends RuntimeScheduling {
  readonly config: () => GatewayConfig;
  readonly clock: Clock;
  readonly telemetry: Telemetry;
  readonly health: HealthTracker;
  readonly prober: HealthProber<BackendProbeTarget>;
  readonly status: StatusBoard;
  /** Host settings over `scheduling.sharing`, applied again on every reload. */
  readonly sharingOverrides: Partial<CapacitySharingOptions> | undefined;
  /** How often health is re-evaluated (cooling ends, breakers half-open) and capacity re-synced. */
  readonly healthTickMs: number;
}

/**
 * Keeps the running parts in step with the configuration and with health: a new snapshot reaches the health
 * tracker, the scheduler, the share agent and the prober; capacity follows health (a breaker closing or
 * cooling ending grants waiting requests in priority order), on every health change and every tick.
 */
export class ConfigSync {
  private synced: GatewayConfig | undefined;
  private readonly unsubscribe: () => void;
  private readonly ticker: ReturnType<typeof setInterval>;

  constructor(private readonly deps: ConfigSyncDeps) {
    this.resync();
    this.unsubscribe = deps.health.onChange(() => syncCapacity(deps.config(), deps.health, deps.capacityTarget));
    this.ticker = setInterval(() => {
      deps.health.tick(deps.clock.now());
      deps.status.observeHealth(deps.health);
      this.resync();
    }, deps.healthTickMs);
    this.ticker.unref();
  }

  /** The current snapshot, taken in first when it is new (the engine reads the configuration through this). */
  readonly current = (): GatewayConfig => {
    const current = this.deps.config();
    if (current !== this.synced) this.resync();
    return current;
  };

  /** Takes in a new snapshot if there is one, then re-syncs capacity. */
  resync(): void {
    const current = this.deps.config();
    if (current !== this.synced) this.takeIn(current);
    syncCapacity(current, this.deps.health, this.deps.capacityTarget);
  }

  /** Stops the tick (first thing at close, before the prober stops: a tick could re-arm its targets). */
  stopTicking(): void {
    clearInterval(this.ticker);
  }

  /** Stops following health changes (once no job runs any more). */
  stopFollowingHealth(): void {
    this.unsubscribe();
  }

  private takeIn(current: GatewayConfig): void {
    const { health, gate, shareAgent, prober, telemetry, sharingOverrides } = this.deps;
    health.setOptions({ ...current.resilience.health, breaker: current.resilience.breaker });
    try {
      gate.scheduler.setOptions(current.scheduling);
    } catch (error) {
      telemetry.exception(error, { component: 'scheduler', operation: 'reload' });
    }
    shareAgent?.setOptions({ ...current.scheduling.sharing, ...sharingOverrides });
    health.retain(current.backends.map((b) => b.id));
    prober.setTargets(probeTargets(current.backends, current.resilience.probe));
    this.synced = current;
  }
}
