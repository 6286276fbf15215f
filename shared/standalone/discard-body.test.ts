import { randomBytes } from 'node:crypto';
import {
  Agent,
  createServer,
  request as httpRequest,
  type ClientRequest,
  type IncomingMessage,
  type Server,
} from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { Gateway } from '../core/gateway.js';
import { AnswerHeaders } from '../core/http/answer-headers.js';
import type { GatewayRequest, GatewayResponse } from '../core/http/gateway-request.js';
import { discardBody } from './discard-body.js';
import { startNodeHost, type NodeHost, type NodeHostOptions } from './node-host.js';
import { bodyText, onePiece } from '../../test/support/host-answers.js';

/** One listener pair per wait, both removed after (a `once` pair would leave the other behind every time). */
function drainedOrClosed(req: ClientRequest): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      req.off('drain', done).off('close', done);
      resolve();
    };
    req.on('drain', done).on('close', done);
  });
}

const answered = (req: ClientRequest): Promise<IncomingMessage> =>
  new Promise((resolve, reject) => req.on('response', resolve).on('error', reject));

describe('the standalone host dropping a body nobody reads', () => {
  let host: NodeHost | undefined;
  afterEach(async () => {
    await host?.close();
    host = undefined;
  });

  async function start(gateway: Gateway, options: NodeHostOptions = {}): Promise<number> {
    host = await startNodeHost(gateway, options);
    return (host.server.address() as AddressInfo).port;
  }

  function post(headers: Record<string, string>, agent?: Agent): ClientRequest {
    const { port } = host!.server.address() as AddressInfo;
    return httpRequest({ host: '127.0.0.1', port, method: 'POST', path: '/v1/chat/completions', headers, agent });
  }

  /** Counts the connections the host accepts: a kept connection serves the next call on the same one. */
  function countConnections(): () => number {
    let connections = 0;
    host!.server.on('connection', () => (connections += 1));
    return () => connections;
  }

  /** An engine that answers without asking for the body, as readBody does for a declared length over the limit. */
  const refusing = {
    async handle(): Promise<GatewayResponse> {
      return { status: 413, headers: new AnswerHeaders({ 'content-length': '9' }), body: onePiece('too large') };
    },
  } as unknown as Gateway;

  /** An engine that must not be asked: the host refuses the request before it. */
  const unreachable = {
    handle: (): never => {
      throw new Error('the host refuses this request before the engine');
    },
  } as unknown as Gateway;

  /** Sends `piece` after piece (64 MiB at most) until the host closes the connection; how much went out. */
  async function sendUntilClosed(req: ClientRequest): Promise<{ closedByHost: boolean; sent: number }> {
    const closed = new Promise<void>((resolve) => req.on('close', resolve).on('error', () => undefined));
    let sent = 0;
    let open = true;
    void closed.then(() => (open = false));
    const piece = randomBytes(64 * 1024);
    while (open && sent < 64 * 1024 * 1024) {
      if (!req.write(piece)) await drainedOrClosed(req);
      sent += piece.byteLength;
    }
    const closedByHost = !open;
    req.destroy(); // ends the test's side either way
    await closed;
    return { closedByHost, sent };
  }

  it('closes the connection of a caller that keeps sending after the engine stopped reading', async () => {
    const stopping = {
      async handle(request: GatewayRequest): Promise<GatewayResponse> {
        const iterator = request.body![Symbol.asyncIterator]();
        await iterator.next();
        await iterator.return?.();
        return { status: 413, headers: new AnswerHeaders({ 'content-length': '9' }), body: onePiece('too large') };
      },
    };
    await start(stopping as unknown as Gateway);
    const endless = post({ 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    // Bounded: 64 MiB at most, far past what the host discards (1 MiB) before it closes.
    const { closedByHost, sent } = await sendUntilClosed(endless);
    expect(closedByHost).toBe(true);
    expect(sent).toBeLessThan(64 * 1024 * 1024);
  });

  it('closes the connection of a caller that keeps sending a body the engine never read', async () => {
    await start(refusing);
    const declared = post({ 'content-type': 'application/json', 'content-length': String(1024 * 1024 * 1024) });
    const { closedByHost, sent } = await sendUntilClosed(declared);
    expect(closedByHost).toBe(true);
    expect(sent).toBeLessThan(64 * 1024 * 1024);
  });

  /** The status of the answer to `req`, or undefined if the connection closed first. */
  const statusOf = (req: ClientRequest): Promise<number | undefined> =>
    new Promise((resolve) => req.on('response', (r) => resolve(r.statusCode)).on('close', () => resolve(undefined)));

  it('closes the connection of a caller that keeps sending after a refusal before the engine', async () => {
    await start(unreachable);
    // A Host the host refuses (400 GW_ERR_REQUEST_INVALID_TARGET) before the engine is asked.
    const badTarget = post({ host: 'a/b', 'transfer-encoding': 'chunked' });
    const status = statusOf(badTarget);
    const { closedByHost, sent } = await sendUntilClosed(badTarget);
    expect(await status).toBe(400);
    expect(closedByHost).toBe(true);
    expect(sent).toBeLessThan(64 * 1024 * 1024);
  });

  it('closes the connection of a caller that keeps sending after an expectation it refused (417)', async () => {
    await start(unreachable);
    const expecting = post({ expect: 'teapot', 'transfer-encoding': 'chunked' });
    const status = statusOf(expecting);
    const { closedByHost, sent } = await sendUntilClosed(expecting);
    expect(await status).toBe(417);
    expect(closedByHost).toBe(true);
    expect(sent).toBeLessThan(64 * 1024 * 1024);
  });

  /**
   * Sends `bytes` of declared body, handed to the socket whole before the answer is read (as many SDKs do; node's
   * client stops writing a body in pieces once an answer has come), and answers how it went.
   */
  async function upload(bytes: number, agent: Agent): Promise<{ status?: number; text?: string; error?: unknown }> {
    const req = post({ 'content-type': 'application/json', 'content-length': String(bytes) }, agent);
    try {
      const written = new Promise<void>((resolve, reject) => req.on('error', reject).end(Buffer.alloc(bytes), resolve));
      const answer = await answered(req);
      await written;
      return { status: answer.statusCode, text: await bodyText(answer) };
    } catch (error) {
      return { error };
    }
  }

  it('drains a declared body the engine refused unread, so the caller reads a clean answer', async () => {
    await start(refusing);
    const connections = countConnections();
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    // 5 MiB: past the 1 MiB cut of a chunked body.
    expect(await upload(5 * 1024 * 1024, agent)).toEqual({ status: 413, text: 'too large' });
    expect(await upload(2, agent)).toEqual({ status: 413, text: 'too large' });
    expect(connections()).toBe(1);
    agent.destroy();
  });

  it('drains a declared body up to the largest body the gateway takes, when that is above 128 MiB', async () => {
    await start(refusing, { largestBodyBytes: () => 256 * 1024 * 1024 });
    const connections = countConnections();
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    expect(await upload(130 * 1024 * 1024, agent)).toEqual({ status: 413, text: 'too large' });
    expect(await upload(2, agent)).toEqual({ status: 413, text: 'too large' });
    expect(connections()).toBe(1);
    agent.destroy();
  });

  it('keeps the connection when an unread body is small', async () => {
    await start(refusing);
    const connections = countConnections();
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    expect(await upload(200_000, agent)).toEqual({ status: 413, text: 'too large' });
    expect(await upload(200_000, agent)).toEqual({ status: 413, text: 'too large' });
    expect(connections()).toBe(1);
    agent.destroy();
  });

  it('writes nothing more once the answer went out: a request timeout while draining closes the socket', async () => {
    const port = await start(refusing, { requestTimeoutMs: 300 });
    const socket = connect(port, '127.0.0.1');
    let received = '';
    socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
    let hostClosed = false;
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    // The host's close reaches the test as an end, a reset (error) or a close, whichever comes first.
    for (const event of ['end', 'error', 'close']) socket.on(event, () => (hostClosed = true));
    socket.write('POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n');
    // A chunk every 50 ms, 100 at most (5 s: past the 300 ms request timeout, inside the 10 s discard bound, so
    // only the timeout can close it), until the host closes.
    for (let i = 0; i < 100 && !hostClosed && !socket.destroyed; i += 1) {
      socket.write('2\r\nab\r\n');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const closedByHost = hostClosed;
    socket.destroy();
    await closed;
    expect(closedByHost).toBe(true);
    expect(received).toMatch(/^HTTP\/1\.1 413 /);
    expect(received).not.toMatch(/HTTP\/1\.1 408 /);
  });
});

describe('dropping a body that is already whole', () => {
  it('resumes a request its reader paused, so that it ends', async () => {
    let server: Server | undefined;
    const ended = new Promise<boolean>((resolve, reject) => {
      server = createServer((req, res) => {
        // Read, then paused, as CallerBody pauses a caller: node:http will not dump a body that was being read.
        req.on('data', () => undefined).pause();
        // The 10-byte body is parsed into the paused request right after this event (same socket read).
        setImmediate(() => {
          if (!req.complete) return reject(new Error('the body was not whole'));
          const timer = setTimeout(() => resolve(false), 2_000);
          req.once('end', () => {
            clearTimeout(timer);
            resolve(true);
          });
          discardBody(req, res, 0, () => 0);
          res.end();
        });
      });
      server.listen(0, '127.0.0.1', () => {
        const { port } = server!.address() as AddressInfo;
        const req = httpRequest({ host: '127.0.0.1', port, method: 'POST', headers: { 'content-length': '10' } });
        req.on('response', (r) => r.resume()).end('0123456789');
      });
    });
    try {
      expect(await ended).toBe(true);
    } finally {
      server?.closeAllConnections();
      server?.close();
    }
  });
});
