import { Buffer } from 'node:buffer';
import { ByteNeedle } from '../usage/byte-needle.js';
import { bufferView } from '../usage/json-scan.js';
import { DeliveredAnswer } from './answer-splice.js';
import { readChatEvent, type ChatChunk, type ChunkIdentity } from './chat-chunk.js';
import { KeptReads } from '../kept-reads.js';
import { SseEventReader } from './sse-event-reader.js';

/**
 * Bytes kept of the events held unparsed ({@link KeptReads}: a chat stream's read of one event keeps ~10 bytes, a
 * read of many events itself): past this they are parsed into the state at once, so a healthy stream keeps at most
 * this much beyond what the answer itself takes.
 */
export const MAX_PENDING_BYTES = 128 * 1024;

/**
 * Bytes of events, as they went out, held unparsed: past this they are parsed too, however little they take
 * stored (a stream repeating one token keeps ~4 bytes a read). It bounds the work one cut or error event can
 * ask for at once (~5,000 chat events) and the bytes a settle rebuilds.
 */
export const MAX_PENDING_READ_BYTES = 1024 * 1024;

/**
 * The first attempt as the caller received it: what a recovery needs (the delivered answer, the identity, the
 * role, whether the stream can still be recovered). The events are read lazily — a healthy stream is never
 * cut, so their bytes are only kept (up to {@link MAX_PENDING_BYTES} stored, {@link MAX_PENDING_READ_BYTES} as
 * they went out), and split and parsed when a cut or an error event needs what they say, or when the bound is
 * reached. Only a read that may hold the backend's error event is read on arrival: the caller must not get that
 * event when the stream is recovered.
 * Once the stream cannot be recovered (a finish, another choice, non-text content), nothing more is kept.
 */
export class FirstAttemptState {
  private readonly answer = new DeliveredAnswer();
  private firstIdentity: ChunkIdentity | undefined;
  private role = false;
  private contentCount = 0;
  private finished = false;
  private eligible = true;
  /** The events held unparsed, as the caller got them, read by read (each stored as its difference). */
  private pending = new KeptReads();
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

  /** Bytes held unparsed, and payloads parsed so far. */
  get held(): { readonly bytes: number; readonly parsed: number } {
    return { bytes: this.pending.bytes, parsed: this.parsedCount };
  }

  /**
   * Notes whole events going to the caller (`events`: the bytes of one or more, as {@link SseEventFramer} gives
   * them). Returns how many of those bytes go out: all of them, or those before the backend's own error event
   * (withheld while the stream is recoverable, with what follows it).
   */
  take(events: Uint8Array): number {
    if (this.settled) return events.length;
    if (mayBeError(events)) {
      this.settle();
      return this.takeEach(events);
    }
    this.pending.add(events);
    if (this.pending.bytes > MAX_PENDING_BYTES || this.pending.readBytes > MAX_PENDING_READ_BYTES) this.settle();
    return events.length;
  }

  /** Reads the events one by one, now: the offset of the error event, or all their length. */
  private takeEach(events: Uint8Array): number {
    let offset = 0;
    for (const event of new SseEventReader().push(events)) {
      if (event.data !== undefined && !this.settled && this.takeNow(event.data) === 'error') return offset;
      offset += event.raw.length;
    }
    return events.length;
  }

  /** Nothing that arrives can make the stream recoverable again: no need to keep or parse it. */
  private get settled(): boolean {
    return !this.eligible || this.finished;
  }

  /** Parses the held payloads, in order, one read at a time (no list of every event held). */
  private settle(): void {
    if (this.pending.bytes === 0) return;
    const kept = this.pending;
    this.pending = new KeptReads(); // taken first: what the parse reads (`recoverable`) must not settle again
    const reader = new SseEventReader();
    kept.forEach((read) => {
      if (this.settled) return; // nothing more can matter: the rest is not decoded
      for (const event of reader.push(read)) {
        if (this.settled) return;
        if (event.data !== undefined) this.takeNow(event.data);
      }
    });
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
 * True unless the events surely hold no top-level `error` key ({@link readChatEvent}'s error event): their bytes
 * contain `"error"`, or an escape that could spell that key (`\u0065`, `\u0072`, `\u006f`). Searched on the
 * bytes (ASCII is the same in UTF-8): no decode.
 */
function mayBeError(events: Uint8Array): boolean {
  const view = bufferView(events);
  if (ERROR_KEY.indexIn(view) >= 0) return true;
  const escape = view.indexOf(ESCAPE);
  return escape >= 0 && ESCAPED_ERROR_LETTER.test(view.toString('latin1', escape));
}

/** Searched by `rror"`, not by its leading quote (byte-needle.ts). */
const ERROR_KEY = new ByteNeedle('"error"', 2);
const ESCAPE = Buffer.from('\\u', 'latin1');
const ESCAPED_ERROR_LETTER = /\\u00(?:65|72|6f)/i;
