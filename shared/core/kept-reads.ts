import { Buffer } from 'node:buffer';

/**
 * The reads of a stream kept for later, small: each read is split into its lines, and each line is stored as what
 * differs from the last line that began with the same byte — the length of the prefix and of the suffix they share,
 * and the bytes in between. A chat stream's data lines differ in a few bytes (`data: {"id":…,"delta":{"content":"`
 * and the closing `"},"logprobs":null,"finish_reason":null}]}` repeat; the token between them changes), so a line
 * of ~215 bytes keeps ~10, however the backend's events fall into reads: one event a read, or several (a loaded
 * backend or network coalesces them; comparing whole reads then kept nearly every byte). Comparing by first byte
 * keeps `event:` and `data:` lines (Anthropic) and bare payloads (`{…}`) apart. A line that shares nothing keeps
 * itself plus four bytes or more (its first byte, the lengths), a blank line one byte; a read over 4 KiB, or over
 * 2 KiB of many lines (a backlog), is kept whole, as fast as a copy. {@link forEach} gives the reads back exactly,
 * read by read.
 *
 * @example
 * const kept = new KeptReads();
 * kept.add(read);
 * kept.forEach((bytes) => reader.push(bytes.slice())); // a view into a reused buffer: copy what is kept
 */
export class KeptReads {
  /**
   * The stored form, per line: varint `middle length × 16 + flags` (1: the line ended with LF, 2: the read ended with
   * it, 4: the line is not empty); then, for a line that is not empty, its first byte, varint length of the prefix
   * it shares with the line compared with (after the first byte), varint length of the suffix, the middle. A read
   * kept whole: varint `length × 16 + 8`, the read.
   */
  private store: Uint8Array = EMPTY;
  private size = 0;
  private represented = 0;
  /** The last line compared with, per first byte (copies: a read belongs to the caller's write). */
  private readonly lasts = new LastLines();

  /** Bytes stored (the bound counts these). */
  get bytes(): number {
    return this.size;
  }

  /** Bytes of the reads kept, as they were (what {@link forEach} gives back). */
  get readBytes(): number {
    return this.represented;
  }

  /** Keeps one read. */
  add(read: Uint8Array): void {
    this.represented += read.length;
    if (read.length === 0) {
      this.reserve(1);
      this.varint(ENDS_READ);
      return;
    }
    if (isBacklog(read)) {
      // A backlog of many events: copied whole, natively (comparing its lines costs ~1 µs each).
      this.reserve(8 + read.length);
      this.varint(read.length * FLAGS + WHOLE_READ);
      this.store.set(read, this.size);
      this.size += read.length;
      return;
    }
    for (let start = 0; start < read.length;) start = this.addLine(read, start);
  }

  /** Gives every read kept, in order, byte for byte (each view valid only during the call). */
  forEach(each: (read: Uint8Array) => void): void {
    const decoder = new KeptDecoder(this.store, this.size);
    for (let read = decoder.read(); read !== undefined; read = decoder.read()) each(read);
  }

  /** Forgets every read (and gives the memory back). */
  clear(): void {
    this.store = EMPTY;
    this.size = 0;
    this.represented = 0;
    this.lasts.clear();
  }

