import { describe, expect, it } from 'vitest';
import { absentOn404 } from './azure-errors.js';

/** An error shaped like the Azure SDK's `RestError`: what the adapters see from Table and Blob clients. */
const restError = (statusCode: number): Error => Object.assign(new Error(`status ${statusCode}`), { statusCode });

describe('absentOn404', () => {
  it('gives the value of a read that succeeded', async () => {
    await expect(absentOn404(Promise.resolve({ etag: 'e1' }))).resolves.toEqual({ etag: 'e1' });
  });

  it('reads a 404 as absent', async () => {
    await expect(absentOn404(Promise.reject(restError(404)))).resolves.toBeUndefined();
  });

  it('throws every other failure as it is', async () => {
    const forbidden = restError(403);
    await expect(absentOn404(Promise.reject(forbidden))).rejects.toBe(forbidden);
    const plain = new Error('socket hang up');
    await expect(absentOn404(Promise.reject(plain))).rejects.toBe(plain);
  });
});
