import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TableClient } from '@azure/data-tables';
import { createTableCapacityLedger } from '../../shared/adapters/azure/table-capacity-ledger.js';
import type { CapacityLedgerOptions } from '../../shared/core/scheduling/capacity-ledger.js';
import { ConcurrencyMeter } from '../concurrency-meter.js';
import { startSimulator, type RunningSimulator } from '../simulator.js';
import { startCallers, type CallerGroup, type CallOutcome } from './closed-loop-callers.js';
import { startGatewayProcess, type GatewayProcess } from './gateway-process.js';
import { entryOf, grantOf, watchLedger, type LedgerSample, type LedgerWatch } from './ledger-watch.js';
import { sharedCapacityConfig } from './shared-capacity-config.js';
import { distribution, type WaitDistribution } from './wait-stats.js';

/** Options of {@link runSharedCapacityScenario}. */
export interface SharedCapacityOptions {
  /** Storage of the replicas' Table adapters and capacity ledger (an Azurite connection string). */
  readonly storageConnection: string;
  /** Simulated backends in the pool, and the calls each takes at once. */
  readonly backends: number;
  readonly perBackend: number;
  /** How long each backend call takes (its lease hold). */
  readonly latencyMs: number;
  /** Level-3 callers on the first gateway, level-1 callers on the second, level-3 callers on the third. */
  readonly floodCallers: number;
  readonly urgentCallers: number;
  readonly joinCallers: number;
  /** The replicas' `scheduling.sharing` (shorter staleness than the default keeps the kill phase short). */
  readonly sharing: CapacityLedgerOptions & { readonly reportIntervalMs: number };
  /** Bound of every wait for the ledger to reach a state. */
  readonly phaseTimeoutMs: number;
}

/** Two backends of 4 (capacity 8), calls of 200 ms, 16 / 4 / 8 callers, 1 s reports, 6 s staleness. */
export const DEFAULT_SHARED_CAPACITY: Omit<SharedCapacityOptions, 'storageConnection'> = {
  backends: 2,
  perBackend: 4,
  latencyMs: 200,
  floodCallers: 16,
  urgentCallers: 4,
  joinCallers: 8,
  sharing: { reportIntervalMs: 1_000, heartbeatMs: 2_000, instanceStaleMs: 4_000 },
  phaseTimeoutMs: 20_000,
};

/** How one change of demand settled in the ledger. */
export interface PhaseMeasure {
  readonly name: string;
  /** From the change (callers started, process spawned or killed) until every instance held its target. */
  readonly convergedAfterMs: number;
  /** Reports each instance made in that time (`seq` now less `seq` then), by instance. */
  readonly reports: Readonly<Record<string, number>>;
  /** Ledger revisions (every instance's reports) in that time. */
  readonly revisions: number;
  /**
   * Report rounds: revisions per live instance (a busy instance reports once per interval, so a round is
   * about one interval). Counts the work the ledger did to settle, whatever the machine's load.
   */
  readonly rounds: number;
}

/** What the scenario observed. */
export interface SharedCapacityResult {
  readonly options: Omit<SharedCapacityOptions, 'storageConnection'>;
  readonly capacity: number;
  /** Most calls the pool's backends had in progress at once, over the run and while the third gateway started. */
  readonly peak: number;
  readonly peakDuringJoin: number;
  /** From spawning the third gateway until it listened (process start-up). */
  readonly joinStartupMs: number;
  readonly phases: readonly PhaseMeasure[];
  /** Queue waits (`Server-Timing: queue`) of level-1 and level-3 calls answered 200. */
  readonly waits: readonly WaitDistribution[];
  readonly groups: readonly { gateway: string; level: number; sent: number; outcomes: readonly CallOutcome[] }[];
  /** Calls the surviving gateways answered 200 after the kill. */
  readonly servedAfterKill: number;
  /** The killed gateway's share: before the kill, and what the third gateway held once it was dropped. */
  readonly killedShare: number;
  readonly joinerShareAfterKill: number;
  /** Ledger instances left once the survivors stopped gracefully (they leave): should be none. */
  readonly leftAfterStop: number;
  readonly elapsedMs: number;
}

interface Run {
  readonly options: SharedCapacityOptions;
  readonly poolId: string;
  readonly configFile: string;
  readonly meter: ConcurrencyMeter;
  readonly watch: LedgerWatch;
  readonly gateways: Map<string, GatewayProcess>;
  readonly callers: CallerGroup[];
}

