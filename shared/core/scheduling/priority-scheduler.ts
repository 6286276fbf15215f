import type { Clock } from '../clock.js';
import { FifoQueue } from './fifo-queue.js';
import { IndexedMinHeap } from './indexed-min-heap.js';
import { MinHeap } from './min-heap.js';
import { resolveSchedulerOptions, type ResolvedSchedulerOptions, type SchedulerOptions } from './scheduler-options.js';
import type {
  CancelResult,
  EnqueueResult,
  ExpiredRequest,
  GrantReason,
  GroupCapacity,
  Lease,
  LevelStats,
  PoolStats,
  ReleaseResult,
  ScheduleRequest,
  SchedulerEffects,
  SchedulerSnapshot,
  SchedulerStats,
  SchedulerTotals,
  WaitingSnapshot,
} from './scheduler-types.js';

/** What the scheduler needs from its host. */
export interface PrioritySchedulerDeps {
  readonly clock: Clock;
  readonly options?: SchedulerOptions;
}

interface WaitingEntry extends WaitingSnapshot {
  readonly allowedGroups: readonly string[] | undefined;
  readonly leaseTtlMs: number | undefined;
  state: 'waiting' | 'gone';
  /** Set when the entry is queued; a request granted at once never gets one. */
  line: UserLine | undefined;
}

/** One user's waiting requests in one lane, oldest first; keyed in its lane's heap by its head's `seq`. */
interface UserLine {
  readonly userId: string;
  readonly lane: Lane;
  readonly queue: FifoQueue<WaitingEntry>;
  headSeq: number;
  heapIndex: number;
}

/**
 * Waiting requests of one pool with the same level and the same `allowedGroups`. Inside a lane every
 * entry has the same reservation rights and group restrictions, and an older entry has waited longer,
 * so it is at least as urgent (aging) and may use at least the groups a younger one may (spill delays).
 * The head is therefore the most urgent and most eligible entry of its lane, which keeps the search for
 * the next grant at O(lanes) instead of O(waiting requests).
 *
 * The lane is kept as one FIFO line per user plus a heap of those lines ordered by their oldest entry:
 * the lane's head is the heap's top, and the oldest request of a user within the fair share is found by
 * visiting lines in heap order past the (few) users above it — O(log n) per decision, where one FIFO of
 * the whole lane had to walk past every request of a user who flooded the queue.
 */
interface Lane {
  readonly key: string;
  readonly level: number;
  readonly allowed: ReadonlySet<string> | undefined;
  readonly lines: Map<string, UserLine>;
  readonly heads: IndexedMinHeap<UserLine>;
  size: number;
}

interface Pool {
  readonly poolId: string;
  groups: GroupCapacity[];
  readonly inUse: Map<string, number>;
  readonly leasesByUser: Map<string, number>;
  readonly leasesByLevel: number[];
  readonly waitingByLevel: number[];
  leaseCount: number;
  readonly lanes: Map<string, Lane>;
  averageLeaseMs: number | undefined;
}

interface Candidate {
  readonly entry: WaitingEntry;
  readonly groupId: string;
  readonly effectiveLevel: number;
  readonly greedy: boolean;
}

/** The effects of one call, each list {@link NONE} until something is added (most calls add nothing). */
interface MutableEffects {
  grants: readonly Lease[];
  expired: readonly ExpiredRequest[];
  expiredLeases: readonly Lease[];
}

/** The empty list every call's effects start with: three arrays per scheduler call were built for nothing. */
const NONE: readonly never[] = Object.freeze([]);

/** `list` with `item` added: a new array in place of {@link NONE}, else the same one. */
function appended<T>(list: readonly T[], item: T): readonly T[] {
  if (list === NONE) return [item];
  (list as T[]).push(item);
  return list;
}

/** Weight of the newest lease duration in the moving average used for `retry-after` estimates. */
const LEASE_AVERAGE_WEIGHT = 0.2;

function emptyTotals(): SchedulerTotals {
  return {
    enqueued: 0,
    grants: 0,
    rejections: 0,
    expiredWaiting: 0,
    expiredLeases: 0,
    cancellations: 0,
    releases: 0,
    priorityInversions: 0,
  };
}

function increment(map: Map<string, number>, key: string, by: number): void {
  const next = (map.get(key) ?? 0) + by;
  if (next <= 0) map.delete(key);
  else map.set(key, next);
}

