import type { GatewayConfig } from '../../config/gateway-schema.js';
import type { UsageExportStats } from '../../ports/usage-exporter.js';
import type { Clock } from '../clock.js';
import type { CallSummary } from '../pipeline/call-summary.js';
import type { HealthTracker } from '../resilience/health-tracker.js';
import type { Lease, SchedulerStats } from '../scheduling/scheduler-types.js';
import { BackendActivity } from './backend-activity.js';
import { BreakerWatch } from './breaker-watch.js';
import { ConfigStatus, type ConfigReloadReport } from './config-status.js';
import { ErrorTally } from './error-tally.js';
import type { LedgerToday } from './ledger-today.js';
import { PoolActivity } from './pool-activity.js';
import { TokenHistory } from './token-history.js';
import { TrafficPulseMeter, type TrafficPulse } from './traffic-pulse.js';
import { statusView, type StatusView } from './status-view.js';

/** Dependencies of {@link StatusBoard}. */
export interface StatusBoardDeps {
  readonly clock: Clock;
  /** The configuration in force. */
  readonly config: () => GatewayConfig;
  /** The name of the configuration's source at start (`gateway.config.json`, `embedded defaults`, …). */
  readonly configSource: string;
  /** This instance's name on the page (a host name and process id; never a secret). */
  readonly instance: string;
}

/** What the board reads at view time, owned by the runtime. */
export interface StatusSources {
  readonly health: HealthTracker;
  readonly scheduler: () => SchedulerStats;
  readonly inFlight: (backendId: string) => number;
  readonly exports: () => readonly UsageExportStats[];
  readonly today?: LedgerToday | undefined;
}

/**
 * The engine's live operating picture, kept by aggregators fed as things happen — call summaries, capacity
 * grants, health observations, configuration reloads — and read by the status page (`view`) and the
 * standalone host's terminal line (`pulse`, breaker transitions). Everything is bounded (fixed windows,
 * capped keys) and per instance.
 *
 * @example
 * const board = new StatusBoard({ clock, config, configSource: 'gateway.config.json', instance: 'host:123' });
 * // recorder: board.recordCall(summary); gate: board.recordGrant(lease); ticker: board.observeHealth(health);
 * const view = board.view(sources);
 */
export class StatusBoard {
  readonly breakers = new BreakerWatch();
  private readonly backends = new BackendActivity();
  private readonly pools: PoolActivity;
  private readonly tokens = new TokenHistory();
  private readonly errors = new ErrorTally();
  private readonly traffic = new TrafficPulseMeter();
  private readonly configStatus: ConfigStatus;
  private readonly startedAtMs: number;

  constructor(private readonly deps: StatusBoardDeps) {
    this.pools = new PoolActivity((routeId) => deps.config().routes.find((r) => r.id === routeId)?.pool);
    this.configStatus = new ConfigStatus(deps.configSource);
    this.startedAtMs = deps.clock.now();
    this.configStatus.observe(deps.config(), this.startedAtMs);
  }

  /** A call ended (the record stage's `onCallEnd`). */
  recordCall(summary: CallSummary): void {
    const now = this.deps.clock.now();
    this.backends.record(summary, now);
    this.pools.recordCall(summary, now);
    this.tokens.record(summary, now);
    this.errors.record(summary, now);
    this.traffic.record(summary, now);
  }

  /** The scheduler granted capacity. */
  recordGrant(lease: Lease): void {
    this.pools.recordGrant(lease, this.deps.clock.now());
  }

  /** Looks at every configured backend's breaker (the health ticker calls this). */
  observeHealth(health: HealthTracker): void {
    const now = this.deps.clock.now();
    const config = this.deps.config();
    this.configStatus.observe(config, now);
    for (const backend of config.backends) this.breakers.observe(health.snapshot(backend.id), now);
  }

  /** A configuration reload was attempted (accepted or refused). */
  configReloaded(event: ConfigReloadReport): void {
    this.configStatus.reloaded(event);
    if (event.ok) this.configStatus.observe(this.deps.config(), event.atMs);
  }

  /**
   * Calls, errors and tokens over the last `windowMs` of whole seconds, ending with the last second
   * completed (the terminal line): the second in progress is left out, so a short window is never a
   * fraction of a second read as a rate.
   */
  pulse(windowMs: number): TrafficPulse {
    return this.traffic.read(this.deps.clock.now() - 1_000, windowMs);
  }

  /** The whole picture, as the status page's data endpoint answers it. */
  view(sources: StatusSources): StatusView {
    const now = this.deps.clock.now();
    const config = this.deps.config();
    this.configStatus.observe(config, now);
    const ids = config.backends.map((b) => b.id);
    this.backends.retain(ids);
    this.breakers.retain(ids);
    return statusView({
      nowMs: now,
      startedAtMs: this.startedAtMs,
      instance: this.deps.instance,
      config,
      sources,
      backendActivity: (id) => this.backends.view(id, now),
      poolActivity: (id) => this.pools.view(id, now),
      tokens: this.tokens.view(now, 8),
      errors: this.errors.view(now),
      pulse: this.traffic.read(now, 10_000),
      transitions: this.breakers.recent(),
      configStatus: this.configStatus.view(),
    });
  }
}
