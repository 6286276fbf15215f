import { committedIn } from './capacity-commitments.js';
import {
  allocateProportionally,
  capacityIn,
  prune,
  reportPacing,
  revised,
  type CapacityLedgerOptions,
  type InstanceReport,
  type PoolLedger,
  type ReportPacing,
} from './capacity-ledger.js';
import { computeTargets, type PoolTargets } from './capacity-targets.js';
import { offerDurable, type OfferResult } from './durable-grants.js';
import type { GroupCapacity } from './scheduler-types.js';

/** The ledger's answer to a report. */
export interface GrantAnswer {
  /** Per group, the most the instance may admit until its next report. */
  readonly grant: readonly GroupCapacity[];
  /** What the instance will hold once the ledger has converged (≥ grant while others still hold its part). */
  readonly target: readonly GroupCapacity[];
  /** How often to report from now on (stretched when many instances report). */
  readonly pacing: ReportPacing;
  /** Live instances of the pool, the reporter included. */
  readonly instances: number;
  /** The ledger's revision after this report. */
  readonly revision: number;
}

/** A report applied: the new ledger, the answer, and slots it offered to durable requests. */
export interface ReportResult extends OfferResult {
  readonly answer: GrantAnswer;
}

/**
 * Per group, the room `instanceId` may grow into: the group less the durable placement and what every
 * other instance may have in flight.
 */
function roomFor(ledger: PoolLedger, instanceId: string, targets: PoolTargets): GroupCapacity[] {
  const others = Object.entries(ledger.instances).filter(([id]) => id !== instanceId);
  return targets.groups.map((g) => ({
    groupId: g.groupId,
    capacity:
      g.capacity -
      capacityIn(targets.durablePlacement, g.groupId) -
      others.reduce((s, [, e]) => s + committedIn(e, g.groupId), 0),
  }));
}

/** The grant of `instanceId`: its target, within the room nobody else holds. */
function grantFor(ledger: PoolLedger, instanceId: string, targets: PoolTargets): GroupCapacity[] {
  const target = targets.instances.get(instanceId) ?? [];
  const room = roomFor(ledger, instanceId, targets);
  return targets.groups.map((g) => ({
    groupId: g.groupId,
    capacity: Math.max(0, Math.min(capacityIn(target, g.groupId), capacityIn(room, g.groupId))),
  }));
}

/** `groups` with each capacity replaced by `f(groupId)`. */
function mapGroups(groups: readonly GroupCapacity[], f: (groupId: string) => number): GroupCapacity[] {
  return groups.map((g) => ({ groupId: g.groupId, capacity: f(g.groupId) }));
}

/**
 * Moves every other instance toward its target, safely, so that instances that only *read* the ledger
 * between their reports learn of it: above its target, it is advised to lower (`lower`; its grant and
 * what it holds still count until it reports holding less); below it, its grant is raised — first up to
 * what it holds anyway, then into free room, split in proportion to what each is owed.
 */
function rebalance(ledger: PoolLedger, reporterId: string, targets: PoolTargets): PoolLedger {
  const instances = { ...ledger.instances };
  const others = Object.keys(instances)
    .filter((id) => id !== reporterId)
    .sort();
  for (const id of others) {
    const { lower: _lower, ...entry } = instances[id]!;
    const target = targets.instances.get(id) ?? [];
    const want = (g: string): number => capacityIn(target, g);
    const grant = mapGroups(targets.groups, (g) =>
      Math.max(capacityIn(entry.grant, g), Math.min(want(g), committedIn(entry, g))),
    );
    const above = targets.groups.some((g) => capacityIn(grant, g.groupId) > want(g.groupId));
    instances[id] = {
      ...entry,
      grant,
      ...(above ? { lower: mapGroups(targets.groups, (g) => Math.min(want(g), capacityIn(grant, g))) } : {}),
    };
  }
  for (const g of targets.groups) {
    const used = Object.values(instances).reduce((s, e) => s + committedIn(e, g.groupId), 0);
    const room = g.capacity - capacityIn(targets.durablePlacement, g.groupId) - used;
    const owed = others.map(
      (id) =>
        [id, capacityIn(targets.instances.get(id), g.groupId) - capacityIn(instances[id]!.grant, g.groupId)] as const,
    );
    const debt = owed.reduce((s, [, n]) => s + Math.max(0, n), 0);
    if (room <= 0 || debt === 0) continue;
    for (const [id, n] of allocateProportionally(Math.min(room, debt), owed)) {
      if (n <= 0) continue;
      const entry = instances[id]!;
      instances[id] = {
        ...entry,
        grant: mapGroups(targets.groups, (x) => capacityIn(entry.grant, x) + (x === g.groupId ? n : 0)),
      };
    }
  }
  return { ...ledger, instances };
}