/**
 * The priority queue with capacity leases that decides which waiting request gets a backend slot.
 *
 * Pure logic: no timers, no I/O. Time comes from the injected clock; the owner calls {@link tick} when
 * {@link nextWakeAtMs} is reached (the `SchedulerGate` does this with one timer). Every state-changing
 * call first expires what is due (waiting TTLs, unreleased leases), then applies the change, then grants
 * whatever became possible, and returns all of it as {@link SchedulerEffects}. The state is plain JSON
 * ({@link snapshot} / {@link PriorityScheduler.restore}) so a durable entity can persist it.
 *
 * Order of service among waiting requests: effective level (own level improved by one per
 * `agingStepMs` of waiting, never above 1), then users within their fair share before users above it,
 * then FIFO. A request is eligible for a slot when a group it may use (its `allowedGroups` and its level's
 * spill policy) has a free slot and the slot is not reserved for another level. Grants are
 * work-conserving: a request that cannot use the free capacity does not block one that can.
 *
 * @example
 * const options = { perLevel: { '3': { groups: { ptu: 0 } } } };
 * const scheduler = new PriorityScheduler({ clock: new FakeClock(), options });
 * scheduler.setCapacity('gpt-4o', [{ groupId: 'ptu', capacity: 4 }, { groupId: 'payg', capacity: 8 }]);
 * const deadlineMs = Date.parse('2030-01-01');
 * const result = scheduler.enqueue({ requestId: 'r1', poolId: 'gpt-4o', priority: 1, userId: 'alice', deadlineMs });
 * if (result.kind === 'granted') {
 *   // ... call the backend of group result.lease.groupId, then:
 *   scheduler.release(result.lease.leaseId);
 * }
 */
export class PriorityScheduler {
  private options: ResolvedSchedulerOptions;
  private readonly clock: Clock;
  private readonly pools = new Map<string, Pool>();
  private readonly waiting = new Map<string, WaitingEntry>();
  private readonly leases = new Map<string, Lease>();
  private readonly leaseByRequest = new Map<string, string>();
  private readonly deadlines = new MinHeap<WaitingEntry>((a, b) => {
    this.steps += 1;
    return a.deadlineMs - b.deadlineMs || a.seq - b.seq;
  });
  private readonly leaseExpiries = new MinHeap<Lease>((a, b) => {
    this.steps += 1;
    return a.expiresAtMs - b.expiresAtMs || (a.leaseId < b.leaseId ? -1 : a.leaseId > b.leaseId ? 1 : 0);
  });
  /** Elementary steps taken so far: see {@link workSteps}. */
  private steps = 0;
  private totals: SchedulerTotals = emptyTotals();
  private nextSeq = 1;
  private nextLeaseNo = 1;

  constructor(deps: PrioritySchedulerDeps) {
    this.clock = deps.clock;
    this.options = resolveSchedulerOptions(deps.options);
  }

  /**
   * Applies new options (a configuration reload): reserved slots, aging, fair share, queue bounds, lease
   * TTL and the spill-over policy take effect from the next decision; waiting requests keep their place.
   * The number of levels cannot change while the scheduler holds state — that needs a restart — so such
   * options are refused with an error and the current ones stay.
   *
   * @example
   * scheduler.setOptions(config.scheduling);
   */
  setOptions(options: SchedulerOptions): void {
    const next = resolveSchedulerOptions(options);
    if (next.levels !== this.options.levels)
      throw new RangeError(
        `The number of priority levels cannot change from ${this.options.levels} to ${next.levels} without a restart.`,
      );
    this.options = next;
  }

  /**
   * Rebuilds a scheduler from {@link snapshot} output (possibly after a JSON round trip). Given the same
   * options and clock readings, the restored scheduler makes the same decisions as the original.
   *
   * @example
   * const copy = PriorityScheduler.restore(JSON.parse(JSON.stringify(scheduler)), { clock, options });
   */
  static restore(snapshot: SchedulerSnapshot, deps: PrioritySchedulerDeps): PriorityScheduler {
    if (snapshot.version !== 1) throw new RangeError(`Unknown scheduler snapshot version ${String(snapshot.version)}`);
    const scheduler = new PriorityScheduler(deps);
    scheduler.totals = { ...emptyTotals(), ...snapshot.totals };
    scheduler.nextSeq = snapshot.nextSeq;
    scheduler.nextLeaseNo = snapshot.nextLeaseNo;
    for (const saved of snapshot.pools) {
      const pool = scheduler.pool(saved.poolId);
      pool.groups = saved.groups.map((g) => ({ groupId: g.groupId, capacity: g.capacity }));
      pool.averageLeaseMs = saved.averageLeaseMs ?? undefined;
    }
    for (const lease of snapshot.leases) scheduler.addLease(scheduler.pool(lease.poolId), { ...lease });
    const ordered = [...snapshot.waiting].sort((a, b) => a.seq - b.seq);
    for (const saved of ordered) {
      const level = scheduler.checkLevel(saved.level);
      scheduler.insertWaiting(scheduler.pool(saved.poolId), { ...saved, level });
    }
    return scheduler;
  }

