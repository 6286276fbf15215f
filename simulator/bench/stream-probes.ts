import { Agent, request as httpRequest, type IncomingMessage } from 'node:http';

/** Times to first byte of the streams that opened (200, `text/event-stream`), sorted, and those that did not. */
export interface TtfbResult {
  readonly samplesMs: readonly number[];
  readonly failed: number;
  /** What the failures were, e.g. `3 × status 429`. */
  readonly failures: readonly string[];
}

/** A stream that opened: 200 and `text/event-stream`. */
export const isOpenStream = (res: IncomingMessage): boolean =>
  res.statusCode === 200 && String(res.headers['content-type'] ?? '').startsWith('text/event-stream');

/** Time to the first body byte of a stream, `count` sequential calls on one keep-alive connection. */
export async function streamTtfb(url: string, body: string, count: number): Promise<TtfbResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const samples: number[] = [];
  const failures = new Map<string, number>();
  const fail = (why: string): void => void failures.set(why, (failures.get(why) ?? 0) + 1);
  for (let i = 0; i < count; i++) {
    const outcome = await oneTtfb(url, body, agent);
    if (typeof outcome === 'number') samples.push(outcome);
    else fail(outcome);
  }
  agent.destroy();
  return {
    samplesMs: samples.sort((a, b) => a - b),
    failed: count - samples.length,
    failures: [...failures].map(([why, n]) => `${n} × ${why}`),
  };
}

/** The ms to the first body byte of a stream that opened and ended cleanly, or why it does not count. */
function oneTtfb(url: string, body: string, agent: Agent): Promise<number | string> {
  return new Promise((resolve) => {
    const started = performance.now();
    const req = httpRequest(url, { method: 'POST', agent, headers: { 'content-type': 'application/json' } }, (res) => {
      const opened = isOpenStream(res);
      let first: number | undefined;
      res.on('data', () => (first ??= performance.now() - started));
      res.on('end', () => {
        if (!opened) resolve(`status ${res.statusCode} ${String(res.headers['content-type'] ?? '')}`.trim());
        else resolve(first ?? 'a stream with no body');
      });
      res.on('error', () => resolve('a stream cut before its end'));
    });
    req.on('error', (error) => resolve(`no answer (${(error as NodeJS.ErrnoException).code ?? error.message})`));
    req.end(body);
  });
}
