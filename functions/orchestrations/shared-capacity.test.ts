import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../../shared/core/test-support/fake-clock.js';
import { ManualTimers } from '../../shared/core/jobs/test-support/manual-timers.js';
import { hasConverged } from '../../shared/core/scheduling/capacity-grants.js';
import { totalCapacity, type PoolLedger } from '../../shared/core/scheduling/capacity-ledger.js';
import { DEFAULT_SHARED_CAPACITY } from '../../simulator/saturation/shared-capacity.js';
import { OVER_CAPACITY_BOUND, ROUNDS_TO_CONVERGE } from '../../simulator/saturation/shared-capacity-checks.js';
import { distribution } from '../../simulator/saturation/wait-stats.js';
import { captureRegistrations, capturedFunction } from '../smoke/capture-registrations.js';
import { CAPACITY_GRANTED_EVENT, CAPACITY_LEDGER_ENTITY, GATEWAY_REQUEST_ORCHESTRATOR } from './names.js';
import { DurableJobDriver } from './test-support/durable-job-driver.js';
import { EntityHost, VirtualGateway, entityLedger } from './test-support/virtual-deployment.js';

// The Functions path of the shared-capacity scenario (simulator/saturation/shared-capacity.ts runs it with
// three standalone processes on Azurite): the same pool, callers, timings and bounds, here with three
// instances of the Functions app sharing the `capacityLedger` entity — run by durable-functions' entity
// engine — and durable requests whose `gatewayRequest` orchestrations run on synthetic histories, all in
// virtual time.
const S = DEFAULT_SHARED_CAPACITY;
const CAPACITY = S.backends * S.perBackend;
const POOL = 'shared';
const SEEN = [{ groupId: 'default', capacity: CAPACITY }];
const STEP_MS = 50;

let entityHandler: (...args: unknown[]) => unknown;
let orchestrator: (...args: unknown[]) => unknown;
let useGrantNotifier: typeof import('./capacity-ledger-entity.js').useGrantNotifier;
beforeAll(async () => {
  captureRegistrations();
  await import('./registrations.js');
  ({ useGrantNotifier } = await import('./capacity-ledger-entity.js'));
  entityHandler = capturedFunction(CAPACITY_LEDGER_ENTITY).handler;
  orchestrator = capturedFunction(GATEWAY_REQUEST_ORCHESTRATOR).handler;
});

interface World {
  readonly timers: ManualTimers;
  readonly host: EntityHost;
  readonly gateways: Map<string, VirtualGateway>;
  readonly jobs: DurableJobDriver[];
  peak: number;
}

function inFlight(world: World): number {
  const calls = [...world.gateways.values()].reduce((s, g) => s + g.holding, 0);
  return calls + world.jobs.filter((j) => j.running).length;
}

/** Offered slots become `CapacityGranted` events on their orchestrations (what the entity's client does). */
async function deliverOffers(world: World): Promise<void> {
  for (const lease of world.host.offered.splice(0)) {
    const job = world.jobs.find((j) => j.input.jobId === lease.requestId);
    await job?.raise(CAPACITY_GRANTED_EVENT, { requestId: lease.requestId, grantedAtMs: lease.grantedAtMs });
  }
}

/** Advances virtual time in steps until `done` holds (bounded), checking the backends' load at each step. */
async function until(
  world: World,
  done: (ledger: PoolLedger) => boolean,
  what: string,
  maxMs = 30_000,
): Promise<number> {
  const from = world.timers.clock.now();
  for (let waited = 0; waited <= maxMs; waited += STEP_MS) {
    await world.timers.advance(STEP_MS);
    await world.host.idle();
    await deliverOffers(world);
    world.peak = Math.max(world.peak, inFlight(world));
    const ledger = world.host.state;
    if (ledger !== undefined && done(ledger)) return world.timers.clock.now() - from;
  }
  throw new Error(`no ${what} within ${maxMs} ms: ${JSON.stringify(world.host.state)}`);
}

function start(world: World, name: string, level: number, callers: number): VirtualGateway {
  const gateway = new VirtualGateway(name, entityLedger(world.host), world.timers, SEEN, POOL, S.sharing);
  world.gateways.set(name, gateway);
  gateway.startCallers(level, callers, S.latencyMs);
  return gateway;
}