  /**
   * Asks for a slot. Granted at once when a group the request may use has a free, unreserved slot (after
   * granting whatever was already due, so nobody more urgent that could use the slot still waits);
   * otherwise queued at its level, or rejected when that level's queue is full (`GW_ERR_QUEUE_FULL` with
   * an estimated `retryAfterMs`) or the TTL has already passed (`GW_ERR_REQUEST_TTL_EXPIRED`).
   *
   * Throws `RangeError` for a priority outside 1..levels and `Error` for a request id already known.
   *
   * @example
   * const deadlineMs = clock.now() + 300_000;
   * const r = scheduler.enqueue({ requestId, poolId: 'gpt-4o', priority: 3, userId, deadlineMs });
   * if (r.kind === 'rejected') throw new GatewayError(r.code, { retryAfterMs: r.retryAfterMs });
   */
  enqueue(request: ScheduleRequest): EnqueueResult {
    const level = this.checkLevel(request.priority ?? this.options.defaultLevel);
    if (this.waiting.has(request.requestId) || this.leaseByRequest.has(request.requestId)) {
      throw new Error(`Request ${request.requestId} is already waiting or holds a lease`);
    }
    if (request.leaseTtlMs !== undefined && !(Number.isInteger(request.leaseTtlMs) && request.leaseTtlMs > 0)) {
      throw new RangeError('leaseTtlMs must be a positive integer');
    }
    const now = this.clock.now();
    const fx = this.begin(now);
    const pool = this.pool(request.poolId);
    this.pumpAll(now, fx);
    this.totals.enqueued += 1;
    if (request.deadlineMs <= now) {
      this.totals.rejections += 1;
      return { kind: 'rejected', code: 'GW_ERR_REQUEST_TTL_EXPIRED', ...fx };
    }
    const entry = this.makeEntry({
      requestId: request.requestId,
      poolId: request.poolId,
      level,
      userId: request.userId,
      deadlineMs: request.deadlineMs,
      enqueuedAtMs: now,
      seq: this.nextSeq,
      allowedGroups: request.allowedGroups === undefined ? undefined : [...request.allowedGroups],
      leaseTtlMs: request.leaseTtlMs,
    });
    this.nextSeq += 1;
    const groupId = this.pickGroup(pool, entry, now);
    if (groupId !== undefined) {
      this.countInversion(pool, entry, now);
      const lease = this.grant(pool, entry, groupId, now);
      return { kind: 'granted', lease, grants: fx.grants, expired: fx.expired, expiredLeases: fx.expiredLeases };
    }
    if ((pool.waitingByLevel[level] ?? 0) >= (this.options.maxQueueDepth[level] ?? 0)) {
      this.totals.rejections += 1;
      return {
        kind: 'rejected',
        code: 'GW_ERR_QUEUE_FULL',
        retryAfterMs: this.estimateRetryAfterMs(pool, level),
        ...fx,
      };
    }
    this.insertWaiting(pool, entry);
    let position = 0;
    for (let l = 1; l <= level; l += 1) position += pool.waitingByLevel[l] ?? 0;
    return { kind: 'queued', position, ...fx };
  }

  /**
   * Returns a lease's slot and grants what it makes possible. Releasing an unknown lease (already
   * released, or reclaimed by the lease TTL) is a no-op with `released: undefined`.
   *
   * @example
   * const { grants } = scheduler.release(lease.leaseId);
   * for (const next of grants) resolveWaiter(next.requestId, next);
   */
  release(leaseId: string): ReleaseResult {
    const now = this.clock.now();
    const fx = this.begin(now);
    const lease = this.leases.get(leaseId);
    if (lease !== undefined) {
      this.dropLease(lease, now, true);
      this.totals.releases += 1;
    }
    this.pumpAll(now, fx);
    return { released: lease, grants: fx.grants, expired: fx.expired, expiredLeases: fx.expiredLeases };
  }

  /**
   * Removes a waiting request (its caller disconnected). A request that already holds a lease is not
   * affected: release its lease instead.
   *
   * @example
   * signal.addEventListener('abort', () => scheduler.cancel(requestId));
   */
  cancel(requestId: string): CancelResult {
    const now = this.clock.now();
    const fx = this.begin(now);
    const entry = this.waiting.get(requestId);
    if (entry !== undefined) {
      this.removeWaiting(entry);
      this.totals.cancellations += 1;
    }
    this.pumpAll(now, fx);
    return { cancelled: entry !== undefined, ...fx };
  }

