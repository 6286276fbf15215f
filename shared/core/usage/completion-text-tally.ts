import type { TokenEstimator } from '../../ports/token-estimator.js';

/** Default bound on completion text held for an estimate: 64 Ki UTF-16 characters. */
export const DEFAULT_MAX_ESTIMATE_TEXT_CHARS = 64 * 1024;

/**
 * Accumulates the completion text a response streams, for a token estimate if the backend never reports
 * usage. Bounded: when the held text passes `maxChars`, it is counted with the estimator and released, so a
 * long stream costs at most `maxChars` characters of memory.
 */
export class CompletionTextTally {
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
  }

  /** The estimated completion tokens of all text added so far. */
  tokens(): number {
    this.drain();
    return this.countedTokens;
  }

  private drain(): void {
    if (this.pieces.length === 0) return;
    this.countedTokens += this.estimator.countText(this.pieces.join(''), this.model);
    this.pieces = [];
    this.heldChars = 0;
  }
}
