/**
 * A byte-pair encoding's ranks as four typed arrays: every token's bytes back to back, where each starts, its
 * rank, and an open-addressing hash table of token numbers. For `o200k_base` (200,000 tokens) that is ~5 MB
 * outside V8's heap, built with no object per token — a `Map` keyed by strings held ~14 MB of heap and left the
 * garbage of its rehashes in large-object space (ADR 0085).
 */
export class RankTable {
  private constructor(
    /** Every token's bytes, back to back. */
    private readonly bytes: Uint8Array,
    /** Token `i`'s bytes are `bytes[starts[i], starts[i + 1])`. */
    private readonly starts: Int32Array,
    private readonly ranks: Int32Array,
    /** Token number + 1 at a key's hash (then the next slots), 0 where empty; a power of two long. */
    private readonly slots: Int32Array,
  ) {}

  /**
   * The table of js-tiktoken's ranks text: `<prefix> <first rank> <token> <token> …` lines, each token base64, ranks
   * counting up from the first. A token listed twice keeps its later rank, as js-tiktoken does.
   */
  static fromRanksText(text: string): RankTable {
    // Two passes over the text, one to size the arrays and one to fill them: no object per token.
    let tokenCount = 0;
    let byteCount = 0;
    forEachToken(text, (start, end) => {
      tokenCount++;
      byteCount += decodedLength(text, start, end);
    });
    const starts = new Int32Array(tokenCount + 1);
    // At most half full, so a probe ends after a slot or two.
    const slots = new Int32Array(2 ** Math.ceil(Math.log2(Math.max(2, tokenCount * 2))));
    const table = new RankTable(new Uint8Array(byteCount), starts, new Int32Array(tokenCount), slots);
    let token = 0;
    forEachToken(text, (start, end, rank) => {
      starts[token + 1] = decodeBase64(text, start, end, table.bytes, starts[token] as number);
      table.insert(token++, rank);
    });
    return table;
  }

  /** The rank of the token whose bytes are `key[from, to)`, or -1 when there is none. */
  rank(key: Uint8Array, from: number, to: number): number {
    const mask = this.slots.length - 1;
    for (let slot = hash(key, from, to) & mask; ; slot = (slot + 1) & mask) {
      const entry = this.slots[slot] as number;
      if (entry === 0) return -1;
      if (this.sameBytes(entry - 1, key, from, to)) return this.ranks[entry - 1] as number;
    }
  }

  private insert(token: number, rank: number): void {
    const { bytes, starts, slots } = this;
    const from = starts[token] as number;
    const to = starts[token + 1] as number;
    const mask = slots.length - 1;
    for (let slot = hash(bytes, from, to) & mask; ; slot = (slot + 1) & mask) {
      const entry = slots[slot] as number;
      if (entry === 0 || this.sameBytes(entry - 1, bytes, from, to)) {
        if (entry === 0) slots[slot] = token + 1;
        this.ranks[entry === 0 ? token : entry - 1] = rank;
        return;
      }
    }
  }

  private sameBytes(token: number, key: Uint8Array, from: number, to: number): boolean {
    const start = this.starts[token] as number;
    if ((this.starts[token + 1] as number) - start !== to - from) return false;
    for (let i = 0; i < to - from; i++) if (this.bytes[start + i] !== key[from + i]) return false;
    return true;
  }
}

/** Calls `visit` with each token's place in the ranks text and its rank, in order. */
function forEachToken(text: string, visit: (start: number, end: number, rank: number) => void): void {
  for (let lineStart = 0; lineStart < text.length;) {
    const lineEnd = endOf(text, '\n', lineStart);
    const prefixEnd = endOf(text, ' ', lineStart);
    if (prefixEnd < lineEnd) {
      const offsetEnd = Math.min(endOf(text, ' ', prefixEnd + 1), lineEnd);
      let rank = Number.parseInt(text.slice(prefixEnd + 1, offsetEnd), 10);
      for (let at = offsetEnd + 1; at < lineEnd; rank++) {
        const end = Math.min(endOf(text, ' ', at), lineEnd);
        visit(at, end, rank);
        at = end + 1;
      }
    }
    lineStart = lineEnd + 1;
  }
}

/** Index of `char` in `text` from `from`, or the text's length when there is none. */
function endOf(text: string, char: string, from: number): number {
  const at = text.indexOf(char, from);
  return at < 0 ? text.length : at;
}

/** FNV-1a over `bytes[from, to)`. */
function hash(bytes: Uint8Array, from: number, to: number): number {
  let h = 0x811c9dc5;
  for (let i = from; i < to; i++) h = Math.imul(h ^ (bytes[i] as number), 0x01000193);
  return h >>> 0;
}

const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const SEXTET = new Int8Array(128).fill(-1);
for (let i = 0; i < BASE64.length; i++) SEXTET[BASE64.charCodeAt(i)] = i;

/** Bytes that the base64 text `text[from, to)` (padded or not) stands for. */
function decodedLength(text: string, from: number, to: number): number {
  let end = to;
  while (end > from && text.charCodeAt(end - 1) === 0x3d) end--;
  return Math.floor(((end - from) * 6) / 8);
}

/** Decodes the base64 text `text[from, to)` into `out` at `at`; answers the index after the last byte written. */
function decodeBase64(text: string, from: number, to: number, out: Uint8Array, at: number): number {
  let bits = 0;
  let held = 0;
  for (let i = from; i < to; i++) {
    const sextet = SEXTET[text.charCodeAt(i)] ?? -1;
    if (sextet < 0) continue;
    bits = ((bits << 6) | sextet) & 0xffffff;
    held += 6;
    if (held >= 8) {
      held -= 8;
      out[at++] = (bits >> held) & 0xff;
    }
  }
  return at;
}
