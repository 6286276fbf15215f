import { Agent, request as httpRequest, type IncomingMessage } from 'node:http';
import { rssMb } from './process-stats.js';

/** Times to first byte of the streams that opened (200, `text/event-stream`), sorted, and those that did not. */
export interface TtfbResult {
  readonly samplesMs: readonly number[];
  readonly failed: number;
  /** What the failures were, e.g. `3 × status 429`. */
  readonly failures: readonly string[];
}

const isOpenStream = (res: IncomingMessage): boolean =>
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

/** RSS of the gateway with `count` slow streams open through it. */
export interface OpenStreamsMemory {
  readonly requested: number;
  /** Streams that answered 200 `text/event-stream` and delivered a first chunk; only they are counted. */
  readonly opened: number;
  readonly idleMb: number;
  /** RSS once every stream that opened has delivered its first chunk (plus a second). */
  readonly openMb: number;
  /** RSS a few seconds later, with the same streams still open and more tokens relayed. */
  readonly laterMb: number;
  readonly perStreamKb: number;
  readonly laterPerStreamKb: number;
}

/**
 * Opens `count` slow streams through the gateway (each 100 tokens at 10 tokens/s, so all stay open for
 * the whole measurement) and reads the gateway's RSS while they are open: once all have started, then
 * again seconds later. Memory per stream is (RSS − idle RSS) / streams that really opened; a second
 * reading that stays level shows the per-stream cost does not grow with the tokens relayed.
 */
export async function memoryWithOpenStreams(url: string, pid: number, count: number): Promise<OpenStreamsMemory> {
  const idleMb = rssMb(pid).rssMb;
  const agent = new Agent({ keepAlive: false, maxSockets: count });
  const body = JSON.stringify({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'long' }] });
  let opened = 0;
  let settled = 0;
  let onProgress: () => void = () => undefined;
  const progress = (): void => onProgress();
  const done: Promise<void>[] = [];
  for (let i = 0; i < count; i++) {
    const onOpen = (): void => {
      opened += 1;
      progress();
    };
    const onFailed = (): void => {
      settled += 1;
      progress();
    };
    done.push(openSlowStream(url, body, agent, onOpen, onFailed));
  }
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, 20_000);
    onProgress = () => {
      if (opened + settled < count) return;
      clearTimeout(timer);
      resolve();
    };
  });
  await new Promise((r) => setTimeout(r, 1_000));
  const openMb = rssMb(pid).rssMb;
  await new Promise((r) => setTimeout(r, 3_000));
  const laterMb = rssMb(pid).rssMb;
  await Promise.all(done);
  agent.destroy();
  const perStream = (mb: number): number => (opened === 0 ? NaN : ((mb - idleMb) * 1024) / opened);
  return {
    requested: count,
    opened,
    idleMb,
    openMb,
    laterMb,
    perStreamKb: perStream(openMb),
    laterPerStreamKb: perStream(laterMb),
  };
}

/** One slow stream: `onOpen` at its first chunk if it opened, `onFailed` if it did not; resolves at its end. */
function openSlowStream(
  url: string,
  body: string,
  agent: Agent,
  onOpen: () => void,
  onFailed: () => void,
): Promise<void> {
  return new Promise<void>((resolve) => {
    let counted = false;
    const failed = (): void => {
      if (!counted) {
        counted = true;
        onFailed();
      }
      resolve();
    };
    const headers = { 'content-type': 'application/json', 'x-sim-fault': 'tps=10;tokens=100' };
    const req = httpRequest(url, { method: 'POST', agent, headers }, (res) => {
      if (!isOpenStream(res)) {
        res.resume();
        return res.on('end', failed);
      }
      res.on('data', () => {
        if (counted) return;
        counted = true;
        onOpen();
      });
      res.on('end', () => (counted ? resolve() : failed()));
      res.on('error', failed);
    });
    req.on('error', failed);
    req.end(body);
  });
}
