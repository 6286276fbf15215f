import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AttemptReader } from './attempt-reader.js';

const IDLE_MS = 100;
const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

describe('AttemptReader', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setImmediate', 'clearImmediate', 'Date'] });
  });
  afterEach(() => vi.useRealTimers());

  function reader(chunks: readonly string[]) {
    const aborted: unknown[] = [];
    const body = (async function* () {
      for (const chunk of chunks) yield bytes(chunk);
    })();
    const attempt = { abort: (reason?: unknown) => void aborted.push(reason), errorKind: () => 'reset' as const };
    return { aborted, reader: new AttemptReader(body, attempt, IDLE_MS, () => Date.now()) };
  }

  it('does not count the time the caller takes between two reads as the backend silence', async () => {
    const { aborted, reader: r } = reader(['data: a\n\n', 'data: b\n\n']);
    expect(await r.next()).toMatchObject({ kind: 'chunk' });
    // The caller reads slowly: ten idle deadlines pass before it asks for the next chunk.
    await vi.advanceTimersByTimeAsync(10 * IDLE_MS);
    expect(await r.next()).toMatchObject({ kind: 'chunk' });
    expect(await r.next()).toEqual({ kind: 'end' });
    expect(aborted).toEqual([]);
  });

  it('fails with idle-timeout when the backend owes a chunk for the whole deadline', async () => {
    const aborted: unknown[] = [];
    let fail!: (error: unknown) => void;
    const body = (async function* () {
      yield bytes('data: a\n\n');
      await new Promise((_, reject) => (fail = reject));
    })();
    const attempt = {
      abort: (reason?: unknown) => {
        aborted.push(reason);
        fail(reason);
      },
      errorKind: () => 'reset' as const,
    };
    const r = new AttemptReader(body, attempt, IDLE_MS, () => Date.now());
    expect(await r.next()).toMatchObject({ kind: 'chunk' });
    const next = r.next();
    const failed = expect(next).rejects.toMatchObject({ kind: 'idle-timeout' });
    await vi.advanceTimersByTimeAsync(IDLE_MS + 1);
    await vi.runOnlyPendingTimersAsync(); // the confirmation's second turn of I/O
    await failed;
    expect(aborted).toHaveLength(1);
  });
});
