import * as df from 'durable-functions';
import { beforeAll, describe, expect, it } from 'vitest';
import type { InstanceReport, PoolLedger } from '../../shared/core/scheduling/capacity-ledger.js';
import { describeCapacityLedgerContract } from '../../shared/ports/capacity-ledger.contract.js';
import { captureRegistrations, capturedFunction } from '../smoke/capture-registrations.js';
import { createDurableCapacityLedger } from './durable-capacity-ledger.js';
import type { DurableClientPart } from './durable-link.js';
import { CAPACITY_LEDGER_ENTITY } from './names.js';
import { batchState, runEntityBatch } from './test-support/entity-batch.js';

let handler: (...args: unknown[]) => unknown;
beforeAll(async () => {
  captureRegistrations();
  await import('./registrations.js');
  handler = capturedFunction(CAPACITY_LEDGER_ENTITY).handler;
});

/**
 * A durable client whose entity signals run the real entity function (through durable-functions' entity
 * engine), one operation at a time per entity as the extension guarantees, and whose `readEntityState`
 * answers the stored state. `lagReads` makes a signal show only after that many reads (the extension
 * processes signals asynchronously).
 */
function entityBackedClient(options: { lagReads?: number } = {}): DurableClientPart & { reads: number } {
  const states = new Map<string, PoolLedger>();
  const pending: Array<[string, string, unknown]> = [];
  let chain: Promise<unknown> = Promise.resolve();
  const apply = (key: string, operation: string, input: unknown): Promise<void> => {
    const run = chain.then(async () => {
      const out = await runEntityBatch(handler, states.get(key), [[operation, input]], undefined, key);
      if (out.entityState !== undefined) states.set(key, batchState(out));
    });
    chain = run.catch(() => undefined);
    return run;
  };
  let lag = 0;
  const client = {
    reads: 0,
    async signalEntity(entityId: df.EntityId, operation: string, input?: unknown) {
      if ((options.lagReads ?? 0) === 0) return apply(entityId.key, operation, input);
      pending.push([entityId.key, operation, input]);
      lag = options.lagReads!;
    },
    async readEntityState<T>(entityId: df.EntityId) {
      client.reads += 1;
      if (lag > 0 && --lag === 0)
        for (const [key, operation, input] of pending.splice(0)) await apply(key, operation, input);
      const state = states.get(entityId.key);
      return { entityExists: state !== undefined, entityState: state as T | undefined };
    },
    startNew: () => Promise.reject(new Error('not used')),
    raiseEvent: () => Promise.reject(new Error('not used')),
  };
  return client as unknown as DurableClientPart & { reads: number };
}

const noSleep = (): Promise<void> => Promise.resolve();

describeCapacityLedgerContract(
  'durable entity ledger (entity function run by durable-functions)',
  () => {
    const client = entityBackedClient();
    return createDurableCapacityLedger(() => client, { sleep: noSleep });
  },
  { appliesBeforeCommit: false },
);

const report = (seq: number, demand: number[]): InstanceReport => ({
  instanceId: 'http-1',
  groups: [{ groupId: 'ptu', capacity: 4 }],
  demand,
  inUse: 0,
  holding: [],
  seq,
  atMs: 1_700_000_000_000 + seq,
});

describe('durable entity ledger', () => {
  it('reads the state until its report shows, then answers the grant recorded there', async () => {
    const client = entityBackedClient({ lagReads: 3 });
    const slept: number[] = [];
    const ledger = createDurableCapacityLedger(() => client, {
      sleep: (ms) => {
        slept.push(ms);
        return Promise.resolve();
      },
    });
    const answer = await ledger.report('pool', report(1, [2]));
    expect(answer.grant).toEqual([{ groupId: 'ptu', capacity: 3 }]);
    expect(client.reads).toBe(3);
    expect(slept).toEqual([50, 100]);
  });

  it('keeps the last grant when the report does not show within its reads (nothing more is promised)', async () => {
    const client = entityBackedClient();
    const ledger = createDurableCapacityLedger(() => client, { sleep: noSleep, readDelaysMs: [0] });
    await ledger.report('pool', report(1, [1]));
    const slow = entityBackedClient({ lagReads: 99 });
    const slowLedger = createDurableCapacityLedger(() => slow, { sleep: noSleep, readDelaysMs: [0, 10] });
    expect((await slowLedger.report('pool', report(1, [3]))).grant).toEqual([]);
  });

  it('refuses to report before any invocation bound a durable client', async () => {
    const ledger = createDurableCapacityLedger(() => undefined);
    await expect(ledger.report('pool', report(1, [1]))).rejects.toThrow(/no durable client/);
  });
});

describe('durable entity ledger reading a corrupt entity state', () => {
  it('reads it as no ledger and reports the entity and pool', async () => {
    const seen: string[] = [];
    const client = {
      readEntityState: async () => ({ entityExists: true, entityState: { version: 1, leases: [] } }),
    } as unknown as DurableClientPart;
    const ledger = createDurableCapacityLedger(() => client, { onCorrupt: (error) => seen.push(error.message) });
    expect(await ledger.read('gpt-4o')).toBeUndefined();
    expect(seen).toEqual([
      'Corrupt capacity-ledger record in entity capacityLedger at gpt-4o: ' +
        'leases: Invalid input: expected record, received array',
    ]);
  });
});