  /**
   * Sets a pool's capacity per group, in tier order (the first group is preferred, later groups are
   * spill-over). Call it whenever backends open, close, cool down or recover. Leases above a reduced
   * capacity run on; no new grant is made in that group until it is below capacity again. When capacity
   * grows, waiting requests are granted in priority order.
   *
   * @example
   * scheduler.setCapacity('gpt-4o', [{ groupId: 'ptu', capacity: 6 }, { groupId: 'payg', capacity: 20 }]);
   */
  setCapacity(poolId: string, groups: readonly GroupCapacity[]): SchedulerEffects {
    const seen = new Set<string>();
    for (const group of groups) {
      if (!(Number.isInteger(group.capacity) && group.capacity >= 0))
        throw new RangeError(`Capacity of ${group.groupId} must be a non-negative integer`);
      if (seen.has(group.groupId)) throw new RangeError(`Group ${group.groupId} is listed twice`);
      seen.add(group.groupId);
    }
    const now = this.clock.now();
    const fx = this.begin(now);
    this.pool(poolId).groups = groups.map((g) => ({ groupId: g.groupId, capacity: g.capacity }));
    this.pumpAll(now, fx);
    return fx;
  }

  /**
   * Expires waiting requests past their TTL and leases past their lease TTL, then grants what became
   * possible (freed leases, spill delays that elapsed). Call it at {@link nextWakeAtMs}.
   *
   * @example
   * const { expired, grants } = scheduler.tick();
   */
  tick(): SchedulerEffects {
    const now = this.clock.now();
    const fx = this.begin(now);
    this.pumpAll(now, fx);
    return fx;
  }

  /**
   * The next instant (epoch ms) at which {@link tick} has work: a waiting TTL, a lease expiry, or a spill
   * delay that ends. `undefined` when nothing is pending. Aging needs no wake-up: it only reorders the
   * queue, and order is evaluated whenever capacity frees.
   */
  nextWakeAtMs(): number | undefined {
    const now = this.clock.now();
    let next = Number.POSITIVE_INFINITY;
    const deadline = this.liveDeadlineTop();
    if (deadline !== undefined) next = Math.min(next, deadline.deadlineMs);
    const lease = this.liveLeaseTop();
    if (lease !== undefined) next = Math.min(next, lease.expiresAtMs);
    for (const pool of this.pools.values()) {
      for (const lane of pool.lanes.values()) {
        const head = this.laneHead(lane);
        const policy = this.options.groups[lane.level];
        if (head === undefined || policy === undefined) continue;
        for (const [groupId, afterMs] of Object.entries(policy)) {
          if (groupId !== '*' && lane.allowed !== undefined && !lane.allowed.has(groupId)) continue;
          const atMs = head.enqueuedAtMs + afterMs;
          if (atMs > now) next = Math.min(next, atMs);
        }
      }
    }
    return Number.isFinite(next) ? next : undefined;
  }

  /** The live lease with this id, if any. */
  getLease(leaseId: string): Lease | undefined {
    return this.leases.get(leaseId);
  }

  /**
   * Items held in memory, live or not yet compacted (queue slots, index entries, leases). Stays within a
   * small factor of the live waiting requests and leases; exposed for memory-bound tests and admin views.
   */
  storedItemCount(): number {
    let slots = 0;
    for (const pool of this.pools.values())
      for (const lane of pool.lanes.values()) {
        slots += lane.heads.size;
        for (const line of lane.lines.values()) slots += line.queue.slotCount;
      }
    return slots + this.waiting.size + this.deadlines.size + this.leases.size + this.leaseExpiries.size;
  }

  /**
   * Elementary steps taken since creation: heap comparisons and queue entries visited (tombstones skipped
   * and compactions included). A measure of the algorithm's work that does not depend on the machine's
   * speed: tests assert on it (grant and release stay O(log n) in the queue length) where a wall-clock
   * bound would fail on a loaded machine; `npm run bench` prints time per operation beside it.
   */
  workSteps(): number {
    return this.steps;
  }

  /** True while the request waits in a queue. */
  isWaiting(requestId: string): boolean {
    return this.waiting.has(requestId);
  }

