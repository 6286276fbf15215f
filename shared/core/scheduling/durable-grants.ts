import { spareSlots } from './capacity-commitments.js';
import {
  prune,
  resolveLedgerOptions,
  revised,
  type CapacityLedgerOptions,
  type DurableLease,
  type DurableWaiter,
  type PoolLedger,
} from './capacity-ledger.js';
import { computeTargets, effectiveLevel } from './capacity-targets.js';

/**
 * Durable requests (orchestrations) waiting in the pool's ledger by priority. A request asks once
 * ({@link acquireDurable}); when it cannot have a slot yet it waits — not polling — and the ledger offers it
 * one as soon as a slot frees ({@link offerDurable}, run after every release, report and leave); the host
 * tells its orchestration by an event, and the orchestration confirms the offer by asking again. An offer
 * not confirmed in time lapses and the request waits again in its old place.
 */

/** The decision on a durable request's ask. */
export type DurableDecision =
  | { readonly kind: 'granted'; readonly lease: DurableLease }
  /** `position` is 1-based among the waiters of the pool, by effective level then arrival. */
  | { readonly kind: 'waiting'; readonly position: number }
  | { readonly kind: 'rejected'; readonly reason: 'expired' | 'queue-full' };

/** A durable request's ask. */
export interface DurableAcquire {
  readonly requestId: string;
  /** 1 = most urgent. */
  readonly level: number;
  /** The request stops waiting at this instant. */
  readonly deadlineMs: number;
  readonly nowMs: number;
}

/** A change that may have offered slots to waiting durable requests: tell their orchestrations. */
export interface OfferResult {
  readonly ledger: PoolLedger;
  /** Slots newly offered, one per request (request id = orchestration instance id). */
  readonly offered: readonly DurableLease[];
}

function byUrgency(waiting: readonly DurableWaiter[], nowMs: number, agingStepMs: number): DurableWaiter[] {
  return [...waiting].sort(
    (a, b) => effectiveLevel(a, nowMs, agingStepMs) - effectiveLevel(b, nowMs, agingStepMs) || a.seq - b.seq,
  );
}

/** How many more durable leases the pool can give now: spare slots, within the durable requests' share. */
function grantable(ledger: PoolLedger, nowMs: number, options: CapacityLedgerOptions): number {
  const held = Object.keys(ledger.leases).length;
  const share = computeTargets(ledger, nowMs, options).durableTarget - held;
  return Math.max(0, Math.min(spareSlots(ledger), share));
}

function leaseFor(waiter: DurableWaiter, nowMs: number, options: CapacityLedgerOptions, offer: boolean): DurableLease {
  const o = resolveLedgerOptions(options);
  return {
    requestId: waiter.requestId,
    level: waiter.level,
    grantedAtMs: nowMs,
    expiresAtMs: nowMs + o.durableLeaseTtlMs,
    waitedMs: nowMs - waiter.enqueuedAtMs,
    ...(offer ? { confirmByMs: nowMs + o.offerTtlMs, offeredTo: waiter } : {}),
  };
}

/**
 * Gives the slots that can be given to the most urgent waiters (effective level, then arrival): each
 * becomes an unconfirmed offer. `confirmed` names a request asking right now: its slot is granted outright.
 */
function give(ledger: PoolLedger, nowMs: number, options: CapacityLedgerOptions, confirmed?: string): OfferResult {
  const o = resolveLedgerOptions(options);
  const count = grantable(ledger, nowMs, o);
  if (count === 0 || ledger.waiting.length === 0) return { ledger, offered: [] };
  const chosen = byUrgency(ledger.waiting, nowMs, o.agingStepMs).slice(0, count);
  const leases = { ...ledger.leases };
  const offered: DurableLease[] = [];
  for (const waiter of chosen) {
    const lease = leaseFor(waiter, nowMs, o, waiter.requestId !== confirmed);
    leases[lease.requestId] = lease;
    if (lease.confirmByMs !== undefined) offered.push(lease);
  }
  const taken = new Set(chosen.map((w) => w.requestId));
  return { ledger: { ...ledger, leases, waiting: ledger.waiting.filter((w) => !taken.has(w.requestId)) }, offered };
}