  /**
   * Stores the line at `start` (up to its LF or the read's end) against the last line that began with the same byte;
   * returns where the next line starts. The comparison runs first: the line compared with holds no LF, so the prefix
   * they share stops inside this line, and the LF is looked for only after it (the bytes are read about once).
   */
  private addLine(read: Uint8Array, start: number): number {
    const first = read[start]!;
    const slot = first === LF ? undefined : this.lasts.slotFor(first);
    const last = slot?.bytes ?? EMPTY;
    const lastLength = slot?.length ?? 0;
    // The first byte picks the line compared with and is stored as it is; the prefix counts from the second.
    let prefix = first === LF ? 0 : 1;
    const most = Math.min(read.length - start, lastLength);
    while (prefix < most && read[start + prefix] === last[prefix]) prefix++;
    const lf = indexOfLf(read, start + prefix);
    const end = lf < 0 ? read.length : lf;
    const next = lf < 0 ? read.length : lf + 1;
    const flags = (lf < 0 ? 0 : ENDS_WITH_LF) + (next === read.length ? ENDS_READ : 0);
    const length = end - start;
    this.reserve(16 + length);
    if (length === 0) {
      this.varint(flags);
      return next;
    }
    let suffix = 0;
    const suffixMost = Math.min(length, lastLength) - prefix;
    while (suffix < suffixMost && read[end - 1 - suffix] === last[lastLength - 1 - suffix]) suffix++;
    const from = start + prefix;
    const to = end - suffix;
    this.varint((to - from) * FLAGS + NOT_EMPTY + flags);
    this.store[this.size++] = read[start]!;
    this.varint(prefix - 1);
    this.varint(suffix);
    const { store } = this;
    // A few bytes (the usual case) are copied in place: no view object per line.
    if (to - from < 64) for (let i = from; i < to; i++) store[this.size++] = read[i]!;
    else {
      store.set(read.subarray(from, to), this.size);
      this.size += to - from;
    }
    slot?.update(read, start, end, prefix, suffix);
    return next;
  }

  private reserve(bytes: number): void {
    const needed = this.size + bytes;
    if (needed <= this.store.length) return;
    const grown = new Uint8Array(Math.max(needed, Math.max(256, this.store.length * 2)));
    grown.set(this.store.subarray(0, this.size));
    this.store = grown;
  }

  private varint(value: number): void {
    let rest = value;
    while (rest >= 0x80) {
      this.store[this.size++] = (rest % 128) | 0x80;
      rest = Math.floor(rest / 128);
    }
    this.store[this.size++] = rest;
  }
}

/** One remembered line: the bytes of the last line that began with `first`. */
class LastLine {
  bytes: Uint8Array = EMPTY;
  length = 0;

  constructor(readonly first: number) {}

  /** Remembers `read[start, end)`; a line over {@link MAX_COMPARED_BYTES} is forgotten instead (`last` stays small). */
  remember(read: Uint8Array, start: number, end: number): void {
    const length = end - start;
    if (length > MAX_COMPARED_BYTES) {
      this.length = 0;
      return;
    }
    if (length > this.bytes.length) this.bytes = new Uint8Array(Math.max(length, 256));
    for (let i = 0; i < length; i++) this.bytes[i] = read[start + i]!;
    this.length = length;
  }

  /**
   * {@link remember}, knowing that `read[start, end)` shares `prefix` bytes and `suffix` bytes with this line: only
   * the middle is copied, and the suffix moved in place when the length changed.
   */
  update(read: Uint8Array, start: number, end: number, prefix: number, suffix: number): void {
    const length = end - start;
    if (length > this.bytes.length || length > MAX_COMPARED_BYTES) {
      this.remember(read, start, end);
      return;
    }
    if (length !== this.length && suffix > 0) this.bytes.copyWithin(length - suffix, this.length - suffix, this.length);
    for (let i = prefix; i < length - suffix; i++) this.bytes[i] = read[start + i]!;
    this.length = length;
  }
}

/**
 * The lines compared with, one per first byte, for at most {@link MAX_LINE_KINDS} first bytes (an SSE stream has
 * `data:`, `event:`, `id:` and `:` lines): a line beginning with any other byte is compared with nothing. The same
 * rule rebuilds the lines, so the store and its reading agree on which line each line was compared with.
 */
class LastLines {
  private slots: LastLine[] = [];

  slotFor(first: number): LastLine | undefined {
    for (const slot of this.slots) if (slot.first === first) return slot;
    if (this.slots.length === MAX_LINE_KINDS) return undefined;
    const slot = new LastLine(first);
    this.slots.push(slot);
    return slot;
  }

  clear(): void {
    this.slots = [];
  }
}

/** Reads the stored form back, read by read, into one buffer reused from read to read. */
class KeptDecoder {
  private at = 0;
  private out = new Uint8Array(256);
  private readonly lasts = new LastLines();