  /**
   * Figures per pool (capacity and leases per group, waiting and oldest wait per level) and totals.
   *
   * @example
   * const { totals } = scheduler.stats();
   * expect(totals.priorityInversions).toBe(0);
   */
  stats(): SchedulerStats {
    const now = this.clock.now();
    const pools: PoolStats[] = [];
    for (const pool of this.pools.values()) {
      const groupIds = pool.groups.map((g) => g.groupId);
      for (const id of pool.inUse.keys()) if (!groupIds.includes(id)) groupIds.push(id);
      const oldest: number[] = [];
      for (const lane of pool.lanes.values()) {
        const head = this.laneHead(lane);
        if (head !== undefined)
          oldest[lane.level] = Math.min(oldest[lane.level] ?? head.enqueuedAtMs, head.enqueuedAtMs);
      }
      const levels: LevelStats[] = [];
      for (let level = 1; level <= this.options.levels; level += 1) {
        const oldestAt = oldest[level];
        levels.push({
          level,
          waiting: pool.waitingByLevel[level] ?? 0,
          oldestWaitMs: oldestAt === undefined ? 0 : Math.max(0, now - oldestAt),
          leases: pool.leasesByLevel[level] ?? 0,
          reservedSlots: this.options.reservedSlots[level] ?? 0,
          maxQueueDepth: this.options.maxQueueDepth[level] ?? 0,
        });
      }
      pools.push({
        poolId: pool.poolId,
        groups: groupIds.map((groupId) => ({
          groupId,
          capacity: this.capacityOf(pool, groupId),
          inUse: pool.inUse.get(groupId) ?? 0,
        })),
        levels,
        leases: pool.leaseCount,
        waiting: levels.reduce((sum, l) => sum + l.waiting, 0),
        averageLeaseMs: pool.averageLeaseMs,
      });
    }
    return { atMs: now, pools, totals: { ...this.totals } };
  }

  /**
   * The whole state as plain JSON; feed it to {@link PriorityScheduler.restore}.
   *
   * @example
   * entityState = scheduler.snapshot();
   */
  snapshot(): SchedulerSnapshot {
    const waiting: WaitingSnapshot[] = [...this.waiting.values()]
      .sort((a, b) => a.seq - b.seq)
      .map((e) => ({
        requestId: e.requestId,
        poolId: e.poolId,
        level: e.level,
        userId: e.userId,
        deadlineMs: e.deadlineMs,
        enqueuedAtMs: e.enqueuedAtMs,
        seq: e.seq,
        ...(e.allowedGroups === undefined ? {} : { allowedGroups: [...e.allowedGroups] }),
        ...(e.leaseTtlMs === undefined ? {} : { leaseTtlMs: e.leaseTtlMs }),
      }));
    return {
      version: 1,
      nextSeq: this.nextSeq,
      nextLeaseNo: this.nextLeaseNo,
      pools: [...this.pools.values()].map((p) => ({
        poolId: p.poolId,
        groups: p.groups.map((g) => ({ ...g })),
        averageLeaseMs: p.averageLeaseMs ?? null,
      })),
      waiting,
      leases: [...this.leases.values()].map((l) => ({ ...l })),
      totals: { ...this.totals },
    };
  }

  /** Same as {@link snapshot}, so `JSON.stringify(scheduler)` persists the state. */
  toJSON(): SchedulerSnapshot {
    return this.snapshot();
  }

  private checkLevel(level: number): number {
    if (!Number.isInteger(level) || level < 1 || level > this.options.levels) {
      throw new RangeError(`Priority ${String(level)} is not a level in 1..${this.options.levels}`);
    }
    return level;
  }

  private begin(now: number): MutableEffects {
    const fx: MutableEffects = { grants: NONE, expired: NONE, expiredLeases: NONE };
    this.expire(now, fx);
    return fx;
  }

  private pool(poolId: string): Pool {
    let pool = this.pools.get(poolId);
    if (pool === undefined) {
      const zeros = new Array<number>(this.options.levels + 1).fill(0);
      pool = {
        poolId,
        groups: [],
        inUse: new Map(),
        leasesByUser: new Map(),
        leasesByLevel: [...zeros],
        waitingByLevel: [...zeros],
        leaseCount: 0,
        lanes: new Map(),
        averageLeaseMs: undefined,
      };
      this.pools.set(poolId, pool);
    }
    return pool;
  }

  private laneFor(pool: Pool, level: number, allowedGroups: readonly string[] | undefined): Lane {
    const allowedKey = allowedGroups === undefined ? '*' : JSON.stringify([...new Set(allowedGroups)].sort());
    const key = `${level}|${allowedKey}`;
    let lane = pool.lanes.get(key);
    if (lane === undefined) {
      lane = {
        key,
        level,
        allowed: allowedGroups === undefined ? undefined : new Set(allowedGroups),
        lines: new Map(),
        heads: new IndexedMinHeap<UserLine>((a, b) => {
          this.steps += 1;
          return a.headSeq - b.headSeq;
        }),
        size: 0,
      };
      pool.lanes.set(key, lane);
    }
    return lane;
  }

