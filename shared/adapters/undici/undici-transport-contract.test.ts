import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getEventListeners } from 'node:events';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createUndiciBackendTransport } from './undici-backend-transport.js';
import { peekErrorBody } from '../../core/dispatch/error-answer.js';
import { TransportError, type BackendTransport } from '../../ports/backend-transport.js';

/**
 * The port's contract as the engine uses it, on a real socket: answers copied with a spread keep their methods,
 * an attempt aborted while it waits for a socket never leaves, no abort listener outlives its attempt, and what
 * the transport refuses rejects as a classified TransportError (review of 8da7e0d).
 */
describe('the undici transport, as the engine uses it', () => {
  let server: Server;
  let origin: string;
  let transport: BackendTransport;
  let releaseSlow!: () => void;

  beforeEach(async () => {
    const released = new Promise<void>((resolve) => (releaseSlow = resolve));
    server = createServer((req, res) => {
      req.resume();
      // Headers and a first piece at once, the rest when the test releases it.
      if (req.url === '/slow') {
        res.writeHead(200).write('a');
        void released.then(() => res.end('slow'));
      } else if (req.url === '/err') res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":{}}');
      else res.end('ok');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    transport = createUndiciBackendTransport({ connectionsPerBackend: 1 });
  });

  afterEach(async () => {
    releaseSlow();
    await transport.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  function send(path: string, signal = new AbortController().signal, method = 'GET') {
    return transport.send({
      backendId: 'a',
      origin,
      path,
      method,
      headers: {},
      body: null,
      signal,
      firstByteTimeoutMs: 5_000,
      connectTimeoutMs: 5_000,
      idleTimeoutMs: 5_000,
    });
  }

  async function readAll(path: string, signal: AbortSignal): Promise<void> {
    for await (const piece of (await send(path, signal)).body) void piece;
  }

  it('keeps dump and errorKind on an answer the engine copies with a spread', async () => {
    const { response } = await peekErrorBody(await send('/err'));
    expect(response.errorKind(new Error('x'))).toBe('other');
    await expect(response.dump()).resolves.toBeUndefined();
  });

  it('rejects as aborted an attempt aborted while it waits for the only socket, and leaves no listener', async () => {
    const first = send('/slow');
    const caller = new AbortController();
    const queued = send('/ok', caller.signal).then(
      () => 'answered',
      (error: TransportError) => error.kind,
    );
    caller.abort();
    releaseSlow();
    for await (const piece of (await first).body) void piece;
    await readAll('/ok', new AbortController().signal); // the socket is free again: the queue moved on
    expect(await queued).toBe('aborted');
    expect(getEventListeners(caller.signal, 'abort')).toHaveLength(0);
  });

  it('leaves no abort listener on a long-lived signal after reads, dumps and early returns', async () => {
    const caller = new AbortController();
    for (let i = 0; i < 3; i++) await readAll('/ok', caller.signal);
    for (let i = 0; i < 3; i++) await (await send('/ok', caller.signal)).dump();
    const slow = (await send('/slow', caller.signal)).body[Symbol.asyncIterator]();
    await slow.return?.();
    expect(getEventListeners(caller.signal, 'abort')).toHaveLength(0);
  });

  it('refuses CONNECT as a classified error instead of an upgrade nobody takes', async () => {
    const caller = new AbortController();
    await expect(send('/', caller.signal, 'CONNECT')).rejects.toMatchObject({ kind: 'other' });
    expect(getEventListeners(caller.signal, 'abort')).toHaveLength(0);
  });

  it('rejects an origin undici cannot pool as a TransportError, leaving no listener', async () => {
    const caller = new AbortController();
    const attempt = transport.send({
      backendId: 'b',
      origin: 'ftp://127.0.0.1:21',
      path: '/',
      method: 'GET',
      headers: {},
      body: null,
      signal: caller.signal,
      firstByteTimeoutMs: 5_000,
      connectTimeoutMs: 5_000,
      idleTimeoutMs: 5_000,
    });
    await expect(attempt).rejects.toBeInstanceOf(TransportError);
    expect(getEventListeners(caller.signal, 'abort')).toHaveLength(0);
  });

  it('opens as many connections at once as the backend may take calls, above its own default', async () => {
    const requests: Promise<unknown>[] = [];
    for (let i = 0; i < 3; i++) {
      requests.push(
        transport.send({
          backendId: 'a',
          origin,
          path: '/slow',
          method: 'GET',
          headers: {},
          body: null,
          signal: new AbortController().signal,
          firstByteTimeoutMs: 5_000,
          connectTimeoutMs: 5_000,
          idleTimeoutMs: 5_000,
          concurrency: 3, // the transport's own cap is 1 here: with it, the second and third would wait
        }),
      );
    }
    // Every answer's headers come while the first body is still held open: three sockets at once.
    const answers = (await Promise.all(requests)) as { dump(): Promise<void> }[];
    expect(answers).toHaveLength(3);
    releaseSlow();
    await Promise.all(answers.map((answer) => answer.dump()));
  });
});
