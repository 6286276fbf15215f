import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNodeHost, type NodeHost } from '../../shared/standalone/node-host.js';
import { defaultConfig, startHarness, type Harness } from '../support/gateway-harness.js';
import { rawHttp, type RawAnswer } from '../support/raw-http.js';
import { mulberry32 } from '../support/seeded-random.js';

/**
 * The standalone host's request line and Host header, attacked over raw sockets: routing sees the request
 * line's path only, every malformed request gets a 4xx in our envelope, and no input produces a 5xx.
 */
describe('the standalone host reads the request line, not the Host header', () => {
  let h: Harness;
  const chatBody = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
  const post = (target: string, host: string, body = chatBody): string =>
    `POST ${target} HTTP/1.1\r\nhost: ${host}\r\ncontent-type: application/json\r\n` +
    `content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
  const get = (target: string, hostLine = `host: 127.0.0.1\r\n`, version = '1.1'): string =>
    `GET ${target} HTTP/${version}\r\n${hostLine}\r\n`;
  const backendCalls = (): number => h.sims.a!.attempts().length + h.sims.c!.attempts().length;

  beforeAll(async () => {
    h = await startHarness({
      simulators: { a: {}, c: {} },
      config: (urls) =>
        defaultConfig(urls, {
          backends: [
            { id: 'a', url: urls.a!, kind: 'openai' },
            { id: 'c', url: `${urls.c!}/base`, kind: 'http' },
          ],
          pools: [
            { id: 'main', backends: ['a'] },
            { id: 'http', backends: ['c'] },
          ],
          routes: [
            { id: 'all', match: { models: ['*'] }, pool: 'main' },
            { id: 'echo', match: { pathPrefix: '/echo' }, pool: 'http' },
          ],
        }),
    });
  });
  afterAll(async () => h.close());

  function expectRefused(answer: RawAnswer, status: number, code: string): void {
    expect({ status: answer.status, header: answer.headers['x-gateway-error-code'] }).toEqual({ status, header: code });
    const body = JSON.parse(answer.body) as { error: { code: string; request_id: string } };
    expect(body.error.code).toBe(code);
    expect(answer.headers['x-gateway-request-id']).toBe(body.error.request_id);
  }

  it('refuses a Host holding a path, so it cannot re-route a call to a path-prefix backend', async () => {
    const before = backendCalls();
    const answer = await rawHttp(
      h.host.port,
      post('/v1/chat/completions', `127.0.0.1:${h.host.port}/echo/internal?x=`),
    );
    expectRefused(answer, 400, 'GW_ERR_REQUEST_INVALID_HEADER');
    expect(backendCalls()).toBe(before);
  });

  it('refuses a Host holding a job path, so GET /v1/models never answers for a job', async () => {
    const answer = await rawHttp(h.host.port, get('/v1/models', 'host: x/jobs/0123456789abcdef?\r\n'));
    expectRefused(answer, 400, 'GW_ERR_REQUEST_INVALID_HEADER');
  });

  it.each([
    ['a space', 'host: a b\r\n'],
    ['a port out of range', 'host: x:99999\r\n'],
    ['user info', 'host: user@x\r\n'],
    ['two Host headers', 'host: a\r\nhost: b\r\n'],
    ['no Host on HTTP/1.1', ''],
  ])('answers a malformed Host (%s) with 400, not 500', async (_name, hostLine) => {
    expectRefused(await rawHttp(h.host.port, get('/v1/models', hostLine)), 400, 'GW_ERR_REQUEST_INVALID_HEADER');
  });

  it('serves an absolute-form request line, routing on its path', async () => {
    const before = h.sims.a!.attempts().length;
    const answer = await rawHttp(h.host.port, post(`http://gateway.example/v1/chat/completions`, 'ignored.example'));
    expect(answer.status).toBe(200);
    const attempts = h.sims.a!.attempts();
    expect(attempts.length).toBe(before + 1);
    expect(attempts.at(-1)!.path).toBe('/v1/chat/completions');
    const models = await rawHttp(h.host.port, get('http://gateway.example/v1/models?x=1'));
    expect(models.status).toBe(200);
    expect((JSON.parse(models.body) as { object: string }).object).toBe('list');
  });

  it('forwards a path-prefix call with the absolute-form target path', async () => {
    const before = h.sims.c!.attempts().length;
    await rawHttp(h.host.port, get('http://x/echo/internal?q=1', 'host: y\r\n'));
    const attempts = h.sims.c!.attempts();
    expect(attempts.length).toBe(before + 1);
    expect(attempts.at(-1)).toMatchObject({ path: '/base/internal', query: 'q=1' });
  });

  it.each([
    ['OPTIONS *', 'OPTIONS * HTTP/1.1\r\nhost: x\r\n\r\n', 400, 'GW_ERR_REQUEST_INVALID_TARGET'],
    ['a relative target', 'GET v1/models HTTP/1.1\r\nhost: x\r\n\r\n', 400, 'GW_ERR_REQUEST_INVALID_TARGET'],
    ['an ftp target', 'GET ftp://x/v1/models HTTP/1.1\r\nhost: x\r\n\r\n', 400, 'GW_ERR_REQUEST_INVALID_TARGET'],
    ['CONNECT', 'CONNECT x:443 HTTP/1.1\r\nhost: x:443\r\n\r\n', 405, 'GW_ERR_REQUEST_METHOD_NOT_ALLOWED'],
    [
      'an unknown expectation',
      'GET /v1/models HTTP/1.1\r\nhost: x\r\nexpect: teapot\r\n\r\n',
      417,
      'GW_ERR_REQUEST_EXPECTATION_FAILED',
    ],
    ['an unparseable request', 'GET /v1/models HTTP/9.9\r\n\r\n', 400, 'GW_ERR_REQUEST_INVALID_HEADER'],
  ])('answers %s in the envelope', async (_name, bytes, status, code) => {
    expectRefused(await rawHttp(h.host.port, bytes), status, code);
  });

  it('answers a body that trickles past the request timeout with 408 GW_ERR_REQUEST_TIMEOUT', async () => {
    const host: NodeHost = await startNodeHost(h.runtime.gateway, { port: 0, requestTimeoutMs: 300 });
    try {
      const before = backendCalls();
      // Headers promise 100 bytes and the body never completes: the host, not the engine, ends it.
      const answer = await rawHttp(
        host.port,
        'POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-type: ' +
          'application/json\r\ncontent-length: 100\r\n\r\n{"mo',
        { timeoutMs: 10_000 },
      );
      expectRefused(answer, 408, 'GW_ERR_REQUEST_TIMEOUT');
      expect(backendCalls()).toBe(before);
    } finally {
      await host.close();
    }
  });

  it('answers every fuzzed request line or header block, never with a 5xx, and keeps serving', async () => {
    const seed = Number(process.env.FUZZ_SEED ?? 13);
    const random = mulberry32(seed);
    const failures: string[] = [];
    const rounds = 400;
    for (let i = 0; i < rounds; i += 8) {
      const batch = Array.from({ length: 8 }, () => fuzzedRequest(random, h.host.port));
      const answers = await Promise.all(batch.map((bytes) => rawHttp(h.host.port, bytes, { halfClose: true })));
      answers.forEach((answer, j) => {
        // Every request gets a final answer: a closed connection without one is a failure too.
        const gatewayAnswer = answer.headers['x-gateway-error-code'] !== undefined || answer.status === 200;
        if (answer.status === undefined || answer.status < 200 || answer.status >= 500 || !gatewayAnswer)
          failures.push(`${JSON.stringify(batch[j])} → ${answer.text.slice(0, 200) || '(no answer)'}`);
      });
    }
    expect(failures, `seed ${seed}`).toEqual([]);
    const after = await rawHttp(h.host.port, get('/health/live'));
    expect(after.status).toBe(200);
  });
});

