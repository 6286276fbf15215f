import * as df from 'durable-functions';
import { beforeAll, describe, expect, it } from 'vitest';
import type { InstanceReport, PoolLedger } from '../../shared/core/scheduling/capacity-ledger.js';
import { captureRegistrations, capturedFunction } from '../smoke/capture-registrations.js';
import { CAPACITY_LEDGER_ENTITY } from './names.js';

const T0 = 1_700_000_000_000;
let handler: (...args: unknown[]) => unknown;

beforeAll(async () => {
  captureRegistrations();
  await import('./registrations.js');
  handler = capturedFunction(CAPACITY_LEDGER_ENTITY).handler;
});

interface EntityResult {
  entityExists: boolean;
  entityState?: string;
  results: Array<{ isError: boolean; result?: string }>;
}

/** One batch as the Durable extension delivers it to the entity function (`DurableEntityBindingInfo`). */
async function batch(state: PoolLedger | undefined, operations: Array<[string, unknown]>): Promise<EntityResult> {
  const trigger = {
    self: { name: CAPACITY_LEDGER_ENTITY, key: 'gpt-4o' },
    exists: state !== undefined,
    state: state === undefined ? undefined : JSON.stringify(state),
    batch: operations.map(([name, input], i) => ({
      name,
      signal: false,
      input: input === undefined ? undefined : JSON.stringify(input),
      id: `op-${i}`,
    })),
  };
  return (await handler(
    trigger,
    new df.DummyEntityContext(CAPACITY_LEDGER_ENTITY, 'inv', () => undefined),
  )) as EntityResult;
}

const report = (instanceId: string, demand: number[], inUse: number, atMs = T0): InstanceReport => ({
  instanceId,
  groups: [{ groupId: 'ptu', capacity: 4 }],
  demand,
  inUse,
  atMs,
});
const results = (r: EntityResult): unknown[] =>
  r.results.map((x) => (x.result === undefined ? undefined : JSON.parse(x.result)));

describe('capacityLedger entity (batch interface)', () => {
  it('answers reports with the instance share, by priority demand, within one batch', async () => {
    const out = await batch(undefined, [
      ['report', report('a', [0, 0, 6], 3)],
      ['report', report('b', [2], 1)],
      ['report', report('a', [0, 0, 6], 3)],
    ]);
    // Alone, a gets the whole pool; once b reports level-1 demand, b's 2 come first and a keeps the rest.
    expect((results(out) as Array<Array<{ capacity: number }>>).map((share) => share[0]!.capacity)).toEqual([4, 2, 2]);
    expect(out.entityExists).toBe(true);
  });

  it('grants a durable request only while the pool has a spare slot, and persists state across batches', async () => {
    const first = await batch(undefined, [
      ['report', report('a', [3], 3)],
      ['acquire', { requestId: 'j1', level: 2, deadlineMs: T0 + 60_000, nowMs: T0 }],
      ['acquire', { requestId: 'j2', level: 1, deadlineMs: T0 + 60_000, nowMs: T0 }],
    ]);
    expect(
      results(first)
        .slice(1)
        .map((d) => (d as { kind: string }).kind),
    ).toEqual(['granted', 'waiting']);
    const state = JSON.parse(first.entityState!) as PoolLedger;
    const second = await batch(state, [
      ['release', { requestId: 'j1' }],
      ['acquire', { requestId: 'j2', level: 1, deadlineMs: T0 + 60_000, nowMs: T0 + 1_000 }],
      ['release', { requestId: 'j1' }],
    ]);
    expect(results(second)).toEqual([true, expect.objectContaining({ kind: 'granted' }), false]);
  });

  it('fails an unknown operation without losing the batch state', async () => {
    const out = await batch(undefined, [
      ['report', report('a', [1], 0)],
      ['explode', undefined],
      ['get', undefined],
    ]);
    expect(out.results[1]!.isError).toBe(true);
    expect((results(out)[2] as PoolLedger).instances['a']).toBeDefined();
  });
});
