import { describe, expect, it } from 'vitest';
import { KeptReads } from './kept-reads.js';

const bytes = (text: string) => new TextEncoder().encode(text);

function back(kept: KeptReads): Uint8Array[] {
  const out: Uint8Array[] = [];
  kept.forEach((read) => out.push(read.slice()));
  return out;
}

describe('KeptReads', () => {
  it('gives back every read exactly, whatever they share', () => {
    let seed = 7;
    const random = (n: number) => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31), seed % n);
    const alphabet = 'ab\n';
    const reads: Uint8Array[] = [];
    for (let i = 0; i < 2_000; i++) {
      const previous = reads.at(-1) ?? new Uint8Array(0);
      const length = random(3) === 0 ? random(5_000) : random(40);
      const fresh = Uint8Array.from({ length }, () => alphabet.charCodeAt(random(3)));
      // Often a read repeats the start and the end of the one before (a chat stream's chunks).
      const read =
        random(2) === 0
          ? new Uint8Array([...previous.subarray(0, random(previous.length + 1)), ...fresh.subarray(0, 5)])
          : fresh;
      reads.push(read);
    }
    const kept = new KeptReads();
    for (const read of reads) kept.add(read);
    expect(back(kept)).toEqual(reads);
  });

  it('keeps a chat stream of one event per read in a few bytes per read', () => {
    const kept = new KeptReads();
    const reads: Uint8Array[] = [];
    for (let i = 0; i < 300; i++) {
      const payload = {
        id: 'chatcmpl-abc',
        object: 'chat.completion.chunk',
        created: 1_765_000_000,
        model: 'gpt-4o-mini',
        choices: [{ index: 0, delta: { content: ` word${i}` }, logprobs: null, finish_reason: null }],
      };
      reads.push(bytes(`data: ${JSON.stringify(payload)}\n\n`));
      kept.add(reads.at(-1)!);
    }
    const sent = reads.reduce((sum, read) => sum + read.length, 0);
    expect(kept.bytes).toBeLessThan(sent / 20);
    expect(back(kept)).toEqual(reads);
    kept.clear();
    expect(kept.bytes).toBe(0);
    expect(back(kept)).toEqual([]);
  });
});