/**
 * Applies an instance's report (pure): records it, answers its grant — its target, but never more than
 * the room other instances and durable requests leave it — moves the other instances' recorded grants
 * toward their targets (they learn it by reading the ledger), and offers any slot the report freed to
 * waiting durable requests. A grant only shrinks an instance's commitment once the instance has said it
 * holds less ({@link InstanceReport.holding}), so grants summed over instances never exceed the pool.
 *
 * @example
 * const report = { instanceId: 'i1', groups, demand: [2, 0, 5], inUse: 4, holding, atMs: now };
 * const { ledger: next, answer } = applyReport(ledger, report);
 */
export function applyReport(
  ledger: PoolLedger,
  report: InstanceReport,
  options: CapacityLedgerOptions = {},
): ReportResult {
  const nowMs = report.atMs;
  const pruned = prune(ledger, nowMs, options);
  const previous = pruned.instances[report.instanceId];
  const recorded: PoolLedger = {
    ...pruned,
    groups: report.groups.map((g) => ({ groupId: g.groupId, capacity: g.capacity })),
    instances: {
      ...pruned.instances,
      [report.instanceId]: { ...report, ...(previous?.grant === undefined ? {} : { grant: previous.grant }) },
    },
  };
  const targets = computeTargets(recorded, nowMs, options);
  const grant = grantFor(recorded, report.instanceId, targets);
  const { lower: _lower, ...entry } = recorded.instances[report.instanceId]!;
  const granted: PoolLedger = {
    ...recorded,
    instances: { ...recorded.instances, [report.instanceId]: { ...entry, grant } },
  };
  const offers = offerDurable(revised(rebalance(granted, report.instanceId, targets)), nowMs, options);
  const instances = Object.keys(offers.ledger.instances).length;
  return {
    ...offers,
    answer: {
      grant,
      target: targets.instances.get(report.instanceId) ?? [],
      pacing: reportPacing(instances, options),
      instances,
      revision: offers.ledger.revision ?? 0,
    },
  };
}

/**
 * Records what an instance holds after it applied a lowered grant before the report was stored (the
 * Table ledger lets it): the room it gave up is free for others at once, not one report later.
 */
export function withHolding(ledger: PoolLedger, instanceId: string, holding: readonly GroupCapacity[]): PoolLedger {
  const entry = ledger.instances[instanceId];
  if (entry === undefined) return ledger;
  return { ...ledger, instances: { ...ledger.instances, [instanceId]: { ...entry, holding: [...holding] } } };
}

/**
 * An instance leaves (graceful stop): what it held returns to the pool at once and is offered to waiting
 * durable requests. Idempotent.
 */
export function leaveLedger(
  ledger: PoolLedger,
  instanceId: string,
  nowMs: number,
  options: CapacityLedgerOptions = {},
): OfferResult {
  if (ledger.instances[instanceId] === undefined) return { ledger, offered: [] };
  const instances = { ...ledger.instances };
  delete instances[instanceId];
  const left = prune({ ...ledger, instances }, nowMs, options);
  const rebalanced = rebalance(left, instanceId, computeTargets(left, nowMs, options));
  return offerDurable(revised(rebalanced), nowMs, options);
}

/**
 * Whether the ledger has converged: every live instance holds exactly its target (its grant equals the
 * target and it holds no more than the grant). Used by observers (the saturation proof), not by grants.
 */
export function hasConverged(ledger: PoolLedger, nowMs: number, options: CapacityLedgerOptions = {}): boolean {
  const live = prune(ledger, nowMs, options);
  const targets = computeTargets(live, nowMs, options);
  return Object.entries(live.instances).every(([id, entry]) =>
    targets.groups.every((g) => {
      const target = capacityIn(targets.instances.get(id), g.groupId);
      return capacityIn(entry.grant, g.groupId) === target && committedIn(entry, g.groupId) === target;
    }),
  );
}

/**
 * The answer to a report read back from a ledger that already stored it (the durable entity applies
 * {@link applyReport} itself; its client can only read the state): the instance's stored grant — its last
 * one until the report shows — and its target, pacing and instance count in the live (pruned) ledger.
 */
export function answerFromStoredLedger(
  ledger: PoolLedger,
  report: InstanceReport,
  options: CapacityLedgerOptions,
): GrantAnswer {
  const live = prune(ledger, report.atMs, options);
  const entry = live.instances[report.instanceId];
  const instances = Math.max(1, Object.keys(live.instances).length);
  return {
    // Until its report shows, the instance keeps its last grant (the ledger still counts it as held).
    grant: entry?.grant ?? [],
    target: computeTargets(live, report.atMs, options).instances.get(report.instanceId) ?? [],
    pacing: reportPacing(instances, options),
    instances,
    revision: ledger.revision ?? 0,
  };
}
