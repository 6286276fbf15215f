import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { syncCapacity, type CapacityTarget } from '../core/pipeline/capacity-sync.js';
import type { HealthTracker } from '../core/resilience/health-tracker.js';
import { CapacityShareAgent, poolDemandOf } from '../core/scheduling/capacity-share-agent.js';
import { PriorityScheduler } from '../core/scheduling/priority-scheduler.js';
import { SchedulerGate } from '../core/scheduling/scheduler-gate.js';
import type { StatusBoard } from '../core/status/status-board.js';
import type { RuntimeOptions } from './create-runtime.js';
import type { RuntimeBase } from './runtime-base.js';

/** The scheduler and how pool capacity reaches it. */
export interface RuntimeScheduling {
  readonly gate: SchedulerGate;
  /** Where synced capacity goes: the gate, capped at this instance's grant when it shares capacity. */
  readonly capacityTarget: CapacityTarget;
  /** Capacity sharing through the ledger, when configured (`scheduling.sharing.enabled` and a ledger given). */
  readonly shareAgent: CapacityShareAgent | undefined;
}

/**
 * The priority scheduler behind its gate, and the capacity share agent when a shared ledger is given and
 * sharing is enabled: then each pool's capacity in the scheduler is this instance's grant.
 */
export function runtimeScheduling(
  options: RuntimeOptions,
  { clock, telemetry, initial, config }: RuntimeBase,
  status: StatusBoard,
  health: HealthTracker,
): RuntimeScheduling {
  const sharing: { agent?: CapacityShareAgent } = {};
  const gate = new SchedulerGate({
    scheduler: new PriorityScheduler({ clock, options: initial.scheduling }),
    clock,
    setTimer: options.schedulerTimer,
    onLeaseExpired: (lease) => telemetry.event('LeaseExpired', { poolId: lease.poolId, requestId: lease.requestId }),
    onGrant: (lease) => status.recordGrant(lease),
    onChange: () => sharing.agent?.poke(),
  });
  // With a shared ledger, each pool's capacity is this instance's grant (never more than it sees).
  const capacityTarget: CapacityTarget = {
    setCapacity: (poolId, groups) => gate.setCapacity(poolId, sharing.agent?.cap(poolId, groups) ?? groups),
  };
  if (options.capacityLedger !== undefined && initial.scheduling.sharing.enabled) {
    sharing.agent = new CapacityShareAgent(
      {
        ledger: options.capacityLedger,
        clock,
        instanceId: options.instanceId ?? `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`,
        observe: () => poolDemandOf(gate.stats()),
        resync: () => syncCapacity(config(), health, capacityTarget),
        onError: (error, poolId) => telemetry.exception(error, { component: 'capacity-ledger', pool: poolId }),
      },
      { ...initial.scheduling.sharing, ...options.sharingOverrides },
    );
  }
  return { gate, capacityTarget, shareAgent: sharing.agent };
}
