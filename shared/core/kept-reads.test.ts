import { Buffer } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import { KeptReads } from './kept-reads.js';

const bytes = (text: string) => new TextEncoder().encode(text);

function back(kept: KeptReads): Uint8Array[] {
  const out: Uint8Array[] = [];
  kept.forEach((read) => out.push(read.slice()));
  return out;
}

/** A chat chunk's SSE event, one token of content. */
function chatEvent(i: number): string {
  const payload = {
    id: 'chatcmpl-abc',
    object: 'chat.completion.chunk',
    created: 1_765_000_000,
    model: 'gpt-4o-mini',
    choices: [{ index: 0, delta: { content: ` word${i}` }, logprobs: null, finish_reason: null }],
  };
  return `data: ${JSON.stringify(payload)}\n\n`;
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
      reads.push(bytes(chatEvent(i)));
      kept.add(reads.at(-1)!);
    }
    const sent = reads.reduce((sum, read) => sum + read.length, 0);
    expect(kept.bytes).toBeLessThan(sent / 20);
    expect(back(kept)).toEqual(reads);
    kept.clear();
    expect(kept.bytes).toBe(0);
    expect(back(kept)).toEqual([]);
  });

  it('gives back reads of lines of many kinds exactly (more first bytes than it compares by)', () => {
    let seed = 11;
    const random = (n: number) => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31), seed % n);
    const alphabet = 'abcdefghij\n\r';
    const reads: Uint8Array[] = [new Uint8Array(0)];
    for (let i = 0; i < 1_000; i++) {
      const length = random(40) === 0 ? 4_000 + random(2_000) : random(60);
      reads.push(Uint8Array.from({ length }, () => alphabet.charCodeAt(random(alphabet.length))));
      if (random(5) === 0) reads.push(new Uint8Array(0), bytes('\n\n'), bytes('x'));
    }
    const kept = new KeptReads();
    for (const read of reads) kept.add(read);
    const latin1 = (all: Uint8Array[]) => all.map((read) => Buffer.from(read).toString('latin1'));
    expect(latin1(back(kept))).toEqual(latin1(reads));
    expect(kept.readBytes).toBe(reads.reduce((sum, read) => sum + read.length, 0));
  });

  it('keeps a few bytes per event when a loaded backend coalesces one to three events into a read', () => {
    const kept = new KeptReads();
    const reads: Uint8Array[] = [];
    let events = 0;
    for (let i = 0; events < 300; i++) {
      const count = 1 + (i % 3);
      let text = '';
      for (let e = 0; e < count; e++) text += chatEvent(events++);
      reads.push(bytes(text));
      kept.add(reads.at(-1)!);
    }
    const sent = reads.reduce((sum, read) => sum + read.length, 0);
    expect(kept.bytes).toBeLessThan(sent / 12);
    expect(back(kept)).toEqual(reads);
  });

  it('compares an event: line with the event: line before it, a data: line with the data: line (Anthropic)', () => {
    const kept = new KeptReads();
    const reads: Uint8Array[] = [];
    for (let i = 0; i < 200; i++) {
      const delta = { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: ` word${i}` } };
      reads.push(bytes(`event: content_block_delta\ndata: ${JSON.stringify(delta)}\n\n`));
      kept.add(reads.at(-1)!);
    }
    const sent = reads.reduce((sum, read) => sum + read.length, 0);
    expect(kept.bytes).toBeLessThan(sent / 8);
    expect(back(kept)).toEqual(reads);
  });

  it('compares one large event a read (2-4 KiB, a field repeated in every chunk) line by line, not whole', () => {
    const citations = Array.from({ length: 70 }, (_, i) => `https://example.com/source/${i}/page`);
    const kept = new KeptReads();
    const reads: Uint8Array[] = [];
    for (let i = 0; i < 300; i++) {
      const payload = { id: 'x', choices: [{ index: 0, delta: { content: ` word${i}` } }], citations };
      reads.push(Buffer.from(`data: ${JSON.stringify(payload)}\n\n`));
      kept.add(reads.at(-1)!);
    }
    expect(reads[0]!.length).toBeGreaterThan(2048);
    expect(reads[0]!.length).toBeLessThan(4096);
    const sent = reads.reduce((sum, read) => sum + read.length, 0);
    expect(kept.bytes).toBeLessThan(sent / 50);
    expect(back(kept)).toEqual(reads.map((read) => new Uint8Array(read)));
  });

  it('keeps a backlog read of many events (over 2 KiB) whole', () => {
    const kept = new KeptReads();
    let text = '';
    for (let e = 0; text.length <= 2048; e++) text += chatEvent(e);
    const read = Buffer.from(text);
    kept.add(read);
    expect(kept.bytes).toBeGreaterThanOrEqual(read.length);
    expect(back(kept)).toEqual([new Uint8Array(read)]);
  });
});
