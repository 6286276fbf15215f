import { Buffer } from 'node:buffer';

const LF = 0x0a;
const CR = 0x0d;

/** Default bound on one unfinished line: 1 MiB. */
export const DEFAULT_MAX_LINE_BYTES = 1024 * 1024;

/** Options of {@link LineSplitter}. */
export interface LineSplitterOptions {
  /**
   * The longest line kept, in bytes (terminator excluded). A longer line is never buffered: its bytes go to
   * `onOverflow` (if given) as they arrive, and it is counted in {@link LineSplitter.droppedLines}.
   * Default {@link DEFAULT_MAX_LINE_BYTES}.
   */
  maxLineBytes?: number;
  /** Receives the bytes of over-long lines (terminator included), e.g. to pass them through unchanged. */
  onOverflow?: (bytes: Uint8Array) => void;
}

/**
 * Incremental byte-level line splitter for SSE and NDJSON. Chunks may be split anywhere, even inside a
 * multi-byte UTF-8 character: it splits on the LF byte only (which never occurs inside a UTF-8 sequence) and
 * hands out bytes (as `Buffer` views), so decoding happens per complete line. LF and CRLF endings are both accepted;
 * the line given to `onLine` has its terminator removed, `raw` keeps it (to re-emit the line byte-exact).
 *
 * Memory: holds only the unfinished line, at most `maxLineBytes`. Lines that lie wholly inside a chunk are
 * handed out as zero-copy views, valid only during the callback.
 *
 * @example
 * const splitter = new LineSplitter((line) => console.log(new TextDecoder().decode(line)));
 * splitter.push(new TextEncoder().encode('data: {"a":1}\r\n\r\nda'));
 * splitter.push(new TextEncoder().encode('ta: [DONE]\n'));
 * splitter.end();
 */
export class LineSplitter {
  /** Lines longer than the bound, dropped whole. */
  droppedLines = 0;
  private readonly maxLineBytes: number;
  private readonly onOverflow: ((bytes: Uint8Array) => void) | undefined;
  private carry: Buffer = Buffer.alloc(0);
  private carryLength = 0;
  private overflowing = false;

  constructor(
    private readonly onLine: (line: Buffer, raw: Buffer) => void,
    options: LineSplitterOptions = {},
  ) {
    this.maxLineBytes = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
    this.onOverflow = options.onOverflow;
  }

  /** Bytes of the unfinished line currently held. */
  get bufferedBytes(): number {
    return this.carryLength;
  }

  /** True inside a line: part of one is held, or an over-long one is being passed through (nothing held). */
  get midLine(): boolean {
    return this.carryLength > 0 || this.overflowing;
  }

  /** Feeds the next chunk; calls `onLine` for every line it completes. */
  push(bytes: Uint8Array): void {
    // One Buffer view per chunk: every line handed out is then a Buffer, searchable natively at no extra cost.
    const chunk = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    let start = 0;
    const length = chunk.length;
    while (start < length) {
      const nl = chunk.indexOf(LF, start);
      if (nl < 0) {
        this.hold(chunk.subarray(start));
        return;
      }
      if (this.overflowing) {
        this.onOverflow?.(chunk.subarray(start, nl + 1));
        this.overflowing = false;
        this.droppedLines++;
      } else if (this.carryLength > 0) {
        const piece = chunk.subarray(start, nl + 1);
        if (this.carryLength + piece.length - 1 > this.maxLineBytes) {
          this.onOverflow?.(this.carry.subarray(0, this.carryLength));
          this.onOverflow?.(piece);
          this.carryLength = 0;
          this.droppedLines++;
        } else {
          this.append(piece);
          const raw = this.carry.subarray(0, this.carryLength);
          this.carryLength = 0;
          this.emit(raw);
        }
      } else if (nl - start > this.maxLineBytes) {
        this.onOverflow?.(chunk.subarray(start, nl + 1));
        this.droppedLines++;
      } else {
        this.emit(chunk.subarray(start, nl + 1));
      }
      start = nl + 1;
    }
  }

  /** Ends the input: a final line without terminator is emitted (or counted as dropped if over-long). */
  end(): void {
    if (this.overflowing) {
      this.overflowing = false;
      this.droppedLines++;
      return;
    }
    if (this.carryLength > 0) {
      const raw = this.carry.subarray(0, this.carryLength);
      this.carryLength = 0;
      this.emit(raw);
    }
  }

  private emit(raw: Buffer): void {
    let end = raw.length;
    if (end > 0 && raw[end - 1] === LF) end--;
    if (end > 0 && raw[end - 1] === CR) end--;
    this.onLine(raw.subarray(0, end), raw);
  }

  private hold(bytes: Buffer): void {
    if (this.overflowing) {
      this.onOverflow?.(bytes);
      return;
    }
    if (this.carryLength + bytes.length > this.maxLineBytes) {
      this.onOverflow?.(this.carry.subarray(0, this.carryLength));
      this.onOverflow?.(bytes);
      this.carryLength = 0;
      this.overflowing = true;
      return;
    }
    this.append(bytes);
  }

  private append(bytes: Buffer): void {
    const needed = this.carryLength + bytes.length;
    if (needed > this.carry.length) {
      // Grow geometrically; the bound above keeps this at most maxLineBytes + the terminator.
      const grown = Buffer.alloc(
        Math.max(needed, Math.min(this.maxLineBytes + 2, Math.max(256, this.carry.length * 2))),
      );
      grown.set(this.carry.subarray(0, this.carryLength));
      this.carry = grown;
    }
    this.carry.set(bytes, this.carryLength);
    this.carryLength = needed;
  }
}
