import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BackendTransport } from '../../ports/backend-transport.js';
import { createUndiciBackendTransport } from './undici-backend-transport.js';

const IDLE_MS = 200;
const HEAD = 'HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n';

/** One HTTP/1.1 chunk of the chunked body. */
function chunk(text: string): string {
  return `${Buffer.byteLength(text).toString(16)}\r\n${text}\r\n`;
}

/** Blocks this thread (the whole process: gateway and backend alike), as a CPU-starved machine does. */
function starve(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * A backend that answers a stream's headers and first event at once, and hands the test the socket to write the
 * rest when it wants — a raw TCP server, so the bytes on the wire are exactly the test's.
 */
describe('the undici transport', () => {
  let server: Server;
  let origin: string;
  let socket: Promise<Socket>;
  let transport: BackendTransport;

  beforeEach(async () => {
    let accepted!: (s: Socket) => void;
    socket = new Promise((resolve) => (accepted = resolve));
    server = createServer((s) => {
      s.once('data', () => {
        s.write(HEAD + chunk('data: {"n":1}\n\n'));
        accepted(s);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    transport = createUndiciBackendTransport();
  });

  afterEach(async () => {
    await transport.close();
    (await socket).destroy();
    await new Promise((resolve) => server.close(resolve));
  });

  function send(): ReturnType<BackendTransport['send']> {
    return transport.send({
      backendId: 'a',
      origin,
      path: '/v1/chat/completions',
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: new TextEncoder().encode('{}'),
      signal: new AbortController().signal,
      firstByteTimeoutMs: 5_000,
      connectTimeoutMs: 5_000,
      idleTimeoutMs: IDLE_MS,
    });
  }

  // undici's own bodyTimeout (= the idle deadline) stays as the transport's bound on a body nobody watches (an error
  // body, a dump); the engine's IdleWatchdog judges relayed streams. Suspected of the slow-reader stall (ADR 0048),
  // it is not: undici skips the deadline while its parser is paused for backpressure, and its coarse timer needs
  // two ticks with no byte, so a starved turn does not trip it either. These pin both.
  it('does not count the time the reader leaves a full buffer unread (paused for backpressure)', async () => {
    const response = await send();
    const body = response.body[Symbol.asyncIterator]();
    let received = (await body.next()).value!.byteLength;
    const event = `data: {"text":"${'x'.repeat(200)}"}\n\n`;
    const backlog = event.repeat(5_000); // ~1 MB: far more than undici's body buffer
    (await socket).write(chunk(backlog));
    // The reader's own pace: it takes nothing for many idle deadlines while the backlog waits.
    await new Promise((resolve) => setTimeout(resolve, 8 * IDLE_MS));
    (await socket).end(chunk('data: [DONE]\n\n') + '0\r\n\r\n');
    for (let next = await body.next(); next.done !== true; next = await body.next()) received += next.value.byteLength;
    expect(received).toBe(Buffer.byteLength('data: {"n":1}\n\n' + backlog + 'data: [DONE]\n\n'));
  });

  it('does not cut a body as idle when an event already in the socket waits out a starved process', async () => {
    const response = await send();
    const body = response.body[Symbol.asyncIterator]();
    const decoder = new TextDecoder();
    expect(decoder.decode((await body.next()).value)).toBe('data: {"n":1}\n\n');
    const next = body.next();
    // Write the next event, then starve the process past the idle deadline before it can read it (timers run
    // before I/O in an event loop turn: a timer that judged the gap alone would fire first).
    await new Promise((resolve) => setImmediate(resolve));
    (await socket).write(chunk('data: {"n":2}\n\n'));
    starve(3 * IDLE_MS);
    const read = await next.catch((error: unknown) => error);
    expect(read).toEqual({ done: false, value: expect.any(Uint8Array) });
    expect(decoder.decode((read as IteratorResult<Uint8Array>).value as Uint8Array)).toBe('data: {"n":2}\n\n');
    (await socket).end(chunk('data: [DONE]\n\n') + '0\r\n\r\n');
    expect(decoder.decode((await body.next()).value)).toBe('data: [DONE]\n\n');
    expect((await body.next()).done).toBe(true);
  });

  it('cuts a body whose backend stays silent past the deadline while the reader waits', async () => {
    const response = await send();
    const body = response.body[Symbol.asyncIterator]();
    await body.next();
    const failed = await body.next().catch((error: unknown) => error);
    expect(response.errorKind(failed)).toBe('idle-timeout');
  });
});