const METHODS = ['GET', 'POST', 'OPTIONS', 'HEAD', 'PUT', 'DELETE', 'PATCH', 'CONNECT', 'TRACE', 'get', 'X-Y', ''];
const TARGETS = [
  '/v1/models',
  '/v1/chat/completions',
  '/echo/internal?x=/y',
  '/jobs/0123456789abcdef',
  '/gateway/admin/status',
  '/health/ready',
  '*',
  '',
  'v1/models',
  '//evil.example/v1/models',
  'http://x/v1/models',
  'http://x',
  'http://x?y',
  'https://[::1]:8000/v1/models',
  'http://[::1/v1/models',
  'http://x:99999/v1/models',
  'http://u:p@x/v1/models',
  'ftp://x/y',
  'x:443',
  '/%00/%zz/%2e%2e/%2F',
  '/v1/../gateway/admin/status',
  '/v1\\..\\gateway\\admin',
  '/v1/models#frag',
  '/' + 'a'.repeat(3000),
  '/\u00e9',
];
const VERSIONS = ['HTTP/1.1', 'HTTP/1.1', 'HTTP/1.0', 'HTTP/2.0', 'HTTP/1.9', 'HTTX/1.1', ''];
const HOSTS = [
  'x',
  'x:80',
  '[::1]:8000',
  '127.0.0.1/echo/internal?x=',
  'x/jobs/0123456789abcdef?',
  'x#y',
  'a b',
  'x:99999',
  'x:',
  ':80',
  '[::1',
  'user@x',
  '',
  'é.example',
  'x\tx',
  '%41',
  'x:80:80',
];
const EXTRA_HEADERS = [
  'content-length: 5',
  'content-length: -1',
  'content-length: abc',
  'content-length: 1e3',
  'content-length: 99999999999999999999',
  'content-length: 5\r\ncontent-length: 6',
  'transfer-encoding: chunked',
  'transfer-encoding: chunked\r\ncontent-length: 5',
  'transfer-encoding: gzip, chunked',
  'expect: 100-continue',
  'expect: nothing',
  'upgrade: websocket\r\nconnection: upgrade',
  'connection: keep-alive',
  'content-type: application/json',
  'x-gateway-async: true',
  'S7PTTL: -5',
  'S7PPriorityKey: \u00ff\u00fe',
  'api-key: \u0000',
  'bad header: x',
  ': empty-name',
  'x-fold: a\r\n  folded',
  'authorization: Bearer a.b.c',
  'x-ms-client-principal: !!!',
  'x-long: ' + 'v'.repeat(40_000),
];
const BODIES = [
  '',
  'hello',
  '{"model":"gpt-4o-mini","messages":[]}',
  '{"model":',
  '0\r\n\r\n',
  '5\r\nhello\r\n0\r\n\r\n',
];

function fuzzedRequest(random: () => number, port: number): string {
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
  const lines = [`${pick(METHODS)} ${pick(TARGETS)} ${pick(VERSIONS)}`];
  const hostCount = random() < 0.1 ? 0 : random() < 0.1 ? 2 : 1;
  for (let i = 0; i < hostCount; i++) lines.push(`host: ${random() < 0.3 ? `127.0.0.1:${port}` : pick(HOSTS)}`);
  const extras = Math.floor(random() * 4);
  for (let i = 0; i < extras; i++) lines.push(pick(EXTRA_HEADERS));
  return `${lines.join('\r\n')}\r\n\r\n${pick(BODIES)}`;
}