/**
 * Offers free slots to waiting durable requests (pure). Run it after any change that can free a slot.
 *
 * @example
 * const { ledger: next, offered } = offerDurable(ledger, now);
 * for (const lease of offered) await client.raiseEvent(lease.requestId, 'CapacityGranted', lease);
 */
export function offerDurable(ledger: PoolLedger, nowMs: number, options: CapacityLedgerOptions = {}): OfferResult {
  return give(prune(ledger, nowMs, options), nowMs, options);
}

/**
 * A durable request asks for a slot (asking again is idempotent, and confirms a slot offered to it).
 * Granted when it is among the most urgent waiters that the pool's spare slots and the durable requests'
 * share allow, so a less urgent request never takes a slot a more urgent one waits for. Other waiters
 * the same change lets in are offered their slot (`offered`).
 *
 * @example
 * const { ledger: next, decision } = acquireDurable(ledger, { requestId: jobId, level: 2, deadlineMs, nowMs });
 */
export function acquireDurable(
  ledger: PoolLedger,
  request: DurableAcquire,
  options: CapacityLedgerOptions = {},
): OfferResult & { decision: DurableDecision } {
  const o = resolveLedgerOptions(options);
  const nowMs = request.nowMs;
  let next = revised(prune(ledger, nowMs, o));
  const held = next.leases[request.requestId];
  if (held !== undefined) {
    const { confirmByMs: _c, offeredTo: _o, ...lease } = held;
    next = { ...next, leases: { ...next.leases, [request.requestId]: lease } };
    return { ledger: next, offered: [], decision: { kind: 'granted', lease } };
  }
  if (request.deadlineMs <= nowMs) {
    next = { ...next, waiting: next.waiting.filter((w) => w.requestId !== request.requestId) };
    return { ledger: next, offered: [], decision: { kind: 'rejected', reason: 'expired' } };
  }
  const existing = next.waiting.find((w) => w.requestId === request.requestId);
  if (existing !== undefined) {
    next = { ...next, waiting: next.waiting.map((w) => (w === existing ? { ...w, lastSeenAtMs: nowMs } : w)) };
  } else if (next.waiting.length >= o.maxWaiting) {
    return { ledger: next, offered: [], decision: { kind: 'rejected', reason: 'queue-full' } };
  } else {
    const waiter: DurableWaiter = {
      requestId: request.requestId,
      level: request.level,
      enqueuedAtMs: nowMs,
      deadlineMs: request.deadlineMs,
      lastSeenAtMs: nowMs,
      seq: next.nextSeq,
    };
    next = { ...next, waiting: [...next.waiting, waiter], nextSeq: next.nextSeq + 1 };
  }
  const given = give(next, nowMs, o, request.requestId);
  const mine = given.ledger.leases[request.requestId];
  if (mine !== undefined) return { ...given, decision: { kind: 'granted', lease: mine } };
  const order = byUrgency(given.ledger.waiting, nowMs, o.agingStepMs);
  const position = order.findIndex((w) => w.requestId === request.requestId) + 1;
  return { ...given, decision: { kind: 'waiting', position } };
}

/**
 * Ends a durable request: releases its slot (or its offer), or removes it from the waiters; the slot is
 * offered on at once to the next waiter. Idempotent.
 *
 * @example
 * const { ledger: next, released, offered } = releaseDurable(ledger, jobId, now);
 */
export function releaseDurable(
  ledger: PoolLedger,
  requestId: string,
  nowMs: number,
  options: CapacityLedgerOptions = {},
): OfferResult & { released: boolean } {
  const released = ledger.leases[requestId] !== undefined;
  const leases = { ...ledger.leases };
  delete leases[requestId];
  const next = revised({ ...ledger, leases, waiting: ledger.waiting.filter((w) => w.requestId !== requestId) });
  return { ...offerDurable(next, nowMs, options), released };
}