const grant = (ledger: PoolLedger, id: string): number => totalCapacity(ledger.instances[id]?.grant);
const converged = (world: World) => (ledger: PoolLedger) => hasConverged(ledger, world.timers.clock.now(), S.sharing);
const rounds = (before: PoolLedger | undefined, after: PoolLedger): number =>
  Math.ceil(((after.revision ?? 0) - (before?.revision ?? 0)) / Math.max(1, Object.keys(after.instances).length));

describe('capacity shared by three Functions instances through the capacityLedger entity (virtual time)', () => {
  const world: World = {
    timers: new ManualTimers(new FakeClock(Date.UTC(2025, 0, 2, 10, 0, 0))),
    host: undefined as unknown as EntityHost,
    gateways: new Map(),
    jobs: [],
    peak: 0,
  };
  beforeAll(() => {
    (world as { host: EntityHost }).host = new EntityHost(entityHandler, POOL, useGrantNotifier);
  });
  afterAll(() => world.host.dispose());

  it('floods, moves to level 1, a third instance joins, durable grants by event, survives a kill', async () => {
    start(world, 'g1', 3, S.floodCallers);
    await until(world, (l) => grant(l, 'g1') === CAPACITY, 'flood');

    let before = world.host.state;
    start(world, 'g2', 1, S.urgentCallers);
    const shiftMs = await until(world, (l) => (l.instances['g2']?.demand[0] ?? 0) > 0 && converged(world)(l), 'shift');
    const shiftRounds = rounds(before, world.host.state!);

    before = world.host.state;
    start(world, 'g3', 3, S.joinCallers);
    const joinMs = await until(world, (l) => grant(l, 'g3') > 0 && converged(world)(l), 'join');
    const joinRounds = rounds(before, world.host.state!);

    // Two durable level-1 requests arrive while the instances hold the whole pool: they wait, by event.
    const deadlineMs = world.timers.clock.now() + 600_000;
    for (const jobId of ['job-a', 'job-b']) {
      const job = new DurableJobDriver(
        orchestrator,
        { jobId, poolId: POOL, level: 1, deadlineMs },
        world.host,
        world.timers,
        S.latencyMs,
      );
      world.jobs.push(job);
      await job.drive();
      expect(job.grantedAtMs, `${jobId} waits: the pool is held`).toBeUndefined();
    }
    const durableMs = await until(world, () => world.jobs.every((j) => j.grantedAtMs !== undefined), 'durable grants');
    await until(world, () => world.jobs.every((j) => j.last?.isDone === true), 'durable requests to finish');
    for (const job of world.jobs) {
      expect(job.backstopsFired, `${job.input.jobId} was woken by the entity's event, not its backstop`).toBe(0);
      expect(job.last!.output).toMatchObject({ outcome: 'finished', status: 'succeeded' });
    }

    // g1 dies: its calls are cut, it never reports again; the entity drops it after the staleness bound.
    const g1Share = grant(world.host.state!, 'g1');
    world.gateways.get('g1')!.kill();
    world.gateways.delete('g1');
    const killMs = await until(world, (l) => l.instances['g1'] === undefined && converged(world)(l), 'kill', 60_000);
    const g3After = grant(world.host.state!, 'g3');

    const waits = [1, 3].map((level) =>
      distribution(
        `level ${level}`,
        [...world.gateways.values(), ...[]]
          .flatMap((g) => g.calls)
          .filter((c) => c.level === level)
          .map((c) => c.waitedMs),
      ),
    );
    process.stdout.write(
      `functions path (virtual time): peak ${world.peak}/${CAPACITY}; shift ${shiftMs} ms (${shiftRounds} rounds), ` +
        `join ${joinMs} ms (${joinRounds} rounds), durable grants ${durableMs} ms, kill ${killMs} ms; ` +
        `p50 wait level 1 ${waits[0]!.p50Ms} ms, level 3 ` +
        `${waits[1]!.p50Ms} ms; g1 held ${g1Share}, g3 now ${g3After}\n`,
    );
    expect(world.peak).toBeLessThanOrEqual(CAPACITY + OVER_CAPACITY_BOUND);
    expect(shiftRounds).toBeLessThanOrEqual(ROUNDS_TO_CONVERGE);
    expect(joinRounds).toBeLessThanOrEqual(ROUNDS_TO_CONVERGE);
    expect(waits[0]!.p50Ms).toBeLessThan(waits[1]!.p50Ms);
    expect(g3After).toBeGreaterThan(0);
  }, 120_000);
});