  private lineFor(lane: Lane, userId: string): UserLine {
    let line = lane.lines.get(userId);
    if (line === undefined) {
      line = {
        userId,
        lane,
        queue: new FifoQueue<WaitingEntry>((e) => {
          this.steps += 1;
          return e.state === 'waiting';
        }),
        headSeq: 0,
        heapIndex: -1,
      };
      lane.lines.set(userId, line);
    }
    return line;
  }

  /** The oldest waiting entry of a lane (its most urgent and most eligible one). */
  private laneHead(lane: Lane): WaitingEntry | undefined {
    return lane.heads.peek()?.queue.peek();
  }

  private makeEntry(saved: WaitingSnapshot): WaitingEntry {
    return {
      requestId: saved.requestId,
      poolId: saved.poolId,
      level: saved.level,
      userId: saved.userId,
      deadlineMs: saved.deadlineMs,
      enqueuedAtMs: saved.enqueuedAtMs,
      seq: saved.seq,
      allowedGroups: saved.allowedGroups,
      leaseTtlMs: saved.leaseTtlMs,
      state: 'waiting',
      line: undefined,
    };
  }

  private insertWaiting(pool: Pool, source: WaitingSnapshot | WaitingEntry): void {
    const entry = 'state' in source ? source : this.makeEntry(source);
    const lane = this.laneFor(pool, entry.level, entry.allowedGroups);
    const line = this.lineFor(lane, entry.userId);
    entry.line = line;
    line.queue.push(entry);
    if (line.heapIndex < 0) {
      line.headSeq = entry.seq;
      lane.heads.push(line);
    }
    lane.size += 1;
    pool.waitingByLevel[entry.level] = (pool.waitingByLevel[entry.level] ?? 0) + 1;
    this.waiting.set(entry.requestId, entry);
    this.deadlines.push(entry);
  }

  private removeWaiting(entry: WaitingEntry): void {
    const pool = this.pool(entry.poolId);
    entry.state = 'gone';
    this.waiting.delete(entry.requestId);
    const line = entry.line;
    if (line !== undefined) {
      const lane = line.lane;
      line.queue.noteRemoved();
      lane.size -= 1;
      const head = line.queue.peek();
      if (head === undefined) {
        lane.heads.remove(line);
        lane.lines.delete(line.userId);
        if (lane.size === 0 && pool.lanes.get(lane.key) === lane) pool.lanes.delete(lane.key);
      } else if (head.seq !== line.headSeq) {
        line.headSeq = head.seq;
        lane.heads.update(line);
      }
    }
    pool.waitingByLevel[entry.level] = (pool.waitingByLevel[entry.level] ?? 0) - 1;
    if (this.deadlines.size > 2 * this.waiting.size + 64)
      this.deadlines.compact((e) => {
        this.steps += 1;
        return e.state === 'waiting';
      });
  }

  private addLease(pool: Pool, lease: Lease): void {
    this.leases.set(lease.leaseId, lease);
    this.leaseByRequest.set(lease.requestId, lease.leaseId);
    this.leaseExpiries.push(lease);
    increment(pool.inUse, lease.groupId, 1);
    increment(pool.leasesByUser, lease.userId, 1);
    pool.leasesByLevel[lease.level] = (pool.leasesByLevel[lease.level] ?? 0) + 1;
    pool.leaseCount += 1;
  }

  private dropLease(lease: Lease, now: number, released: boolean): void {
    const pool = this.pool(lease.poolId);
    this.leases.delete(lease.leaseId);
    this.leaseByRequest.delete(lease.requestId);
    increment(pool.inUse, lease.groupId, -1);
    increment(pool.leasesByUser, lease.userId, -1);
    pool.leasesByLevel[lease.level] = (pool.leasesByLevel[lease.level] ?? 0) - 1;
    pool.leaseCount -= 1;
    if (released) {
      const durationMs = Math.max(0, now - lease.grantedAtMs);
      pool.averageLeaseMs =
        pool.averageLeaseMs === undefined
          ? durationMs
          : pool.averageLeaseMs * (1 - LEASE_AVERAGE_WEIGHT) + durationMs * LEASE_AVERAGE_WEIGHT;
    }
    if (this.leaseExpiries.size > 2 * this.leases.size + 64)
      this.leaseExpiries.compact((l) => {
        this.steps += 1;
        return this.leases.get(l.leaseId) === l;
      });
  }

  private liveDeadlineTop(): WaitingEntry | undefined {
    for (let guard = this.deadlines.size; guard >= 0; guard -= 1) {
      const top = this.deadlines.peek();
      if (top === undefined || top.state === 'waiting') return top;
      this.deadlines.pop();
    }
    return undefined;
  }

  private liveLeaseTop(): Lease | undefined {
    for (let guard = this.leaseExpiries.size; guard >= 0; guard -= 1) {
      const top = this.leaseExpiries.peek();
      if (top === undefined || this.leases.get(top.leaseId) === top) return top;
      this.leaseExpiries.pop();
    }
    return undefined;
  }

