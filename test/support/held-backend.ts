import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

/** An OpenAI-compatible backend that holds every call until the test releases it. */
export interface HeldBackend {
  readonly url: string;
  /** Calls received so far (method and path), held or answered. */
  readonly received: { readonly method: string; readonly path: string; readonly body: string }[];
  /** Resolves once `count` calls have arrived. */
  arrived(count: number): Promise<void>;
  /** Answers every held call, and every later one at once. */
  release(): void;
  close(): Promise<void>;
}

/**
 * Starts a {@link HeldBackend} on 127.0.0.1, port 0: a deterministic way to keep a call in flight (holding
 * capacity or a job worker) while the test changes something, with no timing involved.
 */
export async function startHeldBackend(): Promise<HeldBackend> {
  const received: HeldBackend['received'][number][] = [];
  const waiters: { count: number; resolve: () => void }[] = [];
  let released = false;
  const held: (() => void)[] = [];
  const server = createServer((req: IncomingMessage, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      received.push({ method: req.method ?? '', path: req.url ?? '', body });
      for (const w of waiters.filter((w) => w.count <= received.length)) w.resolve();
      const answer = (): void => {
        const json = JSON.stringify({
          id: `chatcmpl-held-${received.length}`,
          object: 'chat.completion',
          created: 0,
          model: 'gpt-4o-mini',
          choices: [{ index: 0, message: { role: 'assistant', content: 'done' }, finish_reason: 'stop' }],
          usage: { prompt_tokens: 5, completion_tokens: 1, total_tokens: 6 },
        });
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(json) });
        res.end(json);
      };
      if (released) answer();
      else held.push(answer);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    arrived: (count) =>
      received.length >= count ? Promise.resolve() : new Promise((resolve) => waiters.push({ count, resolve })),
    release: () => {
      released = true;
      for (const answer of held.splice(0)) answer();
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
