import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../config/load-config.js';
import { FakeClock } from '../test-support/fake-clock.js';
import { GatewayError } from '../errors/gateway-error.js';
import type { BackendHealthView } from '../resilience/health-tracker.js';
import { createRequestDeadline } from '../resilience/request-deadline.js';
import type { AcquireRequest } from '../scheduling/scheduler-gate.js';
import type { Lease } from '../scheduling/scheduler-types.js';
import { acquireLease, CallLeases, orUpgrade, UPGRADE_TO_JOB, type ScheduleDeps } from './schedule.js';
import { callOf, gatewayRequest, jobContext, liveContext, snapshotOf } from './test-support/pipeline-fixtures.js';

const clock = new FakeClock();
const result = validateConfig({
  backends: [
    { id: 'a', url: 'http://a.test', kind: 'openai' },
    { id: 'b', url: 'http://b.test', kind: 'openai' },
  ],
  pools: [
    { id: 'p1', backends: ['a'] },
    { id: 'p2', backends: ['b'] },
  ],
  routes: [{ id: 'r', match: { models: ['*'] }, pool: 'p1' }],
  scheduling: { levels: 3 },
  async: { runDeadlineMs: 100_000 },
  resilience: { retryAfter: { maxMs: 10_000 } },
});
if (!result.ok) throw new Error(result.issues.join('\n'));
const s = snapshotOf(result.config);
const deadline = createRequestDeadline(new Headers(), clock.now(), {
  defaultTtlMs: 30_000,
  maxTtlMs: 30_000,
  attemptTimeoutMs: 10_000,
  maxAttemptTimeoutMs: 10_000,
});

/** A gate that grants at once, or (`wait`) only rejects when the request's signal aborts. */
function fakeGate(mode: 'grant' | 'wait' = 'grant') {
  const acquired: AcquireRequest[] = [];
  const released: string[] = [];
  return {
    acquired,
    released,
    acquire(request: AcquireRequest): Promise<Lease> {
      acquired.push(request);
      if (mode === 'wait')
        return new Promise((_, reject) =>
          request.signal?.addEventListener('abort', () => reject(new GatewayError('GW_ERR_REQUEST_CLIENT_CLOSED'))),
        );
      return Promise.resolve({ leaseId: `lease-${acquired.length}`, poolId: request.poolId } as Lease);
    },
    release(lease: Lease | string) {
      released.push(typeof lease === 'string' ? lease : lease.leaseId);
    },
  };
}

/** Health where every backend is usable, or none is (`open`: breakers open; `cooling`: until `untilMs`). */
function fakeHealth(state: 'usable' | 'open' | 'cooling', untilMs = clock.now() + 2_000): ScheduleDeps['health'] {
  return {
    usableCount: (ids) => (state === 'usable' ? ids.length : 0),
    snapshot: (id) => ({ backendId: id, state: state === 'open' ? 'open' : 'closed' }) as BackendHealthView,
    earliestReopenMs: () => untilMs,
  };
}

describe('acquireLease', () => {
  it("asks the scheduler for a lease at the caller's priority (clamped to the levels) until its deadline", async () => {
    const gate = fakeGate();
    const deps = { gate, health: fakeHealth('usable'), clock };
    const signal = new AbortController().signal;
    await acquireLease(deps, s, 'p1', 'req-1', { ...liveContext(), priority: 9 }, deadline, signal);
    await acquireLease(deps, s, 'p1', 'req-2', jobContext(), deadline, signal);
    expect(gate.acquired[0]).toEqual({
      requestId: 'req-1',
      poolId: 'p1',
      priority: 3,
      userId: 'alice',
      deadlineMs: deadline.expiresAtMs,
      signal,
      leaseTtlMs: undefined,
    });
    // A job's lease lives as long as its run deadline (plus a minute).
    expect(gate.acquired[1]!.leaseTtlMs).toBe(160_000);
  });

  it('answers 503 with the earliest reopen at once when every breaker of the pool is open', async () => {
    const gate = fakeGate();
    const deps = { gate, health: fakeHealth('open', clock.now() + 7_000), clock };
    const failure = acquireLease(deps, s, 'p1', 'r', liveContext(), deadline, new AbortController().signal);
    await expect(failure).rejects.toMatchObject({ code: 'GW_ERR_BACKEND_ALL_OPEN', retryAfterMs: 7_000 });
    expect(gate.acquired).toEqual([]);
  });

  it('answers 429 when every backend cools past the TTL or Retry-After bound; waits if it ends sooner', async () => {
    const signal = new AbortController().signal;
    const late = { gate: fakeGate(), health: fakeHealth('cooling', clock.now() + 31_000), clock };
    await expect(acquireLease(late, s, 'p1', 'r', liveContext(), deadline, signal)).rejects.toMatchObject({
      code: 'GW_ERR_BACKEND_THROTTLED',
      retryAfterMs: 31_000,
    });
    const soon = { gate: fakeGate(), health: fakeHealth('cooling', clock.now() + 2_000), clock };
    await acquireLease(soon, s, 'p1', 'r', liveContext(), deadline, signal);
    expect(soon.gate.acquired).toHaveLength(1);
  });
});

describe('CallLeases', () => {
  it('holds one lease at a time, in the pool now serving the call', async () => {
    const gate = fakeGate();
    const call = callOf(gatewayRequest(), clock);
    const leases = new CallLeases(
      { gate, health: fakeHealth('usable'), clock },
      s,
      call,
      liveContext(),
      deadline,
      undefined,
    );
    await leases.take('p1');
    await leases.take('p1');
    await leases.take('p2');
    expect(gate.acquired.map((a) => [a.poolId, a.requestId])).toEqual([
      ['p1', call.requestId],
      ['p2', `${call.requestId}#2`],
    ]);
    expect(gate.released).toEqual(['lease-1']);
    expect(call.summary.lease?.leaseId).toBe('lease-2');
    leases.release();
    leases.release();
    expect(gate.released).toEqual(['lease-1', 'lease-2']);
  });

  it('takes no lease for a call whose capacity is held elsewhere', async () => {
    const gate = fakeGate();
    const call = callOf(gatewayRequest(), clock);
    const leases = new CallLeases(
      { gate, health: fakeHealth('usable'), clock },
      s,
      call,
      jobContext('j', true),
      deadline,
      0,
    );
    await leases.take('p1');
    expect(gate.acquired).toEqual([]);
  });

  it('gives up waiting at the sync wait so the call can become a job', async () => {
    const call = callOf(gatewayRequest(), clock);
    const leases = new CallLeases(
      { gate: fakeGate('wait'), health: fakeHealth('usable'), clock },
      s,
      call,
      liveContext(),
      deadline,
      1,
    );
    await expect(orUpgrade(leases.take('p1'))).resolves.toBe(UPGRADE_TO_JOB);
  });

  it('reports a caller that left while waiting as its own error, not as an upgrade', async () => {
    const caller = new AbortController();
    const call = callOf(gatewayRequest({ signal: caller.signal }), clock);
    const gate = fakeGate('wait');
    const leases = new CallLeases(
      { gate, health: fakeHealth('usable'), clock },
      s,
      call,
      liveContext(),
      deadline,
      60_000,
    );
    const waiting = orUpgrade(leases.take('p1'));
    caller.abort();
    await expect(waiting).rejects.toMatchObject({ code: 'GW_ERR_REQUEST_CLIENT_CLOSED' });
  });
});