  private expire(now: number, fx: MutableEffects): void {
    for (let guard = this.deadlines.size; guard > 0; guard -= 1) {
      const top = this.liveDeadlineTop();
      if (top === undefined || top.deadlineMs > now) break;
      this.deadlines.pop();
      this.removeWaiting(top);
      this.totals.expiredWaiting += 1;
      fx.expired = appended(fx.expired, {
        requestId: top.requestId,
        poolId: top.poolId,
        userId: top.userId,
        level: top.level,
        deadlineMs: top.deadlineMs,
        waitedMs: Math.max(0, now - top.enqueuedAtMs),
      });
    }
    for (let guard = this.leaseExpiries.size; guard > 0; guard -= 1) {
      const top = this.liveLeaseTop();
      if (top === undefined || top.expiresAtMs > now) break;
      this.leaseExpiries.pop();
      this.dropLease(top, now, false);
      this.totals.expiredLeases += 1;
      fx.expiredLeases = appended(fx.expiredLeases, top);
    }
  }

  private capacityOf(pool: Pool, groupId: string): number {
    return pool.groups.find((g) => g.groupId === groupId)?.capacity ?? 0;
  }

  private freeSlots(pool: Pool): number {
    let free = 0;
    for (const g of pool.groups) free += Math.max(0, g.capacity - (pool.inUse.get(g.groupId) ?? 0));
    return free;
  }

  private unmetReservations(pool: Pool): number {
    let unmet = 0;
    for (let level = 1; level <= this.options.levels; level += 1) {
      unmet += Math.max(0, (this.options.reservedSlots[level] ?? 0) - (pool.leasesByLevel[level] ?? 0));
    }
    return unmet;
  }

  /**
   * 'unreserved' when a free slot is nobody's reservation, 'reserved' when only the level's own reservation is left.
   */
  private slotKind(pool: Pool, level: number): 'unreserved' | 'reserved' | undefined {
    const free = this.freeSlots(pool);
    if (free < 1) return undefined;
    if (free - this.unmetReservations(pool) >= 1) return 'unreserved';
    const ownUnmet = (this.options.reservedSlots[level] ?? 0) - (pool.leasesByLevel[level] ?? 0);
    return ownUnmet >= 1 ? 'reserved' : undefined;
  }

  private groupAllowed(entry: WaitingEntry, groupId: string, now: number): boolean {
    if (entry.allowedGroups !== undefined && !entry.allowedGroups.includes(groupId)) return false;
    const policy = this.options.groups[entry.level];
    if (policy === undefined) return true;
    const afterMs = Object.hasOwn(policy, groupId) ? policy[groupId] : policy['*'];
    return afterMs !== undefined && now - entry.enqueuedAtMs >= afterMs;
  }

  /** The first group in tier order that this entry may use now and that has a free slot it may take. */
  private pickGroup(pool: Pool, entry: WaitingEntry, now: number): string | undefined {
    if (this.slotKind(pool, entry.level) === undefined) return undefined;
    for (const g of pool.groups) {
      if (g.capacity - (pool.inUse.get(g.groupId) ?? 0) > 0 && this.groupAllowed(entry, g.groupId, now))
        return g.groupId;
    }
    return undefined;
  }

  private effectiveLevel(entry: WaitingEntry, now: number): number {
    if (this.options.agingStepMs <= 0) return entry.level;
    const steps = Math.floor(Math.max(0, now - entry.enqueuedAtMs) / this.options.agingStepMs);
    return Math.max(1, entry.level - steps);
  }

  private isGreedy(pool: Pool, userId: string): boolean {
    if (pool.leaseCount === 0) return false;
    return (pool.leasesByUser.get(userId) ?? 0) / pool.leaseCount > this.options.userShareRatio;
  }

  /**
   * The oldest entry of a user within the fair share: the head of the first such user's line in heap
   * order. Visits at most ⌈1/userShareRatio⌉ greedy users' lines before it (no more users can each hold
   * more than `userShareRatio` of the leases), each visit O(log) — independent of the queue's length.
   */
  private oldestFairEntry(pool: Pool, lane: Lane): WaitingEntry | undefined {
    let fair: UserLine | undefined;
    lane.heads.visitInOrder((line) => {
      this.steps += 1;
      if (this.isGreedy(pool, line.userId)) return true;
      fair = line;
      return false;
    });
    return fair?.queue.peek();
  }

