import { errors } from './undici-parts.js';

/** What a body needs of the exchange under it: undici's dispatch controller, and word when it is settled. */
export interface BodyFlow {
  pause(): void;
  resume(): void;
  abort(reason: Error): void;
}

/** Told once when the body needs its exchange no more (read to its end, failed, closed early or dumped). */
export interface BodyOwner {
  bodySettled(): void;
}

/** Bytes held unread before the socket is paused: undici's own body stream holds as much (Node's default). */
const HIGH_WATER_BYTES = 64 * 1024;
/** A discarded body is read to its end (the socket is kept) up to this many bytes, else the socket is cut. */
const DUMP_LIMIT_BYTES = 64 * 1024;

const DONE: IteratorResult<Uint8Array> = Object.freeze({ value: undefined, done: true });

type State = 'open' | 'ended' | 'failed' | 'closed';

/**
 * A backend's response body as undici's dispatch handler receives it, read by the engine as an async iterable —
 * in place of undici's `BodyReadable` (a Node stream) and Node's stream iterator, with what they guarantee:
 * - each `next` takes every byte received since the last one, joined (as a stream's `read()` does), so a socket
 *   read of many small chunks is one step for the reader;
 * - past 64 KiB unread the socket is paused (undici's parser stops, and its body deadline with it) until the
 *   reader takes them;
 * - an error drops what is unread and is thrown by the next `next`, once; `return` before the end aborts the
 *   exchange (its socket is closed, as a destroyed stream's is);
 * - `dump` reads the rest to its end and discards it, at most 64 KiB, else cuts the socket.
 * One reader, one `next` at a time (every consumer of a backend body reads it so).
 */
export class ResponseBody implements AsyncIterable<Uint8Array>, AsyncIterator<Uint8Array> {
  private chunks: Buffer[] = [];
  private bufferedBytes = 0;
  private bytesRead = 0;
  private state: State = 'open';
  private failure: unknown = undefined;
  private paused = false;
  private flushQueued = false;
  private resolveNext: ((result: IteratorResult<Uint8Array>) => void) | undefined = undefined;
  private rejectNext: ((error: unknown) => void) | undefined = undefined;
  private dumped: (() => void) | undefined = undefined;
  private ownerTold = false;
  private readonly flushSoon = (): void => this.flush();

  constructor(
    private readonly flow: BodyFlow,
    private readonly owner: BodyOwner,
    private readonly declaredBytes: number,
  ) {}

  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    return this;
  }

  next(): Promise<IteratorResult<Uint8Array>> {
    if (this.bufferedBytes > 0) return Promise.resolve({ value: this.take(), done: false });
    if (this.resolveNext !== undefined) return Promise.reject(new Error('A backend body is read by one reader.'));
    if (this.state === 'open')
      return new Promise((resolve, reject) => {
        this.resolveNext = resolve;
        this.rejectNext = reject;
      });
    if (this.state === 'failed') {
      const failure = this.failure;
      this.close();
      return Promise.reject(failure);
    }
    this.close();
    return Promise.resolve(DONE);
  }

  /** The reader stops early: the unread bytes go, and an exchange not yet at its end is aborted. */
  return(): Promise<IteratorResult<Uint8Array>> {
    const open = this.state === 'open';
    this.close();
    if (open) this.flow.abort(new errors.RequestAbortedError());
    return Promise.resolve(DONE);
  }

  /** Reads the rest and discards it, so the connection is reused; a body longer than 64 KiB cuts it instead. */
  dump(): Promise<void> {
    if (this.state !== 'open') {
      this.close();
      return Promise.resolve();
    }
    this.drop();
    this.settleReader(DONE);
    if (this.declaredBytes > DUMP_LIMIT_BYTES || this.bytesRead > DUMP_LIMIT_BYTES) {
      this.close();
      this.flow.abort(new errors.RequestAbortedError());
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      this.dumped = resolve;
      this.resumeFlow();
    });
  }

  /** A chunk from the socket (undici's `onResponseData`). */
  push(chunk: Buffer): void {
    this.bytesRead += chunk.byteLength;
    if (this.dumped !== undefined) {
      if (this.bytesRead > DUMP_LIMIT_BYTES) {
        this.finishDump();
        this.flow.abort(new errors.RequestAbortedError());
      }
      return;
    }
    if (this.state !== 'open') return;
    this.chunks.push(chunk);
    this.bufferedBytes += chunk.byteLength;
    // The reader is handed everything this socket read brings: undici parses a whole read before the microtask.
    if (this.resolveNext !== undefined && !this.flushQueued) {
      this.flushQueued = true;
      queueMicrotask(this.flushSoon);
    }
    if (this.bufferedBytes >= HIGH_WATER_BYTES && !this.paused) {
      this.paused = true;
      this.flow.pause();
    }
  }

  /** The body's end (undici's `onResponseEnd`); what is unread stays readable. */
  end(): void {
    if (this.dumped !== undefined) return this.finishDump();
    if (this.state !== 'open') return;
    this.state = 'ended';
    if (this.bufferedBytes === 0 && this.resolveNext !== undefined) {
      this.close();
      this.settleReader(DONE);
    }
  }

  /** The exchange failed (a reset, the body deadline, an abort): unread bytes are dropped, the reader gets it. */
  fail(error: unknown): void {
    if (this.dumped !== undefined) return this.finishDump();
    if (this.state === 'failed' || this.state === 'closed') return;
    this.drop();
    const reject = this.rejectNext;
    if (reject !== undefined) {
      this.resolveNext = this.rejectNext = undefined;
      this.close();
      reject(error);
      return;
    }
    this.state = 'failed';
    this.failure = error;
    this.tellOwner();
  }

  private flush(): void {
    this.flushQueued = false;
    const resolve = this.resolveNext;
    if (resolve === undefined || this.bufferedBytes === 0) return;
    this.resolveNext = this.rejectNext = undefined;
    resolve({ value: this.take(), done: false });
  }

  private take(): Buffer {
    const chunks = this.chunks;
    const value = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, this.bufferedBytes);
    this.drop();
    this.resumeFlow();
    return value;
  }

  private drop(): void {
    if (this.chunks.length > 0) this.chunks = [];
    this.bufferedBytes = 0;
  }

  /** Last, after the state is updated: undici's resume parses what the socket holds at once (pushes re-enter). */
  private resumeFlow(): void {
    if (!this.paused) return;
    this.paused = false;
    this.flow.resume();
  }

  private settleReader(result: IteratorResult<Uint8Array>): void {
    const resolve = this.resolveNext;
    this.resolveNext = this.rejectNext = undefined;
    resolve?.(result);
  }

  private finishDump(): void {
    const dumped = this.dumped;
    this.dumped = undefined;
    this.close();
    dumped?.();
  }

  private close(): void {
    if (this.state === 'closed') return;
    this.drop();
    this.state = 'closed';
    this.failure = undefined;
    this.settleReader(DONE);
    this.tellOwner();
  }

  private tellOwner(): void {
    if (this.ownerTold) return;
    this.ownerTold = true;
    this.owner.bodySettled();
  }
}
