import { describe, expect, it } from 'vitest';
import { concatBytes } from './concat-bytes.js';

const bytes = (...values: number[]) => new Uint8Array(values);

describe('concatBytes', () => {
  it('joins chunks in order, counting the size itself or taking the one given', () => {
    const chunks = [bytes(1, 2), bytes(), bytes(3), bytes(4, 5, 6)];
    expect(concatBytes(chunks)).toEqual(bytes(1, 2, 3, 4, 5, 6));
    expect(concatBytes(chunks, 6)).toEqual(bytes(1, 2, 3, 4, 5, 6));
  });

  it('returns a single chunk without copying it, and an empty array for none', () => {
    const only = bytes(7, 8);
    expect(concatBytes([only])).toBe(only);
    expect(concatBytes([])).toEqual(bytes());
  });

  it('copies views at their own offsets', () => {
    const backing = bytes(0, 1, 2, 3, 4, 5);
    expect(concatBytes([backing.subarray(4), backing.subarray(1, 3)])).toEqual(bytes(4, 5, 1, 2));
  });
});