  constructor(
    private readonly store: Uint8Array,
    private readonly size: number,
  ) {}

  /** The next read (a view valid until the next call), or undefined at the end. */
  read(): Uint8Array | undefined {
    if (this.at >= this.size) return undefined;
    let length = 0;
    for (;;) {
      const coded = this.varint();
      const flags = coded % FLAGS;
      if (flags & WHOLE_READ) return this.whole(Math.floor(coded / FLAGS));
      if (flags & NOT_EMPTY) length = this.line(length, Math.floor(coded / FLAGS));
      this.reserve(length + 1);
      if (flags & ENDS_WITH_LF) this.out[length++] = LF;
      if (flags & ENDS_READ) return this.out.subarray(0, length);
    }
  }

  /** A read stored whole: a view of the store. */
  private whole(length: number): Uint8Array {
    this.at += length;
    return this.store.subarray(this.at - length, this.at);
  }

  /** Rebuilds one non-empty line at `start` of the output; returns where it ends. */
  private line(start: number, middle: number): number {
    const store = this.store;
    const first = store[this.at++]!;
    const prefix = 1 + this.varint();
    const suffix = this.varint();
    const slot = this.lasts.slotFor(first);
    const last = slot?.bytes ?? EMPTY;
    const lastLength = slot?.length ?? 0;
    const end = start + prefix + middle + suffix;
    this.reserve(end);
    const out = this.out;
    out[start] = first;
    out.set(last.subarray(1, prefix), start + 1);
    out.set(store.subarray(this.at, this.at + middle), start + prefix);
    out.set(last.subarray(lastLength - suffix, lastLength), start + prefix + middle);
    this.at += middle;
    slot?.remember(out, start, end);
    return end;
  }

  private reserve(bytes: number): void {
    if (bytes <= this.out.length) return;
    const grown = new Uint8Array(Math.max(bytes, this.out.length * 2));
    grown.set(this.out);
    this.out = grown;
  }

  private varint(): number {
    let value = 0;
    let multiplier = 1;
    for (;;) {
      const byte = this.store[this.at++]!;
      value += (byte & 0x7f) * multiplier;
      if (byte < 0x80) return value;
      multiplier *= 128;
    }
  }
}

/**
 * A read kept whole rather than line by line: past 4 KiB, or past 2 KiB when its first line ends before half of it
 * (many events at once). One event of 2–4 KiB a read (a provider repeating a large field in every chunk) is still
 * compared line by line, as whole reads up to 4 KiB were: kept whole it would cost its full size a read.
 */
function isBacklog(read: Uint8Array): boolean {
  if (read.length > MAX_COMPARED_BYTES) return true;
  if (read.length <= MAX_COMPARED_READ) return false;
  const firstLf = indexOfLf(read, 0);
  return firstLf !== -1 && firstLf < read.length / 2;
}

/** The first LF at or after `from`, or -1: natively in a long rest of a `Buffer`, else in JS (no view object). */
function indexOfLf(read: Uint8Array, from: number): number {
  if (read.length - from > SHORT_REST && Buffer.isBuffer(read)) return read.indexOf(LF, from);
  for (let i = from; i < read.length; i++) if (read[i] === LF) return i;
  return -1;
}

const EMPTY = new Uint8Array(0);
const LF = 0x0a;
const ENDS_WITH_LF = 1;
const ENDS_READ = 2;
const NOT_EMPTY = 4;
const WHOLE_READ = 8;
/** The flags' span in a record's first varint (its length × FLAGS + flags). */
const FLAGS = 16;
/** The longest read whose lines are always compared; a longer one of many lines (a backlog) is kept whole. */
const MAX_COMPARED_READ = 2048;
/** Bytes left to search up to which a JS loop beats a native search's call. */
const SHORT_REST = 256;
/** The longest line remembered to compare the next one with. */
const MAX_COMPARED_BYTES = 4096;
/** First bytes remembered a line for (SSE needs four: `d`, `e`, `i`, `:`; the meter's bare payloads `{`). */
const MAX_LINE_KINDS = 6;
