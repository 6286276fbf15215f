import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';

/**
 * What is left of a body of declared length is read and dropped up to this size — or the largest body the gateway
 * takes now (`limits.maxBodyBytes`), when larger — so that a caller refused mid-upload (401, 429 with
 * `retry-after`, 503 when the body budget is full) reads a clean answer: closing a socket the caller still writes
 * to resets it, and a client that writes its whole body before reading then loses the answer (RFC 9112 §9.6).
 */
export const DECLARED_DRAIN_BYTES = 128 * 1024 * 1024;
const DECLARED_DRAIN_MS = 60_000;

/**
 * A body of unknown length (chunked) or one declared past the drain limit is read and dropped up to this much,
 * then the connection is closed: a caller sending without end would otherwise hold the socket and the parser's CPU
 * for good (node:http's `requestTimeout` fires once and only half-closes, and every chunk parsed refreshes its
 * keep-alive timer).
 */
const DISCARD_BYTES = 1024 * 1024;
const DISCARD_MS = 10_000;

/** The largest declared rest that is drained rather than cut, read when a body is dropped (it follows reloads). */
export type DrainLimit = () => number;

/** Sockets draining a dropped body after its answer: a request timeout there closes them, it writes no 408. */
const draining = new WeakSet<Duplex>();

export function isDraining(socket: Duplex): boolean {
  return draining.has(socket);
}

/**
 * Reads and drops the rest of a request body nobody will read — the engine stopped before its end, answered
 * without it, or the host refused the request — within the bounds above; past them the connection is closed, once
 * the answer has gone out (an answer still being written is not cut: the caller's body is paused until it ends).
 * node:http's own handling of an unread body ("dump" after the answer) has no bound: it reads to the end, or (seen
 * in a test) leaves the connection stalled for good. `received`: the body's bytes already taken off the socket.
 * A request that says `connection: close` (or HTTP/1.0) is closed by node:http once its answer is out, drained or
 * not.
 */
export function discardBody(req: IncomingMessage, res: ServerResponse, received: number, drain: DrainLimit): void {
  if (req.destroyed) return;
  if (req.complete) return void req.resume(); // what is buffered goes; a request paused by its reader ends
  const declared = Number(req.headers['content-length'] ?? NaN) - received;
  const drained = declared >= 0 && declared <= drain();
  let left = drained ? declared : DISCARD_BYTES;
  const socket = req.socket;
  const stop = (): void => {
    clearTimeout(timer);
    req.off('data', count);
    socket.off('close', stop);
    draining.delete(socket);
  };
  const cut = (): void => {
    stop();
    if (res.writableFinished || res.destroyed) return void socket.destroy();
    req.pause();
    res.once('close', () => socket.destroy());
  };
  const count = (chunk: Buffer): void => {
    left -= chunk.byteLength;
    if (left < 0) cut();
  };
  const timer = setTimeout(cut, drained ? DECLARED_DRAIN_MS : DISCARD_MS);
  timer.unref();
  draining.add(socket);
  req.on('data', count);
  req.once('end', stop);
  req.once('close', stop);
  socket.once('close', stop);
  req.resume();
}
