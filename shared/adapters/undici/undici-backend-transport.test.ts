import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
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

/** A real HTTP backend whose answers are picked by path; it counts connections and requests. */
describe('the undici transport at the ends of an attempt', () => {
  let server: HttpServer;
  let origin: string;
  let transport: BackendTransport;
  let connections: Socket[];
  let requests: string[];

  beforeEach(async () => {
    connections = [];
    requests = [];
    server = createHttpServer((req, res) => {
      requests.push(req.url ?? '');
      req.resume();
      if (req.url === '/short') res.writeHead(200, { 'content-length': '10' }).end('0123456789');
      else if (req.url === '/long')
        res.writeHead(200).write(Buffer.alloc(100 * 1024)); // and stays open
      else if (req.url === '/stream') res.writeHead(200, { 'content-type': 'text/event-stream' }).write('data: 1\n\n');
      // '/hang': never answers
    });
    server.on('connection', (socket: Socket) => connections.push(socket));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    transport = createUndiciBackendTransport();
  });

  afterEach(async () => {
    await transport.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  function send(path: string, signal = new AbortController().signal): ReturnType<BackendTransport['send']> {
    return transport.send({
      backendId: 'a',
      origin,
      path,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: new TextEncoder().encode('{}'),
      signal,
      firstByteTimeoutMs: 5_000,
      connectTimeoutMs: 5_000,
      idleTimeoutMs: 5_000,
    });
  }

  const closed = (socket: Socket): Promise<unknown> =>
    socket.destroyed ? Promise.resolve() : new Promise((resolve) => socket.once('close', resolve));

  it('reads a discarded short answer to its end and reuses its connection', async () => {
    await (await send('/short')).dump();
    // undici waits one full turn of the event loop before it reuses a socket (client-h1's onMessageComplete).
    for (let turn = 0; turn < 2; turn++) await new Promise((resolve) => setImmediate(resolve));
    const again = await send('/short');
    let text = '';
    for await (const chunk of again.body) text += Buffer.from(chunk).toString();
    expect(text).toBe('0123456789');
    expect(requests).toEqual(['/short', '/short']);
    expect(connections).toHaveLength(1);
  });

  it('cuts the connection of a discarded answer longer than 64 KiB', async () => {
    await (await send('/long')).dump();
    await closed(connections[0]!);
    await (await send('/short')).dump();
    expect(connections).toHaveLength(2);
  });

  it('closes the connection when the reader stops before the end', async () => {
    const response = await send('/stream');
    const body = response.body[Symbol.asyncIterator]();
    expect(Buffer.from((await body.next()).value as Uint8Array).toString()).toBe('data: 1\n\n');
    await body.return?.();
    await closed(connections[0]!);
    expect((await body.next()).done).toBe(true);
  });

  it('rejects an attempt aborted before its answer as aborted', async () => {
    const caller = new AbortController();
    const sent = send('/hang', caller.signal).catch((error: unknown) => error);
    while (requests.length === 0) await new Promise((resolve) => setImmediate(resolve));
    caller.abort();
    expect(await sent).toMatchObject({ name: 'TransportError', kind: 'aborted' });
    await closed(connections[0]!);
  });

  it('fails the body of an attempt aborted mid-answer with the abort, classified as aborted', async () => {
    const caller = new AbortController();
    const response = await send('/stream', caller.signal);
    const body = response.body[Symbol.asyncIterator]();
    await body.next();
    const read = body.next().catch((error: unknown) => error);
    caller.abort();
    const failure = await read;
    expect(failure).toBe(caller.signal.reason);
    expect(response.errorKind(failure)).toBe('aborted');
    await closed(connections[0]!);
  });

  it('never sends an attempt whose signal is already aborted', async () => {
    const caller = new AbortController();
    caller.abort();
    await expect(send('/short', caller.signal)).rejects.toMatchObject({ kind: 'aborted' });
    expect(requests).toEqual([]);
  });
});
