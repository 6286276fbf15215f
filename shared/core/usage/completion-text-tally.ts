import type { TokenEstimator } from '../../ports/token-estimator.js';

/** Default bound on completion text held for an estimate: 64 Ki UTF-16 characters. */
export const DEFAULT_MAX_ESTIMATE_TEXT_CHARS = 64 * 1024;

/**
 * Accumulates the completion text a response streams, for a token estimate if the backend never reports
 * usage. Bounded: when the held text passes `maxChars`, it is counted with the estimator and released, so a
 * long stream costs at most `maxChars` characters of memory. A stream's pieces are a token each (a few
 * characters, each its own string: ~30 bytes of heap for ~5 of text), so every {@link PACKED_PIECES} pieces are
 * joined into one string: the held text costs about a byte a character, and the estimator still counts the same
 * text in the same batches.
 */
export class CompletionTextTally {
  /** Joined runs of {@link PACKED_PIECES} pieces, in order. */
  private packed: string[] = [];
  /** The pieces since the last run was joined. */
  private pieces: string[] = [];
  private heldChars = 0;
  private countedTokens = 0;
  /** True once any completion text was seen. */
  sawText = false;

  constructor(
    private readonly estimator: TokenEstimator,
    private readonly model: string | undefined,
    private readonly maxChars: number = DEFAULT_MAX_ESTIMATE_TEXT_CHARS,
  ) {}

  /** Adds a piece of completion text. */
  add(text: string): void {
    this.sawText = true;
    this.pieces.push(text);
    this.heldChars += text.length;
    if (this.heldChars >= this.maxChars) this.drain();
    else if (this.pieces.length === PACKED_PIECES) {
      this.packed.push(this.pieces.join(''));
      this.pieces = [];
    }
  }

  /** The estimated completion tokens of all text added so far. */
  tokens(): number {
    this.drain();
    return this.countedTokens;
  }

  private drain(): void {
    if (this.pieces.length === 0 && this.packed.length === 0) return;
    const text = this.packed.length === 0 ? this.pieces.join('') : this.packed.join('') + this.pieces.join('');
    this.countedTokens += this.estimator.countText(text, this.model);
    this.packed = [];
    this.pieces = [];
    this.heldChars = 0;
  }
}

/** Pieces joined into one string at a time: few enough that a join is cheap, many enough that runs are few. */
const PACKED_PIECES = 64;
