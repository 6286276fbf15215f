import { describe, expect, it } from 'vitest';
import { RankTable } from './rank-table.js';

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

describe('RankTable', () => {
  // "a" (YQ==), "b" (Yg==), "ab" (YWI=, padded once), "a" again, "abc" (YWJj, unpadded): ranks 0–4 in order.
  const table = RankTable.fromRanksText('! 0 YQ== Yg== YWI= YQ== YWJj');

  it('answers the rank of a token from any slice of bytes, and -1 for bytes that are no token', () => {
    expect(table.rank(bytes('b'), 0, 1)).toBe(1);
    expect(table.rank(bytes('xaby'), 1, 3)).toBe(2);
    expect(table.rank(bytes('abc'), 0, 3)).toBe(4);
    expect(table.rank(bytes('c'), 0, 1)).toBe(-1);
    expect(table.rank(bytes('ba'), 0, 2)).toBe(-1);
    expect(table.rank(bytes(''), 0, 0)).toBe(-1);
  });

  it('gives a token listed twice its later rank, as js-tiktoken does', () => {
    expect(table.rank(bytes('a'), 0, 1)).toBe(3);
  });

  it('reads ranks from the offset each line names', () => {
    const lines = RankTable.fromRanksText('! 10 YQ== Yg==\n! 100 Yw==');
    expect([...'abc'].map((c) => lines.rank(bytes(c), 0, 1))).toEqual([10, 11, 100]);
  });
});
