import { describe, expect, it } from 'vitest';
import { SseEventFramer } from './sse-event-framer.js';
import { MAX_EVENT_BYTES, SseEventReader } from './sse-event-reader.js';

const bytes = (text: string) => new TextEncoder().encode(text);
const text = (raw: Uint8Array | undefined) => (raw === undefined ? undefined : new TextDecoder().decode(raw));

describe('SseEventFramer', () => {
  it('hands on a read of whole events as itself, without a copy', () => {
    const framer = new SseEventFramer();
    const read = bytes('data: {"a":1}\n\n: ping\r\n\r\n');
    expect(framer.push(read)).toBe(read);
    expect(framer.heldBytes).toBe(0);
  });

  it('gives whole events only, byte-exact, however the input is split', () => {
    const framer = new SseEventFramer();
    expect(framer.push(bytes('data: {"a"'))).toBeUndefined();
    expect(text(framer.push(bytes(':1}\r\n\r\n: ping\n\ndata: [DO')))).toBe('data: {"a":1}\r\n\r\n: ping\n\n');
    expect(framer.heldBytes).toBe('data: [DO'.length);
    expect(text(framer.rest())).toBe('data: [DO');
    expect(framer.rest()).toBeUndefined();
  });

  it('finds a blank line split across reads, after LF or CRLF, at any byte', () => {
    const stream = 'data: a\r\n\r\nevent: x\ndata: b\n\ndata: c\r\n\r\n: end\n\n';
    for (let at = 1; at < stream.length; at++) {
      for (let second = at + 1; second <= stream.length; second++) {
        const framer = new SseEventFramer();
        const parts = [stream.slice(0, at), stream.slice(at, second), stream.slice(second)];
        const out = parts.map((part) => text(framer.push(bytes(part))) ?? '');
        // Each piece ends on an event boundary: what the reader of whole events finds in the same input.
        const reader = new SseEventReader();
        const expected = parts.map((part) =>
          reader
            .push(bytes(part))
            .map((e) => text(e.raw))
            .join(''),
        );
        expect(out).toEqual(expected);
        expect(framer.rest()).toBeUndefined();
      }
    }
  });

  it('does not take a CR inside a line, or a line of one other byte, for a blank line', () => {
    const framer = new SseEventFramer();
    expect(framer.push(bytes('data: a\n'))).toBeUndefined();
    expect(framer.push(bytes('x'))).toBeUndefined();
    expect(framer.push(bytes('\n'))).toBeUndefined();
    expect(framer.push(bytes('\rdata: b\n'))).toBeUndefined();
    expect(text(framer.push(bytes('\r\n')))).toBe('data: a\nx\n\rdata: b\n\r\n');
  });

  it('ends the stream on an event over the bound, held or whole in one read', () => {
    const long = 'x'.repeat(MAX_EVENT_BYTES);
    const held = new SseEventFramer();
    expect(() => held.push(bytes(`data: ${long}`))).toThrow(/event size bound/);
    const whole = new SseEventFramer();
    expect(() => whole.push(bytes(`data: a\n\ndata: ${long}\n\n`))).toThrow(/event size bound/);
    const fits = new SseEventFramer();
    expect(fits.push(bytes(`data: ${'x'.repeat(1000)}\n\n`))?.length).toBe(1008);
  });
});