function seqs(sample: LedgerSample): Record<string, number> {
  return Object.fromEntries(Object.entries(sample.ledger.instances).map(([id, e]) => [id, e.seq ?? 0]));
}

/** Waits for convergence after a change made at `startedAt` (whose ledger then was `before`). */
async function settle(
  run: Run,
  name: string,
  startedAt: number,
  before: LedgerSample,
  ready: (s: LedgerSample) => boolean,
): Promise<{ measure: PhaseMeasure; sample: LedgerSample }> {
  const sample = await run.watch.waitFor(
    (s) => s.atMs >= startedAt && s.converged && ready(s),
    `the ledger to converge after "${name}"`,
    run.options.phaseTimeoutMs,
  );
  const then = seqs(before);
  const reports = Object.fromEntries(Object.entries(seqs(sample)).map(([id, seq]) => [id, seq - (then[id] ?? 0)]));
  const revisions = (sample.ledger.revision ?? 0) - (before.ledger.revision ?? 0);
  const rounds = Math.ceil(revisions / Math.max(1, Object.keys(sample.ledger.instances).length));
  return { measure: { name, convergedAfterMs: sample.atMs - startedAt, reports, revisions, rounds }, sample };
}

async function spawnGateway(run: Run, name: string): Promise<GatewayProcess> {
  const gateway = await startGatewayProcess({
    name,
    configFile: run.configFile,
    storageConnection: run.options.storageConnection,
    instanceId: name,
  });
  run.gateways.set(name, gateway);
  return gateway;
}

function call(run: Run, gateway: string, level: 1 | 3, callers: number): CallerGroup {
  const group = startCallers({ gateway, url: run.gateways.get(gateway)!.url, level, callers, timeoutMs: 60_000 });
  run.callers.push(group);
  return group;
}

/** Phases 1–3: g1 floods the pool at level 3; g2's level-1 callers take their share; g3 joins. */
async function shiftAndJoin(
  run: Run,
  capacity: number,
): Promise<{ phases: PhaseMeasure[]; peakDuringJoin: number; joinStartupMs: number }> {
  const o = run.options;
  await Promise.all([spawnGateway(run, 'g1'), spawnGateway(run, 'g2')]);
  const floodAt = performance.now();
  const floodBefore = await run.watch.latest();
  call(run, 'g1', 3, o.floodCallers);
  const flood = await settle(run, 'flood', floodAt, floodBefore, (s) => grantOf(s, 'g1') === capacity);

  const shiftAt = performance.now();
  call(run, 'g2', 1, o.urgentCallers);
  const shift = await settle(run, 'shift', shiftAt, flood.sample, (s) => (entryOf(s, 'g2')?.demand[0] ?? 0) > 0);

  const spawnAt = performance.now();
  await spawnGateway(run, 'g3');
  // Settling is timed from its first calls (process start-up on a loaded machine is not the ledger's).
  const joinAt = performance.now();
  const joinBefore = await run.watch.latest();
  call(run, 'g3', 3, o.joinCallers);
  const join = await settle(run, 'join', joinAt, joinBefore, (s) => grantOf(s, 'g3') > 0);
  return {
    phases: [flood.measure, shift.measure, join.measure],
    peakDuringJoin: run.meter.peakBetween(spawnAt, join.sample.atMs),
    joinStartupMs: joinAt - spawnAt,
  };
}

/** Phase 4: g1 is killed mid-run; its share returns once the ledger drops it, the others go on. */
async function killFirst(
  run: Run,
): Promise<{ measure: PhaseMeasure; killedShare: number; joinerShare: number; servedAfterKill: number }> {
  const before = await run.watch.latest();
  const killedShare = grantOf(before, 'g1');
  const killAt = performance.now();
  await run.gateways.get('g1')!.kill();
  run.gateways.delete('g1');
  const dropped = await settle(run, 'kill', killAt, before, (s) => entryOf(s, 'g1') === undefined);
  // Let the survivors serve on their new shares for a report interval.
  await new Promise((resolve) => setTimeout(resolve, run.options.sharing.reportIntervalMs));
  const servedAfterKill = run.callers
    .filter((g) => g.gateway !== 'g1')
    .flatMap((g) => g.outcomes)
    .filter((c) => c.status === 200 && c.startedAtMs > killAt).length;
  return { measure: dropped.measure, killedShare, joinerShare: grantOf(dropped.sample, 'g3'), servedAfterKill };
}

