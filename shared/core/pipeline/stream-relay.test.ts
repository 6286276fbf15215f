import { describe, expect, it } from 'vitest';
import { endsWith, WHEN_ENDED } from '../lifecycle/call-drain.js';
import { relayBody, type RelayOutcome } from './stream-relay.js';

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

function options(source: AsyncIterable<Uint8Array>, extra: Partial<Parameters<typeof relayBody>[0]> = {}) {
  const ended: { outcome: RelayOutcome; error: unknown }[] = [];
  const aborted: unknown[] = [];
  const controller = new AbortController();
  return {
    ended,
    aborted,
    controller,
    relay: relayBody({
      source,
      errorKind: () => 'reset',
      sse: true,
      shape: 'openai',
      requestId: 'r1',
      abort: (reason) => void aborted.push(reason),
      callerSignal: controller.signal,
      idleTimeoutMs: 60_000,
      now: () => performance.now(),
      finish: (outcome, error) => void ended.push({ outcome, error }),
      ...extra,
    }),
  };
}

describe('relayBody', () => {
  it('tells the drain once, after finish, that the call ended — however it ended — without being wrapped', async () => {
    const cases: { source: () => AsyncGenerator<Uint8Array>; read: number; outcome: RelayOutcome }[] = [
      {
        source: async function* () {
          yield bytes('data: a\n\n');
        },
        read: Infinity,
        outcome: 'complete',
      },
      {
        source: async function* () {
          yield bytes('data: a\n\n');
          throw new Error('reset');
        },
        read: Infinity,
        outcome: 'cut',
      },
      {
        source: async function* () {
          yield bytes('data: a\n\n');
          yield bytes('data: b\n\n');
        },
        read: 1,
        outcome: 'caller_aborted',
      },
    ];
    for (const c of cases) {
      const o = options(c.source());
      const seen: string[] = [];
      const response = endsWith(
        { status: 200, headers: new Headers(), body: o.relay },
        { signal: new AbortController().signal, end: () => void seen.push(`end after ${o.ended.length} finish`) },
      );
      expect(response.body).toBe(o.relay); // not wrapped: no `then` of the drain's own per chunk
      expect(WHEN_ENDED in o.relay).toBe(true);
      const iterator = o.relay[Symbol.asyncIterator]();
      for (let i = 0; i < c.read; i++) {
        const next = await iterator.next().catch(() => ({ done: true }));
        if (next.done === true) break;
      }
      if (c.read !== Infinity) await iterator.return?.();
      await iterator.next().catch(() => undefined);
      expect(o.ended.map((e) => e.outcome)).toEqual([c.outcome]);
      expect(seen).toEqual(['end after 1 finish']);
    }
  });

  it('finishes once and tells the drain once when finish itself throws on completion', async () => {
    let finishes = 0;
    const o = options(
      (async function* () {
        yield bytes('data: a\n\n');
      })(),
      {
        finish: () => {
          finishes += 1;
          throw new Error('finish failed');
        },
      },
    );
    let ends = 0;
    endsWith(
      { status: 200, headers: new Headers(), body: o.relay },
      { signal: new AbortController().signal, end: () => void (ends += 1) },
    );
    const iterator = o.relay[Symbol.asyncIterator]();
    for (let i = 0; i < 5; i++) {
      const next = await iterator.next().catch(() => ({ done: false }));
      if (next.done === true) break;
    }
    await iterator.return?.();
    expect([finishes, ends]).toEqual([1, 1]);
  });

  it('finishes as complete after the last chunk', async () => {
    const o = options(
      (async function* () {
        yield bytes('data: a\n\n');
        yield bytes('data: [DONE]\n\n');
      })(),
    );
    const out: string[] = [];
    for await (const chunk of o.relay) out.push(new TextDecoder().decode(chunk));
    expect(out.join('')).toBe('data: a\n\ndata: [DONE]\n\n');
    expect(o.ended).toEqual([{ outcome: 'complete', error: undefined }]);
  });

  it('ends a failed stream with a terminal error event and then throws, never a clean end', async () => {
    const reset = new Error('socket reset');
    const o = options(
      (async function* () {
        yield bytes('data: a\n\n');
        throw reset;
      })(),
    );
    const out: string[] = [];
    // The very error the source threw (a falsy rejection would pass `toThrow('…')` unnoticed).
    await expect(async () => {
      for await (const chunk of o.relay) out.push(new TextDecoder().decode(chunk));
    }).rejects.toBe(reset);
    expect(JSON.parse(out.at(-1)!.slice(6))).toMatchObject({ error: { code: 'GW_ERR_STREAM_INTERRUPTED' } });
    expect(o.ended[0]?.outcome).toBe('cut');
  });

  it("closes the backend's body when its own filter fails, and ends the stream with the terminal event", async () => {
    let closed = false;
    const source = (async function* () {
      try {
        yield bytes('data: a\n\n');
        yield bytes('data: b\n\n'); // the backend would go on
        yield bytes('data: c\n\n');
      } finally {
        closed = true;
      }
    })();
    const broken = new Error('meter bug');
    const filter = {
      push: (chunk: Uint8Array) => {
        if (new TextDecoder().decode(chunk).includes('b')) throw broken;
        return chunk;
      },
      end: () => undefined,
    };
    const o = options(source, { filter });
    const out: string[] = [];
    await expect(async () => {
      for await (const chunk of o.relay) out.push(new TextDecoder().decode(chunk));
    }).rejects.toBe(broken);
    expect(out[0]).toBe('data: a\n\n');
    expect(JSON.parse(out.at(-1)!.slice(6))).toMatchObject({ error: { code: 'GW_ERR_STREAM_INTERRUPTED' } });
    expect(closed).toBe(true);
    expect(o.ended).toEqual([{ outcome: 'cut', error: broken }]);
  });

  it('ends a stream cut by the shutdown drain with the terminal event naming the shutdown', async () => {
    const shutdown = new AbortController();
    const backend = new AbortController();
    const o = options(
      (async function* () {
        yield bytes('data: a\n\n');
        // The backend would go on; only the abort (the drain's cut reaching the attempt) ends it.
        await new Promise((_, reject) => {
          if (backend.signal.aborted) reject(backend.signal.reason);
          backend.signal.addEventListener('abort', () => reject(backend.signal.reason));
        });
      })(),
      { shutdown: shutdown.signal, abort: (reason) => backend.abort(reason) },
    );
    const out: string[] = [];
    const reading = (async () => {
      for await (const chunk of o.relay) {
        out.push(new TextDecoder().decode(chunk));
        shutdown.abort(new Error('grace period over'));
      }
    })();
    await expect(reading).rejects.toThrow('grace period over');
    expect(JSON.parse(out.at(-1)!.slice(6))).toMatchObject({
      error: { code: 'GW_ERR_SERVICE_SHUTTING_DOWN', type: 'server_error' },
    });
    expect(o.ended[0]?.outcome).toBe('cut');
  });

  it('finishes (caller aborted) and aborts the backend when the host gives up before reading anything', async () => {
    const o = options(
      (async function* () {
        yield bytes('never read');
      })(),
    );
    await o.relay[Symbol.asyncIterator]().return?.();
    expect(o.ended).toEqual([{ outcome: 'caller_aborted', error: undefined }]);
    expect(o.aborted).toHaveLength(1);
  });

  it('aborts the backend and finishes once when the host stops reading mid-stream', async () => {
    const o = options(
      (async function* () {
        yield bytes('data: a\n\n');
        yield bytes('data: b\n\n');
      })(),
    );
    const iterator = o.relay[Symbol.asyncIterator]();
    await iterator.next();
    await iterator.return?.();
    expect(o.ended.map((e) => e.outcome)).toEqual(['caller_aborted']);
    expect(o.aborted).toHaveLength(1);
  });
});
