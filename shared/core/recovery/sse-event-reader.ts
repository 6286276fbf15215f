import { Buffer } from 'node:buffer';
import { LineSplitter } from '../usage/line-splitter.js';

/** One complete SSE event: its bytes as received (blank line included) and its `data:` payload. */
export interface SseEvent {
  /** The event's bytes, byte-exact, up to and including the blank line that ends it. */
  readonly raw: Uint8Array;
  /** The `data:` lines joined with LF; undefined for an event without data (a comment, a keep-alive). */
  readonly data: string | undefined;
}

/** Longest event kept (a chat chunk is a few hundred bytes; an over-long event ends the stream as malformed). */
export const MAX_EVENT_BYTES = 1024 * 1024;

/**
 * Splits an SSE byte stream into whole events, so that only whole events ever reach the caller: a stream
 * cut inside an event leaves that event out, and an answer spliced after it starts on an event boundary.
 * Holds only the unfinished event, at most {@link MAX_EVENT_BYTES}.
 *
 * @example
 * const reader = new SseEventReader();
 * for (const event of reader.push(chunk)) forward(event.raw);
 */
export class SseEventReader {
  /** The unfinished event's bytes, in one buffer reused from event to event (no copy per line). */
  private held = new Uint8Array(256);
  private size = 0;
  private data: string | undefined;
  private ready: SseEvent[] = NO_EVENTS;
  private readonly splitter = new LineSplitter((line, raw) => this.line(line, raw), {
    maxLineBytes: MAX_EVENT_BYTES,
    onOverflow: () => {
      throw new Error('an SSE event exceeds the event size bound');
    },
  });

  /** Feeds bytes; returns the events they completed. Throws on an event over the bound. */
  push(bytes: Uint8Array): readonly SseEvent[] {
    this.splitter.push(bytes);
    const out = this.ready;
    this.ready = NO_EVENTS;
    return out;
  }

  /** Ends the input: the bytes of an unfinished event (lines without their closing blank line), if any. */
  rest(): Uint8Array | undefined {
    this.splitter.end();
    if (this.ready.length > 0) throw new Error('rest() after a completed event that was not taken');
    if (this.size === 0) return undefined;
    const raw = this.held.slice(0, this.size);
    this.data = undefined;
    this.size = 0;
    return raw;
  }

  /** Bytes of the unfinished event held. */
  get heldBytes(): number {
    return this.size + this.splitter.bufferedBytes;
  }

  private line(line: Buffer, raw: Buffer): void {
    const size = this.size + raw.length;
    if (size > MAX_EVENT_BYTES) throw new Error('an SSE event exceeds the event size bound');
    if (size > this.held.length) this.grow(size);
    this.held.set(raw, this.size);
    this.size = size;
    if (line.length === 0) {
      // The one copy per event: the event's bytes outlive the buffer they were gathered in.
      const event: SseEvent = { raw: this.held.slice(0, size), data: this.data };
      this.data = undefined;
      this.size = 0;
      if (this.ready === NO_EVENTS) this.ready = [event];
      else this.ready.push(event);
      return;
    }
    if (isDataLine(line)) {
      // Decode the payload only (one string per line, no prefix copy to slice off).
      const payload = line.toString('utf8', line[DATA_PREFIX.length] === SPACE ? 6 : 5);
      this.data = this.data === undefined ? payload : `${this.data}\n${payload}`;
    }
  }

  private grow(needed: number): void {
    const grown = new Uint8Array(Math.min(MAX_EVENT_BYTES, Math.max(needed, this.held.length * 2)));
    grown.set(this.held.subarray(0, this.size));
    this.held = grown;
  }
}

/** `push` hands out this empty list when nothing completed (most reads end inside an event). */
const NO_EVENTS: SseEvent[] = [];
Object.freeze(NO_EVENTS);

const DATA_PREFIX = Buffer.from('data:', 'latin1');
const SPACE = 0x20;

function isDataLine(line: Buffer): boolean {
  if (line.length < DATA_PREFIX.length) return false;
  for (let i = 0; i < DATA_PREFIX.length; i++) if (line[i] !== DATA_PREFIX[i]) return false;
  return true;
}
