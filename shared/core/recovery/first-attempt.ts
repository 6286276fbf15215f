import { DeliveredAnswer } from './answer-splice.js';
import { readChatEvent, type ChatChunk, type ChunkIdentity } from './chat-chunk.js';

/**
 * Characters of `data:` payloads held unparsed (about 1,200 OpenAI chat chunks of ~210 characters): past this
 * they are parsed into the state at once, so a stream keeps at most this much beyond what the answer itself takes.
 */
export const MAX_PENDING_CHARS = 256 * 1024;

/**
 * The first attempt as the caller received it: what a recovery needs (the delivered answer, the identity, the
 * role, whether the stream can still be recovered). The payloads are parsed lazily — a healthy stream is never
 * cut, so its events are only kept (up to {@link MAX_PENDING_CHARS}) and parsed when a cut or an error event
 * needs what they say, or when the bound is reached. Only an event that may be the backend's error event is
 * parsed on arrival: the caller must not get it when the stream is recovered. Once the stream cannot be
 * recovered (a finish, another choice, non-text content), nothing more is kept.
 */
export class FirstAttemptState {
  private readonly answer = new DeliveredAnswer();
  private firstIdentity: ChunkIdentity | undefined;
  private role = false;
  private contentCount = 0;
  private finished = false;
  private eligible = true;
  private pending: string[] = [];
  private pendingChars = 0;
  /** Payloads parsed so far (for tests: the healthy path parses none). */
  private parsedCount = 0;

  /** True while the stream can still be recovered: one text choice seen, no finish yet. */
  get recoverable(): boolean {
    this.settle();
    return this.eligible && !this.finished && this.firstIdentity !== undefined;
  }

  /** The answer the caller has. */
  get delivered(): DeliveredAnswer {
    this.settle();
    return this.answer;
  }

  /** The first identity a chunk named (every spliced chunk carries it). */
  get identity(): ChunkIdentity | undefined {
    this.settle();
    return this.firstIdentity;
  }

  /** True when the caller got the chunk that opens the assistant's role. */
  get roleDelivered(): boolean {
    this.settle();
    return this.role;
  }

  /** Chunks that carried content (one token each in OpenAI-style streams): lowers a continuation's limit. */
  get contentChunks(): number {
    this.settle();
    return this.contentCount;
  }

  /** Payloads held unparsed, and payloads parsed so far. */
  get held(): { readonly chars: number; readonly parsed: number } {
    return { chars: this.pendingChars, parsed: this.parsedCount };
  }

  /** Notes an event going to the caller; `error` for the backend's own error event (not forwarded). */
  take(data: string | undefined): 'forward' | 'error' {
    if (data === undefined || this.settled) return 'forward';
    if (mayBeError(data)) {
      this.settle();
      return this.takeNow(data);
    }
    this.pending.push(data);
    this.pendingChars += data.length;
    if (this.pendingChars > MAX_PENDING_CHARS) this.settle();
    return 'forward';
  }

  /** Nothing that arrives can make the stream recoverable again: no need to keep or parse it. */
  private get settled(): boolean {
    return !this.eligible || this.finished;
  }

  /** Parses the held payloads, in order. */
  private settle(): void {
    if (this.pending.length === 0) return;
    const pending = this.pending;
    this.pending = [];
    this.pendingChars = 0;
    for (const data of pending) {
      if (this.settled) return;
      this.takeNow(data);
    }
  }

  private takeNow(data: string): 'forward' | 'error' {
    this.parsedCount++;
    const event = readChatEvent(data);
    if (event.kind === 'error') return this.recoverable ? 'error' : 'forward';
    if (event.kind === 'chunk') this.note(event);
    return 'forward';
  }

  private note(chunk: ChatChunk): void {
    this.firstIdentity ??= chunk.identity;
    if (chunk.otherChoices || chunk.nonText) this.eligible = false;
    this.answer.add(chunk.pieces);
    if (chunk.pieces.some((p) => p.channel === 'content')) this.contentCount++;
    this.role ||= chunk.opensRole;
    if (chunk.finishReason !== undefined) this.finished = true;
  }
}

/**
 * True unless the payload surely has no top-level `error` key ({@link readChatEvent}'s error event): it
 * contains `"error"`, or an escape that could spell that key (`\u0065`, `\u0072`, `\u006f`).
 */
function mayBeError(data: string): boolean {
  return data.includes('"error"') || (data.includes('\\u') && ESCAPED_ERROR_LETTER.test(data));
}

const ESCAPED_ERROR_LETTER = /\\u00(?:65|72|6f)/i;
