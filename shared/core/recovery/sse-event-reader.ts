import { concatBytes } from '../concat-bytes.js';
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

const decoder = new TextDecoder();

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
  private lines: Uint8Array[] = [];
  private size = 0;
  private data: string[] = [];
  private ready: SseEvent[] = [];
  private readonly splitter = new LineSplitter((line, raw) => this.line(line, raw), {
    maxLineBytes: MAX_EVENT_BYTES,
    onOverflow: () => {
      throw new Error('an SSE event exceeds the event size bound');
    },
  });

  /** Feeds bytes; returns the events they completed. Throws on an event over the bound. */
  push(bytes: Uint8Array): SseEvent[] {
    this.splitter.push(bytes);
    const out = this.ready;
    this.ready = [];
    return out;
  }

  /** Ends the input: the bytes of an unfinished event (lines without their closing blank line), if any. */
  rest(): Uint8Array | undefined {
    this.splitter.end();
    if (this.ready.length > 0) throw new Error('rest() after a completed event that was not taken');
    if (this.lines.length === 0) return undefined;
    const raw = concatBytes(this.lines, this.size);
    this.lines = [];
    this.data = [];
    this.size = 0;
    return raw;
  }

  /** Bytes of the unfinished event held. */
  get heldBytes(): number {
    return this.size + this.splitter.bufferedBytes;
  }

  private line(line: Uint8Array, raw: Uint8Array): void {
    this.size += raw.length;
    if (this.size > MAX_EVENT_BYTES) throw new Error('an SSE event exceeds the event size bound');
    this.lines.push(raw.slice());
    if (line.length === 0) {
      const event: SseEvent = {
        raw: concatBytes(this.lines, this.size),
        data: this.data.length === 0 ? undefined : this.data.join('\n'),
      };
      this.lines = [];
      this.data = [];
      this.size = 0;
      this.ready.push(event);
      return;
    }
    const text = decoder.decode(line);
    if (text.startsWith('data:')) this.data.push(text.slice(text[5] === ' ' ? 6 : 5));
  }
}
