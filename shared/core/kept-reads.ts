/**
 * The reads of a stream kept for later, small: each read is stored as what differs from the read before it — the
 * length of the prefix and of the suffix they share, and the bytes in between. A chat stream's reads are one
 * event each and differ in a few bytes (`{"id":…,"choices":[{"index":0,"delta":{"content":"` and the closing
 * `"},"logprobs":null,"finish_reason":null}]}` repeat; the token between them changes), so a read of ~215 bytes
 * keeps ~10. A read that shares nothing keeps itself plus three bytes or more (the lengths); a read over 4 KiB (a
 * backlog of many events) is kept whole and the next one is not compared with it. {@link forEach} gives the reads
 * back exactly.
 *
 * @example
 * const kept = new KeptReads();
 * kept.add(read);
 * kept.forEach((bytes) => reader.push(bytes));
 */
export class KeptReads {
  /** The stored form: per read, varint prefix length, varint suffix length, varint middle length, the middle. */
  private store: Uint8Array = EMPTY;
  private size = 0;
  private represented = 0;
  /** The last read, whole (a copy: the read itself belongs to the caller's write). */
  private last: Uint8Array = EMPTY;
  private lastLength = 0;

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
    const { last, lastLength } = this;
    const most = Math.min(read.length, lastLength);
    let prefix = 0;
    while (prefix < most && read[prefix] === last[prefix]) prefix++;
    let suffix = 0;
    const suffixMost = most - prefix;
    while (suffix < suffixMost && read[read.length - 1 - suffix] === last[lastLength - 1 - suffix]) suffix++;
    const end = read.length - suffix;
    this.reserve(15 + end - prefix);
    this.varint(prefix);
    this.varint(suffix);
    this.varint(end - prefix);
    const { store } = this;
    // A few bytes (the usual case) are copied in place: no view object per read.
    if (end - prefix < 64) for (let i = prefix; i < end; i++) store[this.size++] = read[i]!;
    else {
      store.set(read.subarray(prefix, end), this.size);
      this.size += end - prefix;
    }
    this.represented += read.length;
    this.remember(read);
  }

  /** Gives every read kept, in order, byte for byte (each view valid only during the call). */
  forEach(each: (read: Uint8Array) => void): void {
    let previous: Uint8Array = EMPTY;
    let at = 0;
    const store = this.store;
    const next = (): number => {
      let value = 0;
      let shift = 0;
      for (;;) {
        const byte = store[at++]!;
        value += (byte & 0x7f) * 2 ** shift;
        if (byte < 0x80) return value;
        shift += 7;
      }
    };
    while (at < this.size) {
      const prefix = next();
      const suffix = next();
      const middle = next();
      const read = new Uint8Array(prefix + middle + suffix);
      read.set(previous.subarray(0, prefix));
      read.set(store.subarray(at, at + middle), prefix);
      read.set(previous.subarray(previous.length - suffix), prefix + middle);
      at += middle;
      each(read);
      previous = read;
    }
  }

  /** Forgets every read (and gives the memory back). */
  clear(): void {
    this.store = EMPTY;
    this.size = 0;
    this.represented = 0;
    this.last = EMPTY;
    this.lastLength = 0;
  }

  private remember(read: Uint8Array): void {
    // A long read (a backlog of many events) is kept whole and not compared with: `last` stays small.
    if (read.length > MAX_COMPARED_BYTES) {
      this.last = EMPTY;
      this.lastLength = 0;
      return;
    }
    if (read.length > this.last.length) this.last = new Uint8Array(Math.max(read.length, 256));
    this.last.set(read);
    this.lastLength = read.length;
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
      this.store[this.size++] = (rest & 0x7f) | 0x80;
      rest = Math.floor(rest / 128);
    }
    this.store[this.size++] = rest;
  }
}

const EMPTY = new Uint8Array(0);
/** The longest read remembered to compare the next one with. */
const MAX_COMPARED_BYTES = 4096;