function waitsOf(groups: readonly CallerGroup[]): WaitDistribution[] {
  return [1, 3].map((level) =>
    distribution(
      `level ${level}`,
      groups
        .filter((g) => g.level === level)
        .flatMap((g) => g.outcomes)
        .filter((c) => c.status === 200 && c.queueMs !== undefined)
        .map((c) => c.queueMs!),
    ),
  );
}

/**
 * Three standalone gateways (child processes, `--storage azurite`) share one pool of simulated backends
 * through the Table capacity ledger: g1 is flooded with level-3 calls, g2 receives level-1 calls, g3
 * joins mid-run with level-3 calls, then g1 is killed. The backends count the calls they hold at once;
 * a watcher reads the ledger throughout. Real processes, real sockets, real storage: nothing is stubbed.
 */
export async function runSharedCapacityScenario(options: SharedCapacityOptions): Promise<SharedCapacityResult> {
  const started = performance.now();
  const capacity = options.backends * options.perBackend;
  const suffix = randomBytes(4).toString('hex');
  const dir = mkdtempSync(join(tmpdir(), 'gw-shared-capacity-'));
  const sims: RunningSimulator[] = [];
  const run = newRun(options, `shared-${suffix}`, join(dir, 'gateway.config.json'));
  try {
    await startBackends(run, suffix, sims);
    const { phases, peakDuringJoin, joinStartupMs } = await shiftAndJoin(run, capacity);
    const kill = await killFirst(run);
    const leftAfterStop = await stopAndCount(run);
    const { storageConnection: _s, ...shown } = options;
    return {
      options: shown,
      capacity,
      peak: run.meter.peak,
      peakDuringJoin,
      joinStartupMs,
      phases: [...phases, kill.measure],
      waits: waitsOf(run.callers),
      groups: run.callers.map((g) => ({ gateway: g.gateway, level: g.level, sent: g.sent(), outcomes: g.outcomes })),
      servedAfterKill: kill.servedAfterKill,
      killedShare: kill.killedShare,
      joinerShareAfterKill: kill.joinerShare,
      leftAfterStop,
      elapsedMs: performance.now() - started,
    };
  } finally {
    run.watch.stop();
    await Promise.all(run.callers.map((g) => g.stop()));
    await Promise.all([...run.gateways.values()].map((g) => g.kill()));
    await Promise.all(sims.map((s) => s.close()));
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A run's shared state: the meter the backends count into and the watcher reading the pool's ledger. */
function newRun(options: SharedCapacityOptions, poolId: string, configFile: string): Run {
  const table = TableClient.fromConnectionString(options.storageConnection, 'GatewayCapacity', {
    allowInsecureConnection: true,
  });
  const watch = watchLedger(createTableCapacityLedger({ client: table }), poolId, options.sharing);
  return { options, poolId, configFile, meter: new ConcurrencyMeter(), watch, gateways: new Map(), callers: [] };
}

/** Starts the pool's simulated backends (into `sims`, for the caller to close) and writes the gateways' config. */
async function startBackends(run: Run, suffix: string, sims: RunningSimulator[]): Promise<void> {
  const { backends: count, latencyMs, perBackend, sharing } = run.options;
  for (let i = 0; i < count; i++)
    sims.push(await startSimulator({ name: `b${i}-${suffix}`, latencyMs, meter: run.meter, recordAttempts: false }));
  const backends = Object.fromEntries(sims.map((s) => [s.name, s.url]));
  writeFileSync(
    run.configFile,
    JSON.stringify(sharedCapacityConfig({ poolId: run.poolId, backends, perBackend, sharing })),
  );
}

/** Stops the callers and the surviving gateways; returns how many instances the ledger still lists after them. */
async function stopAndCount(run: Run): Promise<number> {
  await Promise.all(run.callers.map((g) => g.stop()));
  await Promise.all([...run.gateways.values()].map((g) => g.stop()));
  run.gateways.clear();
  const left = await run.watch
    .waitFor((s) => Object.keys(s.ledger.instances).length === 0, 'the survivors to leave', run.options.phaseTimeoutMs)
    .catch(() => undefined);
  return left === undefined ? Object.keys((await run.watch.latest()).ledger.instances).length : 0;
}
