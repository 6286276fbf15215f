import * as df from 'durable-functions';
import type { DurableClient } from 'durable-functions';
import type { InvocationContext } from '@azure/functions';
import type { GatewayConfig } from '../../shared/config/gateway-schema.js';
import type { GatewayRuntime } from '../../shared/composition/create-runtime.js';
import { syncCapacity } from '../../shared/core/pipeline/capacity-sync.js';
import { computeShares, normalizeLedger, type InstanceReport } from '../../shared/core/scheduling/capacity-ledger.js';
import { applyCapacityShares } from '../../shared/core/scheduling/capacity-share-config.js';
import type { GroupCapacity } from '../../shared/core/scheduling/scheduler-types.js';
import type { JobMessage, JobQueue } from '../../shared/ports/job-queue.js';
import type { JobStore } from '../../shared/ports/job-store.js';
import type { GatewayRequestInput } from './gateway-request.js';
import {
  CAPACITY_LEDGER_ENTITY,
  GATEWAY_REQUEST_ORCHESTRATOR,
  JOB_CANCELLED_EVENT,
  JOB_FINISHED_EVENT,
  LEDGER_OPERATIONS,
} from './names.js';

/** The part of `DurableClient` the app uses (tests pass a fake). */
export type DurableClientPart = Pick<DurableClient, 'startNew' | 'raiseEvent' | 'signalEntity' | 'readEntityState'>;

/**
 * This instance's link to Durable Functions: the durable client (taken from any invocation that binds
 * it — its endpoint is the same for every invocation of the app), the instance's capacity shares from the
 * per-pool ledger entities, and the events the worker and the `jobs` trigger raise.
 *
 * Reporting is rate-limited per instance ({@link maybeReport}): one `report` signal per pool per interval,
 * and one `readEntityState` (a storage read, not an entity operation) to learn the share.
 */
export class DurableLink {
  private durableClient: DurableClientPart | undefined;
  private shares = new Map<string, GroupCapacity[]>();
  private sharedConfig:
    { base: GatewayConfig; shares: Map<string, GroupCapacity[]>; config: GatewayConfig } | undefined;
  private lastReportMs = Number.NEGATIVE_INFINITY;
  private reporting: Promise<void> | undefined;

  constructor(
    private readonly options: {
      readonly instanceId: string;
      readonly reportIntervalMs: number;
      readonly now?: () => number;
    },
  ) {}

  /** Keeps the durable client of an invocation that has the `durableClient` input binding. */
  remember(context: InvocationContext): void {
    if (this.durableClient !== undefined) return;
    try {
      this.durableClient = df.getClient(context);
    } catch {
      // The invocation has no durable client binding (tests, smoke): durable features stay off.
    }
  }

  /** Sets the client directly (tests). */
  useClient(client: DurableClientPart | undefined): void {
    this.durableClient = client;
  }

  get client(): DurableClientPart | undefined {
    return this.durableClient;
  }

  /** The configuration with this instance's shares applied (same object until the shares change). */
  configWithShares(base: GatewayConfig): GatewayConfig {
    const cached = this.sharedConfig;
    if (cached !== undefined && cached.base === base && cached.shares === this.shares) return cached.config;
    const config = applyCapacityShares(base, this.shares);
    this.sharedConfig = { base, shares: this.shares, config };
    return config;
  }

  /**
   * Reports this instance's demand and usage to each pool's ledger and reads its share back, at most
   * once per interval. Never throws; never delays the caller (it returns the work as a promise to await in tests).
   */
  maybeReport(runtime: GatewayRuntime, base: GatewayConfig): Promise<void> {
    const client = this.durableClient;
    const now = (this.options.now ?? Date.now)();
    if (
      client === undefined ||
      this.options.reportIntervalMs <= 0 ||
      this.reporting !== undefined ||
      now - this.lastReportMs < this.options.reportIntervalMs
    )
      return Promise.resolve();
    this.lastReportMs = now;
    this.reporting = this.report(client, runtime, base, now)
      .catch((error: unknown) => runtime.telemetry.exception(error, { component: 'capacity-ledger' }))
      .finally(() => {
        this.reporting = undefined;
      });
    return this.reporting;
  }

