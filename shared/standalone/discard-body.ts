import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * The rest of a body of declared length is read and dropped up to this size, so that a caller refused mid-upload
 * (401, 413 by a body budget, 429 with `retry-after`) reads a clean answer: closing a socket the caller still
 * writes to resets it, and a client that writes its whole body before reading then loses the answer (RFC 9112
 * §9.6). Above the largest body the gateway takes by default (80 MiB), so any declared upload it could have
 * accepted is drained.
 */
const DECLARED_DISCARD_BYTES = 128 * 1024 * 1024;
const DECLARED_DISCARD_MS = 60_000;

/**
 * A body of unknown length (chunked) or one declared past {@link DECLARED_DISCARD_BYTES} is read and dropped up to
 * this much, then the connection is closed: a caller sending without end would otherwise hold the socket and the
 * parser's CPU for good (node:http's `requestTimeout` fires once and only half-closes, and every chunk parsed
 * refreshes its keep-alive timer).
 */
const DISCARD_BYTES = 1024 * 1024;
const DISCARD_MS = 10_000;

/**
 * Reads and drops the rest of a request body nobody will read — the engine stopped before its end, answered
 * without it, or the host refused the request — within the bounds above; past them the connection is closed, once
 * the answer has gone out (an answer still being written is not cut: the caller's body is paused until it ends).
 * node:http's own handling of an unread body ("dump" after the answer) has no bound: it reads to the end, or (seen
 * in a test) leaves the connection stalled for good.
 * `received`: the body's bytes already taken off the socket.
 */
export function discardBody(req: IncomingMessage, res: ServerResponse, received: number): void {
  if (req.complete || req.destroyed) return;
  const declared = Number(req.headers['content-length'] ?? NaN) - received;
  const drained = declared >= 0 && declared <= DECLARED_DISCARD_BYTES;
  let left = drained ? declared : DISCARD_BYTES;
  const socket = req.socket;
  const stop = (): void => {
    clearTimeout(timer);
    req.off('data', count);
    socket.off('close', stop);
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
  const timer = setTimeout(cut, drained ? DECLARED_DISCARD_MS : DISCARD_MS);
  timer.unref();
  req.on('data', count);
  req.once('end', stop);
  req.once('close', stop);
  socket.once('close', stop);
  req.resume();
}
