import type { TiktokenBPE } from 'js-tiktoken/lite';
import { countMergedParts } from './byte-pair-merge.js';
import { RankTable } from './rank-table.js';

/**
 * Counts the tokens of a text with a byte-pair encoding, exactly as `js-tiktoken`'s `Tiktoken.encode(text, [],
 * [])` would (same split pattern, same merge order, special-token markers as plain text), holding only what
 * counting needs: a {@link RankTable} from a token's bytes to its rank. js-tiktoken's class also keeps a decode
 * table (a `Uint8Array` per token) and keys its map by the bytes written out in decimal ("104,101,108"); for
 * `o200k_base` that was ~65 MB of live heap and ~150 MB of RSS while it was built (ADR 0085).
 */
export class BpeCounter {
  private readonly table: RankTable;
  private readonly pattern: RegExp;
  private readonly encoder = new TextEncoder();
  /** The UTF-8 bytes of the piece being counted (grown for a longer piece, never shrunk). */
  private piece = new Uint8Array(1024);

  constructor(bpe: TiktokenBPE) {
    this.pattern = new RegExp(bpe.pat_str, 'gu');
    this.table = RankTable.fromRanksText(bpe.bpe_ranks);
  }

  /** The number of tokens `text` encodes to. */
  count(text: string): number {
    let tokens = 0;
    for (const match of text.matchAll(this.pattern)) {
      const length = this.encode(match[0]);
      const whole = this.table.rank(this.piece, 0, length) >= 0;
      tokens += whole ? 1 : countMergedParts(this.table, this.piece, length);
    }
    return tokens;
  }

  /** Writes `piece` as UTF-8 into {@link piece} (a lone surrogate as U+FFFD, as js-tiktoken); answers its length. */
  private encode(piece: string): number {
    if (this.piece.length < piece.length * 3) this.piece = new Uint8Array(piece.length * 3);
    return this.encoder.encodeInto(piece, this.piece).written;
  }
}
