import { createHash, randomBytes } from 'node:crypto';
import { Agent, request as httpRequest, type ClientRequest, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { Gateway } from '../core/gateway.js';
import { AnswerHeaders } from '../core/http/answer-headers.js';
import type { GatewayRequest, GatewayResponse } from '../core/http/gateway-request.js';
import { startNodeHost, type NodeHost } from './node-host.js';
import { bodyText, onePiece } from '../../test/support/host-answers.js';

/** What the engine saw of the caller's body: the size of each piece `next` handed over, and how the read ended. */
interface Seen {
  readonly pieces: number[];
  sha256?: string;
  error?: unknown;
}

/**
 * An engine that only reads the request body, at its own pace (`beforeRead(n)` is awaited before the n-th `next`),
 * tells `ended` how the read went, and answers 200.
 */
function reader(ended: (seen: Seen) => void, beforeRead: (n: number) => Promise<void> = async () => undefined) {
  const gateway = {
    async handle(request: GatewayRequest): Promise<GatewayResponse> {
      const seen: Seen = { pieces: [] };
      const hash = createHash('sha256');
      try {
        const iterator = request.body![Symbol.asyncIterator]();
        for (;;) {
          await beforeRead(seen.pieces.length);
          const next = await iterator.next();
          if (next.done === true) break;
          seen.pieces.push(next.value.byteLength);
          hash.update(next.value);
        }
        seen.sha256 = hash.digest('hex');
      } catch (error) {
        seen.error = error;
      }
      ended(seen);
      return { status: 200, headers: new AnswerHeaders({ 'content-length': '2' }), body: onePiece('ok') };
    },
  };
  return gateway as unknown as Gateway;
}

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

describe("the standalone host reading the caller's body", () => {
  let host: NodeHost | undefined;
  const afterAgents: Agent[] = [];
  afterEach(async () => {
    for (const agent of afterAgents.splice(0)) agent.destroy();
    await host?.close();
    host = undefined;
  });

  function post(headers: Record<string, string>): ClientRequest {
    const { port } = host!.server.address() as AddressInfo;
    return httpRequest({ host: '127.0.0.1', port, method: 'POST', path: '/v1/chat/completions', headers });
  }

  const answered = (req: ClientRequest): Promise<IncomingMessage> =>
    new Promise((resolve, reject) => req.on('response', resolve).on('error', reject));

  it('hands a small body that arrived with its headers over whole, in one piece', async () => {
    const read = deferred<Seen>();
    host = await startNodeHost(reader(read.resolve));
    const body = Buffer.from(JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }));
    const req = post({ 'content-type': 'application/json', 'content-length': String(body.byteLength) });
    req.end(body);
    expect((await answered(req)).statusCode).toBe(200);
    expect(await read.promise).toEqual({ pieces: [body.byteLength], sha256: sha256(body) });
  });

  it('reads an empty body as no piece at all', async () => {
    const read = deferred<Seen>();
    host = await startNodeHost(reader(read.resolve));
    const req = post({ 'content-length': '0' });
    req.end();
    expect((await answered(req)).statusCode).toBe(200);
    expect(await read.promise).toEqual({ pieces: [], sha256: sha256(new Uint8Array(0)) });
  });

  it('passes on a chunked body sent in pieces, byte for byte', async () => {
    const read = deferred<Seen>();
    const firstTaken = deferred();
    host = await startNodeHost(reader(read.resolve, async (n) => void (n === 1 && firstTaken.resolve())));
    const parts = [randomBytes(1000), randomBytes(300_000), randomBytes(7)];
    const req = post({ 'content-type': 'application/octet-stream', 'transfer-encoding': 'chunked' });
    const response = answered(req);
    req.write(parts[0]);
    await firstTaken.promise; // the engine holds the first piece before the rest is sent
    req.end(Buffer.concat([parts[1]!, parts[2]!]));
    expect((await response).statusCode).toBe(200);
    const seen = await read.promise;
    expect(seen.error).toBeUndefined();
    expect(seen.pieces[0]).toBe(1000);
    expect(seen.sha256).toBe(sha256(Buffer.concat(parts)));
  });

  it('pauses the caller while the engine does not read, and loses nothing', async () => {
    const read = deferred<Seen>();
    const goOn = deferred();
    host = await startNodeHost(reader(read.resolve, (n) => (n === 1 ? goOn.promise : Promise.resolve())));
    const paused = deferred<number>();
    let pausedSocket: IncomingMessage['socket'] | undefined;
    host.server.once('request', (req: IncomingMessage) =>
      req.once('pause', () => {
        pausedSocket = req.socket;
        paused.resolve(req.socket.bytesRead);
      }),
    );
    const body = randomBytes(8 * 1024 * 1024);
    const req = post({ 'content-type': 'application/octet-stream', 'content-length': String(body.byteLength) });
    const response = answered(req);
    req.end(body);
    // The host stopped taking bytes from the socket long before the 8 MiB were in, and took none while paused
    // (the caller kept sending: a quarter second is long enough for megabytes over loopback).
    expect(await paused.promise).toBeLessThan(1024 * 1024);
    await new Promise((resolve) => setTimeout(resolve, 250));
    expect(pausedSocket!.bytesRead).toBeLessThan(1024 * 1024);
    goOn.resolve();
    expect((await response).statusCode).toBe(200);
    const seen = await read.promise;
    expect(seen.sha256).toBe(sha256(body));
  });

  it("fails the engine's read when the caller goes away mid-body", async () => {
    const read = deferred<Seen>();
    const firstTaken = deferred();
    host = await startNodeHost(reader(read.resolve, async (n) => void (n === 1 && firstTaken.resolve())));
    const req = post({ 'content-type': 'application/octet-stream', 'content-length': '100000' });
    req.on('error', () => undefined);
    req.write(randomBytes(1000));
    await firstTaken.promise;
    req.destroy();
    const seen = await read.promise;
    expect(seen.sha256).toBeUndefined();
    expect(seen.error).toBeInstanceOf(Error);
  });

  /** An engine that takes one piece of the body, waits for `before`, then stops reading (as readBody does past its
   * limit) and answers 413. */
  function stoppingAfterOnePiece(before: Promise<void> = Promise.resolve()): Gateway {
    const engine = {
      async handle(request: GatewayRequest): Promise<GatewayResponse> {
        const iterator = request.body![Symbol.asyncIterator]();
        await iterator.next();
        await before;
        await iterator.return?.();
        return { status: 413, headers: new AnswerHeaders({ 'content-length': '9' }), body: onePiece('too large') };
      },
    };
    return engine as unknown as Gateway;
  }

  /** Sends on one kept-alive connection at most, and counts the connections the host accepted. */
  function keptAlive(): { send: (headers: Record<string, string>) => ClientRequest; connections: () => number } {
    let connections = 0;
    host!.server.on('connection', () => (connections += 1));
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    afterAgents.push(agent);
    const { port } = host!.server.address() as AddressInfo;
    const send = (headers: Record<string, string>): ClientRequest =>
      httpRequest({ host: '127.0.0.1', port, method: 'POST', path: '/v1/chat/completions', headers, agent });
    return { send, connections: () => connections };
  }

  it('answers the engine when it stops before the end (413 past the limit), and keeps the connection', async () => {
    host = await startNodeHost(stoppingAfterOnePiece());
    const { send, connections } = keptAlive();
    const big = send({ 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    const bigAnswer = answered(big);
    big.write(randomBytes(100_000));
    const response = await bigAnswer;
    expect(response.statusCode).toBe(413);
    expect(await bodyText(response)).toBe('too large');
    big.end(randomBytes(100_000)); // the rest of the body still comes; it is read and discarded
    const next = send({ 'content-length': '2' });
    next.end('{}');
    const nextResponse = await answered(next);
    expect(nextResponse.statusCode).toBe(413);
    await bodyText(nextResponse);
    expect(connections()).toBe(1);
  });

  it('answers and keeps the connection when the engine stops while the caller is paused', async () => {
    const pausedNow = deferred();
    // More than 64 KiB waits unread while the engine waits: the host pauses the caller.
    host = await startNodeHost(stoppingAfterOnePiece(pausedNow.promise));
    host.server.once('request', (req: IncomingMessage) => req.once('pause', () => pausedNow.resolve()));
    const { send, connections } = keptAlive();
    const big = send({ 'content-type': 'application/json', 'content-length': String(400_000) });
    const bigAnswer = answered(big);
    big.end(randomBytes(400_000)); // the rest after the pause is resumed, read and discarded
    expect((await bigAnswer).statusCode).toBe(413);
    expect(await bodyText(await bigAnswer)).toBe('too large');
    const next = send({ 'content-length': '2' });
    next.end('{}');
    expect((await answered(next)).statusCode).toBe(413);
    expect(connections()).toBe(1);
  });
});
