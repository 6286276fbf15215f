import { describe, expect, it } from 'vitest';
import { SseEventReader } from './sse-event-reader.js';

const bytes = (text: string) => new TextEncoder().encode(text);
const text = (raw: Uint8Array) => new TextDecoder().decode(raw);

describe('SseEventReader', () => {
  it('gives whole events only, byte-exact, however the input is split', () => {
    const reader = new SseEventReader();
    expect(reader.push(bytes('data: {"a"'))).toEqual([]);
    const events = reader.push(bytes(':1}\r\n\r\n: ping\n\ndata: [DO'));
    expect(events.map((e) => [text(e.raw), e.data])).toEqual([
      ['data: {"a":1}\r\n\r\n', '{"a":1}'],
      [': ping\n\n', undefined],
    ]);
    expect(reader.heldBytes).toBeGreaterThan(0);
    expect(text(reader.rest()!)).toBe('data: [DO');
  });

  it('joins the data lines of one event', () => {
    const [event] = new SseEventReader().push(bytes('event: x\ndata: a\ndata: b\n\n'));
    expect(event!.data).toBe('a\nb');
  });

  it('keeps every event whole and unchanged while later events are gathered, however long they are', () => {
    const reader = new SseEventReader();
    const sent = ['a'.repeat(300), 'b'.repeat(5), 'é'.repeat(700)].map((x) => `data: {"t":"${x}"}\r\n\r\n`);
    const got = sent.flatMap((event) => [
      ...reader.push(bytes(event.slice(0, 7))),
      ...reader.push(bytes(event.slice(7))),
    ]);
    expect(got.map((e) => text(e.raw))).toEqual(sent);
    expect(got.map((e) => e.data)).toEqual(sent.map((e) => e.slice(6, -4)));
    expect(reader.heldBytes).toBe(0);
  });
});
