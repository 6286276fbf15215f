import { describe, expect, it } from 'vitest';
import { firstEvent, isEventStream } from './first-event.js';

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

async function text(body: AsyncIterable<Uint8Array>): Promise<string> {
  let out = '';
  for await (const chunk of body) out += new TextDecoder().decode(chunk);
  return out;
}

describe('isEventStream', () => {
  it.each([
    ['text/event-stream', true],
    ['text/event-stream; charset=utf-8', true],
    [['text/event-stream', 'x'], true],
    ['application/json', false],
    [undefined, false],
  ])('%j → %s', (contentType, expected) => {
    expect(isEventStream(contentType)).toBe(expected);
  });
});

describe('firstEvent', () => {
  it('waits for the first chunk, then yields it and the rest', async () => {
    let pulled = 0;
    const source = (async function* () {
      pulled++;
      yield bytes('data: 1\n\n');
      pulled++;
      yield bytes('data: 2\n\n');
    })();
    const body = await firstEvent(source);
    expect(pulled).toBe(1);
    expect(await text(body!)).toBe('data: 1\n\ndata: 2\n\n');
  });

  it('answers undefined for a stream that ends before its first byte', async () => {
    expect(await firstEvent((async function* () {})())).toBeUndefined();
  });

  it('rejects with what reading the first chunk threw (the first-byte deadline, a reset)', async () => {
    const failure = new Error('reset');
    const source: AsyncIterable<Uint8Array> = {
      [Symbol.asyncIterator]: () => ({ next: () => Promise.reject(failure) }),
    };
    await expect(firstEvent(source)).rejects.toBe(failure);
  });

  it.each([1, 2])('closes the source when its reader stops after %i chunk(s)', async (stopAfter) => {
    let closed = false;
    const source = (async function* () {
      try {
        yield bytes('a');
        yield bytes('b');
        yield bytes('c');
      } finally {
        closed = true;
      }
    })();
    const body = await firstEvent(source);
    const read: string[] = [];
    for await (const chunk of body!) {
      read.push(new TextDecoder().decode(chunk));
      if (read.length === stopAfter) break;
    }
    expect(read).toEqual(['a', 'b'].slice(0, stopAfter));
    expect(closed).toBe(true);
  });
});