  private async report(
    client: DurableClientPart,
    runtime: GatewayRuntime,
    base: GatewayConfig,
    now: number,
  ): Promise<void> {
    const capacity = new Map<string, GroupCapacity[]>();
    // Capacity as configured and health-adjusted (not this instance's share), the same sum the engine uses.
    syncCapacity(base, runtime.health, {
      setCapacity: (poolId, groups) =>
        capacity.set(
          poolId,
          groups.map((g) => ({ ...g })),
        ),
    });
    const stats = runtime.gate.stats();
    const next = new Map<string, GroupCapacity[]>();
    for (const [poolId, groups] of capacity) {
      const pool = stats.pools.find((p) => p.poolId === poolId);
      const report: InstanceReport = {
        instanceId: this.options.instanceId,
        groups,
        demand: (pool?.levels ?? []).map((l) => l.waiting + l.leases),
        inUse: pool?.leases ?? 0,
        atMs: now,
      };
      const entityId = new df.EntityId(CAPACITY_LEDGER_ENTITY, poolId);
      await client.signalEntity(entityId, LEDGER_OPERATIONS.report, report);
      const state = await client.readEntityState<unknown>(entityId);
      if (!state.entityExists) continue;
      const share = computeShares(normalizeLedger(state.entityState), now).get(this.options.instanceId);
      if (share !== undefined) next.set(poolId, share);
    }
    this.shares = next;
  }

  /** Tells the job's orchestration that the worker finished it. Best effort: a job run without one has none. */
  async jobFinished(jobId: string, status: string): Promise<void> {
    await this.durableClient?.raiseEvent(jobId, JOB_FINISHED_EVENT, { status }).catch(() => undefined);
  }

  /** Tells the job's orchestration that its owner cancelled it. Best effort. */
  async jobCancelled(jobId: string): Promise<void> {
    await this.durableClient?.raiseEvent(jobId, JOB_CANCELLED_EVENT, {}).catch(() => undefined);
  }
}

/** What the orchestrating queue needs to know about a job to start its orchestration. */
export interface OrchestratingJobQueueDeps {
  readonly queue: JobQueue;
  readonly jobStore: JobStore;
  readonly link: DurableLink;
  readonly config: () => GatewayConfig;
}

/**
 * The job queue the engine submits to in the Functions app: a new job starts its `gatewayRequest`
 * orchestration (instance id = job id) instead of going straight to Service Bus; the orchestration's
 * `enqueueJob` activity sends it once the pool's ledger grants a slot. Without a durable client (not
 * bound yet, or durable jobs off) and for delayed sends, it sends directly. Everything else delegates.
 */
export function createOrchestratingJobQueue(deps: OrchestratingJobQueueDeps): JobQueue {
  const { queue, jobStore, link, config } = deps;
  return {
    async send(message: JobMessage, options) {
      const client = link.client;
      if (client === undefined || options?.deliverAtMs !== undefined) return queue.send(message, options);
      const job = await jobStore.get(message.jobId);
      const route = job === undefined ? undefined : config().routes.find((r) => r.id === job.routeId);
      if (job === undefined || route === undefined) return queue.send(message, options);
      const input: GatewayRequestInput = {
        jobId: job.id,
        requestId: job.requestId,
        poolId: route.pool,
        level: job.priority,
        deadlineMs: job.deadlineMs,
      };
      await client.startNew(GATEWAY_REQUEST_ORCHESTRATOR, { instanceId: job.id, input });
    },
    receive: (max, visibility) => queue.receive(max, visibility),
    complete: (token) => queue.complete(token),
    abandon: (token, options) => queue.abandon(token, options),
    deadLetter: (token, reason) => queue.deadLetter(token, reason),
    renewLock: (token, visibility) => queue.renewLock(token, visibility),
    peekDeadLetters: (max) => queue.peekDeadLetters(max),
  };
}
