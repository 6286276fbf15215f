import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GrantAnswer } from '../../shared/core/scheduling/capacity-grants.js';
import type { InstanceReport, PoolLedger } from '../../shared/core/scheduling/capacity-ledger.js';
import { captureRegistrations, capturedFunction } from '../smoke/capture-registrations.js';
import { CAPACITY_GRANTED_EVENT, CAPACITY_LEDGER_ENTITY } from './names.js';
import {
  batchResults,
  batchState,
  entityLogs,
  runEntityBatch,
  startFakeDurableApi,
  type FakeDurableApi,
} from './test-support/entity-batch.js';

const T0 = 1_700_000_000_000;
let handler: (...args: unknown[]) => unknown;
let api: FakeDurableApi;

beforeAll(async () => {
  captureRegistrations();
  await import('./registrations.js');
  handler = capturedFunction(CAPACITY_LEDGER_ENTITY).handler;
  api = await startFakeDurableApi();
});
afterAll(() => api.close());

const report = (instanceId: string, demand: number[], holding: number, atMs = T0): { report: InstanceReport } => ({
  report: {
    instanceId,
    groups: [{ groupId: 'ptu', capacity: 4 }],
    demand,
    inUse: holding,
    holding: [{ groupId: 'ptu', capacity: holding }],
    seq: 1,
    atMs,
  },
});
const ask = (requestId: string, level: number, nowMs = T0) => ({ requestId, level, deadlineMs: T0 + 600_000, nowMs });

describe('capacityLedger entity (batch interface, real durable client)', () => {
  it('binds a durable client, so that it can raise events on orchestrations', () => {
    const bindings = Object.values(capturedFunction(CAPACITY_LEDGER_ENTITY).metadata.bindings);
    expect(bindings.map((b) => b.type)).toEqual(expect.arrayContaining(['entityTrigger', 'durableClient']));
  });

  it('answers reports with grants by priority demand, within one batch', async () => {
    const out = await runEntityBatch(handler, undefined, [
      ['report', report('a', [0, 0, 6], 0)],
      ['report', report('a', [0, 0, 6], 4, T0 + 1)],
      ['report', report('b', [2], 0, T0 + 2)],
    ]);
    const answers = batchResults(out) as GrantAnswer[];
    expect(answers.map((a) => a.grant[0]!.capacity)).toEqual([4, 4, 0]);
    expect(answers[2]!.target).toEqual([{ groupId: 'ptu', capacity: 2 }]);
    expect(out.entityExists).toBe(true);
    // a is advised to lower to its target; it still holds 4 until it says otherwise.
    expect(batchState(out).instances['a']!.lower).toEqual([{ groupId: 'ptu', capacity: 2 }]);
  });

  it('accepts a report sent as a bare InstanceReport by an older instance', async () => {
    const out = await runEntityBatch(handler, undefined, [['report', report('a', [1], 0).report]]);
    expect((batchResults(out)[0] as GrantAnswer).grant).toEqual([{ groupId: 'ptu', capacity: 2 }]);
  });

  it('raises CapacityGranted on the waiting orchestration the moment a release frees its slot', async () => {
    api.raised.length = 0;
    const held = await runEntityBatch(
      handler,
      undefined,
      [
        // a: 2 calls plus 1 slot of headroom = 3 of the pool's 4.
        ['report', report('a', [0, 0, 2], 0)],
        ['report', report('a', [0, 0, 2], 3, T0 + 1)],
        ['acquire', ask('running', 2, T0 + 2)],
        ['acquire', ask('waiting-batch', 3, T0 + 3)],
        ['acquire', ask('waiting-urgent', 1, T0 + 4)],
      ],
      api,
    );
    expect(batchResults(held).slice(2)).toEqual([
      expect.objectContaining({ kind: 'granted' }),
      { kind: 'waiting', position: 1 },
      { kind: 'waiting', position: 1 },
    ]);
    expect(api.raised).toEqual([]);

    const released = await runEntityBatch(
      handler,
      batchState(held),
      [['release', { requestId: 'running', nowMs: T0 + 5_000 }]],
      api,
    );
    expect(batchResults(released)).toEqual([true]);
    expect(api.raised).toEqual([
      {
        instanceId: 'waiting-urgent',
        eventName: CAPACITY_GRANTED_EVENT,
        body: { requestId: 'waiting-urgent', grantedAtMs: T0 + 5_000 },
      },
    ]);
    // The orchestration confirms by asking again: granted, no longer an unconfirmed offer.
    const confirmed = await runEntityBatch(handler, batchState(released), [
      ['acquire', ask('waiting-urgent', 1, T0 + 5_040)],
    ]);
    expect(batchResults(confirmed)[0]).toMatchObject({ kind: 'granted', lease: { waitedMs: 4_996 } });
    expect(batchState(confirmed).leases['waiting-urgent']!.confirmByMs).toBeUndefined();
  });

  it('gives a leaving instance’s share back and offers it to waiting orchestrations', async () => {
    api.raised.length = 0;
    const full = await runEntityBatch(
      handler,
      undefined,
      [
        ['report', report('a', [0, 0, 9], 0)],
        ['report', report('a', [0, 0, 9], 4, T0 + 1)],
        ['acquire', ask('job', 3, T0 + 2)],
      ],
      api,
    );
    const left = await runEntityBatch(handler, batchState(full), [['leave', { instanceId: 'a', atMs: T0 + 3 }]], api);
    expect(Object.keys(batchState(left).instances)).toEqual([]);
    expect(api.raised.map((e) => e.instanceId)).toEqual(['job']);
  });

  it('fails an unknown operation without losing the batch state', async () => {
    const out = await runEntityBatch(handler, undefined, [
      ['report', report('a', [1], 0)],
      ['explode', undefined],
      ['get', undefined],
    ]);
    expect(out.results[1]!.isError).toBe(true);
    expect((batchResults(out)[2] as PoolLedger).instances['a']).toBeDefined();
  });

  it('starts a corrupt state over from an empty ledger, logs entity and pool, stores a valid one', async () => {
    const corrupt = { version: 1, instances: { a: { instanceId: 'a', atMs: 'yesterday' } }, waiting: 'none' };
    entityLogs.length = 0;
    const out = await runEntityBatch(handler, corrupt as unknown as PoolLedger, [
      ['report', report('b', [2], 0, T0 + 5)],
    ]);
    // The same answer as a pool that never had a ledger.
    const fresh = await runEntityBatch(handler, undefined, [['report', report('b', [2], 0, T0 + 5)]]);
    expect(batchResults(out)).toEqual(batchResults(fresh));
    expect(Object.keys(batchState(out).instances)).toEqual(['b']);
    expect(batchState(out).waiting).toEqual([]);
    expect(entityLogs).toHaveLength(1);
    expect(entityLogs[0]).toMatch(
      new RegExp(
        '^error: Corrupt capacity-ledger record in entity capacityLedger at gpt-4o: ' +
          'instances\\.a\\.groups: .*; the ledger starts empty',
      ),
    );
  });

  it('keeps a ledger of another format version failing, as before (a newer writer is not corrupt)', async () => {
    const out = await runEntityBatch(handler, { version: 2 } as unknown as PoolLedger, [['get', undefined]]);
    expect(out.results[0]!.isError).toBe(true);
  });
});