  private laneCandidate(pool: Pool, lane: Lane, now: number): Candidate | undefined {
    const head = this.laneHead(lane);
    if (head === undefined) return undefined;
    const headGroup = this.pickGroup(pool, head, now);
    if (headGroup === undefined) return undefined;
    const effectiveLevel = this.effectiveLevel(head, now);
    const headCandidate: Candidate = {
      entry: head,
      groupId: headGroup,
      effectiveLevel,
      greedy: this.isGreedy(pool, head.userId),
    };
    if (!headCandidate.greedy) return headCandidate;
    // The head's user is above its fair share: the oldest entry of a user within it goes first if it is
    // as urgent and as eligible as the head. Entries between the two are the greedy users' own; when the
    // fair one is less urgent or not eligible, so is every younger one (see Lane), and the head goes.
    const fair = this.oldestFairEntry(pool, lane);
    if (fair === undefined || this.effectiveLevel(fair, now) !== effectiveLevel) return headCandidate;
    const groupId = this.pickGroup(pool, fair, now);
    return groupId === undefined ? headCandidate : { entry: fair, groupId, effectiveLevel, greedy: false };
  }

  private bestCandidate(pool: Pool, now: number): Candidate | undefined {
    let best: Candidate | undefined;
    for (const lane of pool.lanes.values()) {
      const c = this.laneCandidate(pool, lane, now);
      if (c === undefined) continue;
      if (
        best === undefined ||
        c.effectiveLevel < best.effectiveLevel ||
        (c.effectiveLevel === best.effectiveLevel &&
          (Number(c.greedy) < Number(best.greedy) || (c.greedy === best.greedy && c.entry.seq < best.entry.seq)))
      ) {
        best = c;
      }
    }
    return best;
  }

  /**
   * Independent check for the `priorityInversions` counter: is a strictly more urgent waiting request
   * able to take capacity right now? Lane heads suffice: a head is the most urgent and most eligible
   * entry of its lane.
   */
  private countInversion(pool: Pool, granted: WaitingEntry, now: number): void {
    const level = this.effectiveLevel(granted, now);
    for (const lane of pool.lanes.values()) {
      const head = this.laneHead(lane);
      if (head === undefined || head === granted) continue;
      if (this.effectiveLevel(head, now) < level && this.pickGroup(pool, head, now) !== undefined) {
        this.totals.priorityInversions += 1;
        return;
      }
    }
  }

  private grant(pool: Pool, entry: WaitingEntry, groupId: string, now: number): Lease {
    const effectiveLevel = this.effectiveLevel(entry, now);
    let reason: GrantReason = 'free';
    if (this.slotKind(pool, entry.level) === 'reserved') reason = 'reserved';
    else if (groupId !== pool.groups[0]?.groupId) reason = 'spill';
    else if (effectiveLevel < entry.level) reason = 'aged';
    if (entry.state === 'waiting' && this.waiting.get(entry.requestId) === entry) this.removeWaiting(entry);
    const lease: Lease = {
      leaseId: `lease-${this.nextLeaseNo}`,
      requestId: entry.requestId,
      poolId: pool.poolId,
      groupId,
      userId: entry.userId,
      level: entry.level,
      effectiveLevel,
      reason,
      waitedMs: Math.max(0, now - entry.enqueuedAtMs),
      grantedAtMs: now,
      expiresAtMs: now + (entry.leaseTtlMs ?? this.options.leaseTtlMs),
    };
    this.nextLeaseNo += 1;
    this.addLease(pool, lease);
    this.totals.grants += 1;
    return lease;
  }

  private pump(pool: Pool, now: number, fx: MutableEffects): void {
    // Each grant takes one free slot, so the loop ends within the number of free slots.
    for (let guard = this.freeSlots(pool); guard > 0; guard -= 1) {
      const best = this.bestCandidate(pool, now);
      if (best === undefined) return;
      this.countInversion(pool, best.entry, now);
      fx.grants = appended(fx.grants, this.grant(pool, best.entry, best.groupId, now));
    }
  }

  private pumpAll(now: number, fx: MutableEffects): void {
    for (const pool of this.pools.values()) {
      if (pool.lanes.size > 0) this.pump(pool, now, fx);
    }
  }

  private estimateRetryAfterMs(pool: Pool, level: number): number {
    const capacity = pool.groups.reduce((sum, g) => sum + g.capacity, 0);
    if (!this.options.estimateRetryAfter || pool.averageLeaseMs === undefined || capacity <= 0)
      return this.options.retryAfterMs;
    let ahead = 0;
    for (let l = 1; l <= level; l += 1) ahead += pool.waitingByLevel[l] ?? 0;
    const rounds = Math.ceil((ahead + 1) / capacity);
    return Math.min(this.options.maxRetryAfterMs, Math.max(1, Math.ceil(pool.averageLeaseMs * rounds)));
  }
}
