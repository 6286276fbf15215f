import type * as df from 'durable-functions';
import type { FakeClock } from '../../../shared/core/test-support/fake-clock.js';
import { ManualTimers } from '../../../shared/core/jobs/test-support/manual-timers.js';
import {
  CapacityShareAgent,
  poolDemandOf,
  type CapacitySharingOptions,
} from '../../../shared/core/scheduling/capacity-share-agent.js';
import type { DurableLease, PoolLedger } from '../../../shared/core/scheduling/capacity-ledger.js';
import { PriorityScheduler } from '../../../shared/core/scheduling/priority-scheduler.js';
import { SchedulerGate } from '../../../shared/core/scheduling/scheduler-gate.js';
import type { GroupCapacity } from '../../../shared/core/scheduling/scheduler-types.js';
import type { CapacityLedger } from '../../../shared/ports/capacity-ledger.js';
import type { GrantNotifier } from '../capacity-ledger-entity.js';
import { createDurableCapacityLedger } from '../durable-capacity-ledger.js';
import type { DurableClientPart } from '../durable-link.js';
import { batchResults, batchState, runEntityBatch } from './entity-batch.js';

/**
 * One pool's `capacityLedger` entity, run by durable-functions' own entity engine one operation at a
 * time (as the extension guarantees), with the state kept between batches. The slots it offers are
 * collected instead of raised over HTTP (the HTTP path has its own test).
 */
export class EntityHost {
  state: PoolLedger | undefined;
  readonly offered: DurableLease[] = [];
  private chain: Promise<unknown> = Promise.resolve();

  /**
   * `useNotifier` is the entity module's `useGrantNotifier`, passed in so that this module does not load
   * the entity before the test has captured its registration.
   */
  constructor(
    private readonly handler: (...args: unknown[]) => unknown,
    readonly poolId: string,
    private readonly useNotifier: (notifier: GrantNotifier | undefined) => void,
  ) {
    useNotifier(async (_context, offered) => {
      this.offered.push(...offered);
    });
  }

  /** Runs one operation; resolves with its result. */
  operate(operation: string, input: unknown): Promise<unknown> {
    const run = this.chain.then(async () => {
      const out = await runEntityBatch(this.handler, this.state, [[operation, input]], undefined, this.poolId);
      if (out.results[0]?.isError === true) throw new Error(`entity ${operation} failed: ${out.results[0].result}`);
      if (out.entityState !== undefined) this.state = batchState(out);
      return batchResults(out)[0];
    });
    this.chain = run.catch(() => undefined);
    return run;
  }

  /**
   * Resolves when the operations signalled so far have run. The entity's code is loaded on its first operation
   * (`registrations.ts` imports it lazily): real module loading, many event-loop turns, which virtual time
   * must wait for rather than race past.
   */
  idle(): Promise<void> {
    return this.chain.then(() => undefined);
  }

  /** The durable client an instance of the app would use: signals run the entity, reads see its state. */
  client(): DurableClientPart {
    const client = {
      signalEntity: async (_entity: df.EntityId, operation: string, input?: unknown) => {
        await this.operate(operation, input);
      },
      readEntityState: async <T>() => {
        await this.chain;
        return { entityExists: this.state !== undefined, entityState: this.state as T | undefined };
      },
      startNew: () => Promise.reject(new Error('not used')),
      raiseEvent: () => Promise.reject(new Error('not used')),
    };
    return client as unknown as DurableClientPart;
  }

  dispose(): void {
    this.useNotifier(undefined);
  }
}

/** A call a virtual gateway served (its lease's wait and hold). */
export interface VirtualCall {
  readonly gateway: string;
  readonly level: number;
  readonly waitedMs: number;
}

/**
 * One Functions instance in virtual time: its own in-process scheduler and gate, capped by a capacity
 * share agent that reports to the entity through the durable-entity ledger adapter, and closed-loop
 * callers whose calls hold their lease for `holdMs`. A killed instance stops at once: no more timers,
 * its calls cut, no goodbye to the ledger.
 */
export class VirtualGateway {
  readonly gate: SchedulerGate;
  readonly agent: CapacityShareAgent;
  readonly calls: VirtualCall[] = [];
  private inFlight = 0;
  private dead = false;
  private n = 0;

  constructor(
    readonly name: string,
    ledger: CapacityLedger,
    private readonly timers: ManualTimers,
    private readonly seen: readonly GroupCapacity[],
    private readonly poolId: string,
    sharing: CapacitySharingOptions,
  ) {
    const clock = timers.clock;
    const setTimer = (callback: () => void, delayMs: number): (() => void) =>
      timers.setTimer(() => {
        if (!this.dead) callback();
      }, delayMs);
    const holder: { agent?: CapacityShareAgent } = {};
    this.gate = new SchedulerGate({
      scheduler: new PriorityScheduler({
        clock,
        options: { levels: 3, agingStepMs: 60_000, userShareRatio: 1, maxQueueDepth: 5_000 },
      }),
      clock,
      setTimer,
      onChange: () => holder.agent?.poke(),
    });
    this.agent = new CapacityShareAgent(
      {
        ledger,
        clock,
        instanceId: name,
        observe: () => poolDemandOf(this.gate.stats()),
        resync: () => this.gate.setCapacity(poolId, this.agent.cap(poolId, seen)),
        setTimer,
      },
      sharing,
    );
    holder.agent = this.agent;
    this.gate.setCapacity(poolId, this.agent.cap(poolId, seen));
  }

  /** Calls of this gateway in progress (they count at the backends). */
  get holding(): number {
    return this.dead ? 0 : this.inFlight;
  }

  /** Starts `callers` closed-loop callers of `level`, each call held `holdMs` once granted. */
  startCallers(level: number, callers: number, holdMs: number): void {
    for (let i = 0; i < callers; i++) this.next(level, holdMs);
  }

  /** Dies at once (SIGKILL): timers stop, calls are cut, the ledger is not told. */
  kill(): void {
    this.dead = true;
    this.gate.dispose();
  }

  private next(level: number, holdMs: number): void {
    if (this.dead) return;
    const clock = this.timers.clock as FakeClock;
    this.gate
      .acquire({
        requestId: `${this.name}-${this.n++}`,
        poolId: this.poolId,
        priority: level,
        userId: `${this.name}-${level}`,
        deadlineMs: clock.now() + 600_000,
      })
      .then(
        (lease) => {
          if (this.dead) return;
          this.inFlight += 1;
          this.calls.push({ gateway: this.name, level, waitedMs: lease.waitedMs });
          this.timers.setTimer(() => {
            if (this.dead) return;
            this.inFlight -= 1;
            this.gate.release(lease);
            this.next(level, holdMs);
          }, holdMs);
        },
        () => undefined,
      );
  }
}

/** The durable-entity ledger adapter over an {@link EntityHost} (no pause between its reads). */
export function entityLedger(host: EntityHost): CapacityLedger {
  return createDurableCapacityLedger(() => host.client(), { sleep: () => Promise.resolve(), readDelaysMs: [0] });
}
