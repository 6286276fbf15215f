import type { AnswerPiece } from './chat-chunk.js';

/** One stretch of the delivered answer on one channel (consecutive pieces of a channel merged). */
interface Segment {
  readonly channel: string;
  text: string;
}

/**
 * The answer the caller has received so far, as ordered segments by channel. Bounded by what the caller
 * received (the call's own answer): it is what a replay must reproduce and a prefill must carry.
 *
 * @example
 * const delivered = new DeliveredAnswer();
 * delivered.add([{ channel: 'content', text: 'Hello' }]);
 * delivered.contentOnly; // → true
 */
export class DeliveredAnswer {
  private readonly segments: Segment[] = [];
  private chars = 0;

  /** Records pieces that reached the caller. */
  add(pieces: readonly AnswerPiece[]): void {
    for (const piece of pieces) {
      const last = this.segments.at(-1);
      if (last !== undefined && last.channel === piece.channel) last.text += piece.text;
      else this.segments.push({ channel: piece.channel, text: piece.text });
      this.chars += piece.text.length;
    }
  }

  /** Characters delivered, all channels. */
  get length(): number {
    return this.chars;
  }

  /** True when everything delivered is `content` text (what a prefill can carry). */
  get contentOnly(): boolean {
    return this.segments.every((s) => s.channel === 'content');
  }

  /** The delivered `content` text. */
  get content(): string {
    return this.segments
      .filter((s) => s.channel === 'content')
      .map((s) => s.text)
      .join('');
  }

  /** The segments, read-only, for a {@link ReplayMatcher}. */
  view(): readonly { readonly channel: string; readonly text: string }[] {
    return this.segments;
  }
}

/** What a splice does with one chunk's pieces from the recovering attempt. */
export type SpliceStep =
  | { readonly diverged: true }
  | {
      readonly diverged: false;
      /** True once everything the caller has is covered: later pieces are new. */
      readonly covered: boolean;
      /** The pieces the caller does not have yet (possibly trimmed). */
      readonly pieces: readonly AnswerPiece[];
      /** True when `pieces` are the chunk's own pieces, untrimmed (the chunk can go out as it is). */
      readonly whole: boolean;
    };

/** Joins a recovering attempt's answer to what the caller has. */
export interface Splice {
  accept(pieces: readonly AnswerPiece[]): SpliceStep;
}

/**
 * Replay: the recovering backend answers from the start. Its pieces are held back (nothing is returned)
 * while they reproduce what the caller has, channel by channel in the same order; the first piece that
 * differs is a divergence (the stream then ends with the terminal error event — never a mix of two
 * answers). Once covered, only what follows goes out.
 *
 * @example
 * const replay = new ReplayMatcher(delivered); // delivered: "Hello"
 * replay.accept([{ channel: 'content', text: 'Hel' }]); // → held (covered: false, pieces: [])
 * replay.accept([{ channel: 'content', text: 'lo there' }]); // → covered, pieces: [' there']
 */
export class ReplayMatcher implements Splice {
  private readonly segments: readonly { readonly channel: string; readonly text: string }[];
  private index = 0;
  private offset = 0;

  constructor(delivered: DeliveredAnswer) {
    this.segments = delivered.view();
  }

  get covered(): boolean {
    const last = this.segments.length - 1;
    return last < 0 || (this.index === last && this.offset === this.segments[last]!.text.length);
  }

  accept(pieces: readonly AnswerPiece[]): SpliceStep {
    const out: AnswerPiece[] = [];
    let whole = true;
    for (const piece of pieces) {
      if (this.covered) {
        out.push(piece);
        continue;
      }
      let segment = this.segments[this.index]!;
      if (piece.channel !== segment.channel) {
        const next = this.segments[this.index + 1];
        if (this.offset !== segment.text.length || next?.channel !== piece.channel) return { diverged: true };
        this.index++;
        this.offset = 0;
        segment = next;
      }
      const want = segment.text.length - this.offset;
      const n = Math.min(want, piece.text.length);
      if (piece.text.slice(0, n) !== segment.text.slice(this.offset, this.offset + n)) return { diverged: true };
      this.offset += n;
      whole = false;
      if (n < piece.text.length) {
        // The original switched channel (or ended) here: more text on this channel is another answer.
        if (this.index !== this.segments.length - 1) return { diverged: true };
        out.push({ channel: piece.channel, text: piece.text.slice(n) });
      }
    }
    return { diverged: false, covered: this.covered, pieces: out, whole };
  }
}

/**
 * Continue: the recovering backend continues an assistant prefill of the delivered text, so everything it
 * sends is new — except blanks the prefill had to drop (a prefill may not end in whitespace): the
 * continuation's opening blanks that repeat them are removed, so no blank is doubled.
 *
 * @example
 * const join = new ContinuationJoiner(' '); // the caller has "Hello " and the prefill was "Hello"
 * join.accept([{ channel: 'content', text: ' world' }]); // → pieces: ['world']
 */
export class ContinuationJoiner implements Splice {
  constructor(private trimmed: string) {}

  accept(pieces: readonly AnswerPiece[]): SpliceStep {
    const out: AnswerPiece[] = [];
    let whole = true;
    for (const piece of pieces) {
      if (this.trimmed === '' || piece.channel !== 'content') {
        out.push(piece);
        continue;
      }
      let k = 0;
      while (k < piece.text.length && k < this.trimmed.length && piece.text[k] === this.trimmed[k]) k++;
      this.trimmed = k === piece.text.length ? this.trimmed.slice(k) : '';
      if (k > 0) whole = false;
      if (k < piece.text.length) out.push({ channel: piece.channel, text: piece.text.slice(k) });
    }
    return { diverged: false, covered: true, pieces: out, whole };
  }
}
