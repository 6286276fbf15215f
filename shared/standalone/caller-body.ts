import type { IncomingMessage, ServerResponse } from 'node:http';
import { discardBody, type DrainLimit } from './discard-body.js';

/** Bytes held unread before the caller's socket is paused (Node's default high-water mark for bytes). */
const HIGH_WATER_BYTES = 64 * 1024;

const DONE: IteratorResult<Uint8Array> = Object.freeze({ value: undefined, done: true });

/**
 * The caller's request body as the engine reads it (an async iterable of bytes), without Node's stream async
 * iterator (an async generator, `finished()` listeners and a promise per wait, ~2–3 KB per call). Nothing is read
 * before the engine asks (it refuses an oversized declared length, or a body its buffer budget cannot take,
 * before reading). Then:
 * - a body node:http has already received whole — a small request arrives with its headers — is taken in one
 *   `read()` and handed over as one piece, with no listener at all;
 * - otherwise `data`/`end`/`error`/`close` listeners feed it: each `next` takes everything received since the last,
 *   joined, and past 64 KiB unread the socket is paused until the engine takes them;
 * - a caller that goes away mid-body fails the read (Node's `aborted` error, or a premature close);
 * - stopping before the end (a 413 past the limit) lets the rest be read and discarded, so the answer goes out.
 * One reader, one `next` at a time.
 */
export class CallerBody implements AsyncIterable<Uint8Array>, AsyncIterator<Uint8Array> {
  private started = false;
  private chunks: Buffer[] = [];
  private bufferedBytes = 0;
  private ended = false;
  private failure: unknown = undefined;
  private paused = false;
  private resolveNext: ((result: IteratorResult<Uint8Array>) => void) | undefined = undefined;
  private rejectNext: ((error: unknown) => void) | undefined = undefined;
  /** Bytes taken off the socket so far: what is left of a declared length is drained after a stop. */
  private received = 0;

  constructor(
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse,
    private readonly drain: DrainLimit,
  ) {}

  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    return this;
  }

  next(): Promise<IteratorResult<Uint8Array>> {
    if (!this.started) return this.start();
    if (this.bufferedBytes > 0) return Promise.resolve({ value: this.take(), done: false });
    if (this.failure !== undefined) {
      const failure = this.failure;
      this.failure = undefined;
      this.ended = true;
      return Promise.reject(failure);
    }
    if (this.ended) return Promise.resolve(DONE);
    if (this.resolveNext !== undefined) return Promise.reject(new Error('A request body is read by one reader.'));
    return new Promise((resolve, reject) => {
      this.resolveNext = resolve;
      this.rejectNext = reject;
    });
  }

  /**
   * The engine stops before the end (a 413 past the limit, a 429 past a job's bound): what is unread is dropped and
   * the rest of the body is read off the socket and discarded, so the engine's answer reaches the caller and the
   * connection stays usable, within discard-body.ts's bounds (past them the connection is closed).
   */
  return(): Promise<IteratorResult<Uint8Array>> {
    const reading = this.started && !this.ended;
    this.ended = true;
    this.chunks = [];
    this.bufferedBytes = 0;
    if (reading) {
      this.req.off('data', this.onData);
      this.paused = false;
      discardBody(this.req, this.res, this.received, this.drain);
    }
    return Promise.resolve(DONE);
  }

  /**
   * Called by the host once the engine has answered: a body the engine never asked for (refused by its declared
   * length, or an answer that needed none) is discarded within the same bounds as one it stopped reading — left
   * alone, node:http would read it off the socket without end once the answer is written.
   */
  releaseUnread(): void {
    if (this.started) return;
    this.started = this.ended = true;
    // A first read after the answer would otherwise see an empty body: it fails instead (no path reads so today).
    this.failure = new Error('The request body was released unread.');
    discardBody(this.req, this.res, 0, this.drain);
  }

  private start(): Promise<IteratorResult<Uint8Array>> {
    this.started = true;
    if (this.req.complete || this.req.destroyed) return this.whole();
    // The engine may ask while node:http is still in the read that brought the headers (the request event comes
    // from inside its parser); a body in that read is parsed before the microtasks run, so look again then.
    return Promise.resolve().then(() => (this.req.complete || this.req.destroyed ? this.whole() : this.listen()));
  }

  /** Received whole already: what node:http holds, in one `read()` (null for an empty body). */
  private whole(): Promise<IteratorResult<Uint8Array>> {
    this.ended = true;
    if (this.req.destroyed) return Promise.reject(prematureClose()); // the caller went away
    const whole = this.req.read() as Buffer | null;
    return Promise.resolve(whole === null || whole.byteLength === 0 ? DONE : { value: whole, done: false });
  }

  private listen(): Promise<IteratorResult<Uint8Array>> {
    const req = this.req;
    req.on('data', this.onData);
    req.on('end', () => this.onEnd());
    req.on('error', (error: Error) => this.onError(error));
    // Every request closes; only one that closes before its end fails the read (an Error costs its stack).
    req.on('close', () => {
      if (!this.ended && this.failure === undefined) this.onError(prematureClose());
    });
    return this.next();
  }

  private readonly onData = (chunk: Buffer): void => {
    if (this.ended) return;
    this.received += chunk.byteLength;
    this.chunks.push(chunk);
    this.bufferedBytes += chunk.byteLength;
    const resolve = this.resolveNext;
    if (resolve !== undefined) {
      this.resolveNext = this.rejectNext = undefined;
      resolve({ value: this.take(), done: false });
    } else if (this.bufferedBytes >= HIGH_WATER_BYTES && !this.paused) {
      this.paused = true;
      this.req.pause();
    }
  };

  private onEnd(): void {
    if (this.ended || this.failure !== undefined) return;
    this.ended = true;
    if (this.bufferedBytes === 0) this.settle(DONE);
  }

  /** The first of an error and a close without the end counts; bytes not yet taken are dropped. */
  private onError(error: unknown): void {
    if (this.ended || this.failure !== undefined) return;
    this.chunks = [];
    this.bufferedBytes = 0;
    const reject = this.rejectNext;
    if (reject === undefined) {
      this.failure = error;
      return;
    }
    this.resolveNext = this.rejectNext = undefined;
    this.ended = true;
    reject(error);
  }

  private take(): Buffer {
    const chunks = this.chunks;
    const value = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, this.bufferedBytes);
    this.chunks = [];
    this.bufferedBytes = 0;
    if (this.paused) {
      this.paused = false;
      this.req.resume();
    }
    return value;
  }

  private settle(result: IteratorResult<Uint8Array>): void {
    const resolve = this.resolveNext;
    this.resolveNext = this.rejectNext = undefined;
    resolve?.(result);
  }
}

function prematureClose(): Error {
  return Object.assign(new Error('The caller closed the connection before its request body ended.'), {
    code: 'ERR_STREAM_PREMATURE_CLOSE',
  });
}
