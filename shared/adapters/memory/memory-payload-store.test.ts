import { describe, expect, it } from 'vitest';
import { describePayloadStoreContract } from '../../ports/payload-store.contract.js';
import { MemoryPayloadStore } from './memory-payload-store.js';

describePayloadStoreContract('MemoryPayloadStore', () => new MemoryPayloadStore());

describe('MemoryPayloadStore', () => {
  it('rejects a body over maxBodyBytes and stores nothing', async () => {
    const store = new MemoryPayloadStore({ maxBodyBytes: 4 });
    async function* body(): AsyncGenerator<Uint8Array> {
      yield new Uint8Array(3);
      yield new Uint8Array(3);
    }
    await expect(store.put('k', body(), {})).rejects.toThrow('exceeds 4 bytes');
    expect(store.keys()).toEqual([]);
  });
});
