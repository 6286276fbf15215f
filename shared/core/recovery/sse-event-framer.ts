import { bufferView } from '../usage/json-scan.js';
import { MAX_EVENT_BYTES } from './sse-event-reader.js';

const LF = 0x0a;
const CR = 0x0d;

/**
 * Finds where whole SSE events end in a byte stream, without splitting it into lines or events: what a read
 * completed goes on as one piece — the read itself when it starts and ends on an event boundary (the usual
 * case: a backend writes whole events), else the held start of an event joined to the read up to its last
 * boundary. Only whole events ever reach the caller: a stream cut inside an event leaves that event out, and an
 * answer spliced after it starts on an event boundary. An event ends on a blank line (LF or CRLF endings, as
 * {@link SseEventReader} reads them); an event over {@link MAX_EVENT_BYTES} ends the stream as malformed.
 *
 * The first attempt of a recoverable stream goes through this (one native LF search per line, no copy, no
 * object per line or event); its events are read as such only when a cut or an error event needs what they say.
 *
 * @example
 * const framer = new SseEventFramer();
 * const whole = framer.push(chunk); // undefined: no event completed yet
 */
export class SseEventFramer {
  /** The unfinished event's bytes (held across reads), in a buffer reused from event to event. */
  private held: Uint8Array = EMPTY;
  private size = 0;
  /** Bytes of the unfinished line so far (its terminator excluded), and whether its first byte is CR. */
  private lineBytes = 0;
  private lineStartsWithCr = false;

  /** Bytes of the unfinished event held. */
  get heldBytes(): number {
    return this.size;
  }

  /** Feeds bytes; returns the whole events they completed, joined, or undefined. Throws on an over-long event. */
  push(bytes: Uint8Array): Uint8Array | undefined {
    const length = bytes.length;
    if (length === 0) return undefined;
    if (this.size === 0 && length <= MAX_EVENT_BYTES && endsOnBoundary(bytes)) return bytes;
    const end = this.lastBoundary(bytes);
    if (end === 0) {
      this.hold(bytes);
      return undefined;
    }
    const whole = this.size === 0 ? bytes.subarray(0, end) : this.joined(bytes.subarray(0, end));
    this.size = 0;
    if (end < length) this.hold(bytes.subarray(end));
    return whole;
  }

  /** Ends the input: the bytes of an unfinished event (lines without their closing blank line), if any. */
  rest(): Uint8Array | undefined {
    if (this.size === 0) return undefined;
    const rest = this.held.slice(0, this.size);
    this.size = 0;
    this.lineBytes = 0;
    return rest;
  }

  /**
   * The offset just past the last blank line in `bytes` (0: none), following the line state across reads;
   * checks the size of every event it completes.
   */
  private lastBoundary(bytes: Uint8Array): number {
    const view = bufferView(bytes);
    let eventBytes = this.size;
    let eventStart = 0;
    let lineStart = 0;
    let boundary = 0;
    for (let lf = view.indexOf(LF, 0); lf >= 0; lf = view.indexOf(LF, lineStart)) {
      const carried = this.lineBytes;
      const line = carried + lf - lineStart;
      const startsWithCr = carried > 0 ? this.lineStartsWithCr : bytes[lineStart] === CR;
      this.lineBytes = 0;
      lineStart = lf + 1;
      if (line === 0 || (line === 1 && startsWithCr)) {
        checkSize(eventBytes + lineStart - eventStart);
        eventBytes = 0;
        eventStart = lineStart;
        boundary = lineStart;
      }
    }
    if (lineStart < bytes.length) {
      if (this.lineBytes === 0) this.lineStartsWithCr = bytes[lineStart] === CR;
      this.lineBytes += bytes.length - lineStart;
    }
    return boundary;
  }

  private joined(tail: Uint8Array): Uint8Array {
    const out = new Uint8Array(this.size + tail.length);
    out.set(this.held.subarray(0, this.size));
    out.set(tail, this.size);
    return out;
  }

  private hold(bytes: Uint8Array): void {
    const needed = this.size + bytes.length;
    checkSize(needed);
    if (needed > this.held.length) {
      const grown = new Uint8Array(Math.min(MAX_EVENT_BYTES, Math.max(needed, 256, this.held.length * 2)));
      grown.set(this.held.subarray(0, this.size));
      this.held = grown;
    }
    this.held.set(bytes, this.size);
    this.size = needed;
  }
}

const EMPTY = new Uint8Array(0);

/** True when `bytes` ends with a blank line, whatever came before it: LF LF, or LF CR LF. */
function endsOnBoundary(bytes: Uint8Array): boolean {
  const n = bytes.length;
  if (n < 2 || bytes[n - 1] !== LF) return false;
  return bytes[n - 2] === LF || (n >= 3 && bytes[n - 2] === CR && bytes[n - 3] === LF);
}

function checkSize(eventBytes: number): void {
  if (eventBytes > MAX_EVENT_BYTES) throw new Error('an SSE event exceeds the event size bound');
}
