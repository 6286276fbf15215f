import type { GatewayConfig } from '../../config/gateway-schema.js';
import type { BreakerStateName } from '../../ports/backend-health-store.js';
import type { UsageExportStats } from '../../ports/usage-exporter.js';
import type { BackendActivityView } from './backend-activity.js';
import type { BreakerTransition } from './breaker-watch.js';
import type { ConfigStatusView } from './config-status.js';
import type { ErrorCodeView } from './error-tally.js';
import type { LedgerTodayView } from './ledger-today.js';
import type { PoolActivityView } from './pool-activity.js';
import type { StatusSources } from './status-board.js';
import type { TokenHistoryView } from './token-history.js';
import type { TrafficPulse } from './traffic-pulse.js';

/** One backend on the status page. No URL: backends are named by their config id only. */
export interface BackendStatus {
  readonly id: string;
  readonly group: string;
  readonly weight: number;
  readonly maxConcurrency: number;
  readonly inFlight: number;
  readonly state: BreakerStateName;
  readonly usable: boolean;
  readonly openUntilMs: number | null;
  readonly coolingUntilMs: number | null;
  readonly latencyEwmaMs: number | null;
  readonly lastProbe: { readonly ok: boolean; readonly atMs: number; readonly status: number | null } | null;
  readonly lastMinute: BackendActivityView;
}

/** One pool on the status page. */
export interface PoolStatus {
  readonly id: string;
  /** Concurrent calls its usable backends take now. */
  readonly capacity: number;
  readonly inFlight: number;
  readonly queued: number;
  readonly oldestWaitMs: number;
  readonly levels: readonly { readonly level: number; readonly waiting: number; readonly oldestWaitMs: number }[];
  readonly groups: readonly { readonly groupId: string; readonly capacity: number; readonly inUse: number }[];
  readonly activity: PoolActivityView;
}

/**
 * The status page's data (`GET …/gateway/admin/status/live`), version 1. Compatibility: fields are only added
 * within a version. Nothing secret: backend ids, never URLs; user ids and model names, never prompts or
 * keys.
 */
export interface StatusView {
  readonly v: 1;
  readonly atMs: number;
  readonly instance: string;
  readonly startedAtMs: number;
  /** The last 10 s. */
  readonly pulse: TrafficPulse;
  readonly backends: readonly BackendStatus[];
  readonly pools: readonly PoolStatus[];
  readonly tokens: TokenHistoryView;
  readonly today: LedgerTodayView | null;
  readonly todayError: string | null;
  readonly errors: readonly ErrorCodeView[];
  readonly transitions: readonly BreakerTransition[];
  readonly config: ConfigStatusView;
  readonly exports: readonly UsageExportStats[];
}

/** What {@link statusView} assembles. */
export interface StatusViewParts {
  readonly nowMs: number;
  readonly startedAtMs: number;
  readonly instance: string;
  readonly config: GatewayConfig;
  readonly sources: StatusSources;
  readonly backendActivity: (backendId: string) => BackendActivityView;
  readonly poolActivity: (poolId: string) => PoolActivityView;
  readonly tokens: TokenHistoryView;
  readonly errors: readonly ErrorCodeView[];
  readonly pulse: TrafficPulse;
  readonly transitions: readonly BreakerTransition[];
  readonly configStatus: ConfigStatusView;
}

/** Assembles the status page's data from the aggregators and the runtime's live state. */
export function statusView(parts: StatusViewParts): StatusView {
  const { config, sources } = parts;
  const today = sources.today?.view();
  return {
    v: 1,
    atMs: parts.nowMs,
    instance: parts.instance,
    startedAtMs: parts.startedAtMs,
    pulse: parts.pulse,
    backends: config.backends.map((b) => backendStatus(b, parts)),
    pools: poolStatuses(parts),
    tokens: parts.tokens,
    today: today?.today ?? null,
    todayError: today?.error ?? null,
    errors: parts.errors,
    transitions: parts.transitions,
    config: parts.configStatus,
    exports: sources.exports(),
  };
}

function backendStatus(backend: GatewayConfig['backends'][number], parts: StatusViewParts): BackendStatus {
  const health = parts.sources.health.snapshot(backend.id);
  return {
    id: backend.id,
    group: backend.group,
    weight: backend.weight,
    maxConcurrency: backend.maxConcurrency,
    inFlight: parts.sources.inFlight(backend.id),
    state: health.state,
    usable: health.usable,
    openUntilMs: health.openUntilMs ?? null,
    coolingUntilMs: health.coolingUntilMs ?? null,
    latencyEwmaMs: health.latencyEwmaMs === undefined ? null : Math.round(health.latencyEwmaMs),
    lastProbe:
      health.lastProbe === undefined
        ? null
        : { ok: health.lastProbe.ok, atMs: health.lastProbe.atMs, status: health.lastProbe.status ?? null },
    lastMinute: parts.backendActivity(backend.id),
  };
}

function poolStatuses(parts: StatusViewParts): PoolStatus[] {
  const stats = new Map(parts.sources.scheduler().pools.map((p) => [p.poolId, p]));
  return parts.config.pools.map((pool) => {
    const s = stats.get(pool.id);
    const levels = (s?.levels ?? []).map((l) => ({ level: l.level, waiting: l.waiting, oldestWaitMs: l.oldestWaitMs }));
    return {
      id: pool.id,
      capacity: (s?.groups ?? []).reduce((sum, g) => sum + g.capacity, 0),
      inFlight: s?.leases ?? 0,
      queued: s?.waiting ?? 0,
      oldestWaitMs: levels.reduce((max, l) => Math.max(max, l.oldestWaitMs), 0),
      levels,
      groups: (s?.groups ?? []).map((g) => ({ groupId: g.groupId, capacity: g.capacity, inUse: g.inUse })),
      activity: parts.poolActivity(pool.id),
    };
  });
}
