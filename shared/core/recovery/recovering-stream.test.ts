import { describe, expect, it } from 'vitest';
import type { BackendConfig } from '../../config/schema.js';
import type { DispatchResult } from '../dispatch/dispatcher.js';
import { emptyUsageReading } from '../usage/usage-reading.js';
import { createRecoveringStream, type RecoveringStreamOptions } from './recovering-stream.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function event(choice: Record<string, unknown>): string {
  const chunk = { id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [choice] };
  return `data: ${JSON.stringify(chunk)}\n\n`;
}

function chunkEvent(i: number, content: string): string {
  return event({ index: 0, delta: i === 0 ? { role: 'assistant', content } : { content }, finish_reason: null });
}

/** A first attempt whose body comes in the given reads (strings), then ends. */
function firstAttempt(reads: readonly string[]): DispatchResult {
  return {
    response: {
      status: 200,
      headers: { 'content-type': 'text/event-stream' },
      body: (async function* () {
        for (const read of reads) yield encoder.encode(read);
      })(),
      errorKind: () => 'reset',
      dump: async () => undefined,
    },
    backend: { id: 'a' } as BackendConfig,
    attempts: [],
    backendWaitMs: 0,
    retryWaitMs: 0,
    abort: () => undefined,
    release: () => undefined,
    idleTimeoutMs: 60_000,
  };
}

function options(first: DispatchResult): RecoveringStreamOptions {
  return {
    first,
    json: { model: 'm', messages: [{ role: 'user', content: 'hi' }], stream: true },
    prefillAllowed: true,
    mode: 'auto',
    callerAskedUsage: false,
    meter: () => ({ push: (chunk) => chunk, end: () => undefined, finish: () => emptyUsageReading() }),
    hideFirstUsageChunk: false,
    backendIds: ['a'],
    canContinue: () => false,
    rememberRefusal: () => undefined,
    redispatch: () => Promise.reject(new Error('no recovery in this test')),
    attempts: { get: () => [], set: () => undefined },
    onReport: () => undefined,
    callerSignal: new AbortController().signal,
    idleTimeoutMs: 60_000,
    now: () => 0,
  };
}

async function collect(body: AsyncIterable<Uint8Array>): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for await (const chunk of body) out.push(chunk);
  return out;
}

describe('a recovering stream on a healthy first attempt', () => {
  it('hands the whole events of one read on in one piece, byte for byte, and holds back a split event', async () => {
    const events = Array.from({ length: 300 }, (_, i) => chunkEvent(i, `token${i} `));
    const finish = event({ index: 0, delta: {}, finish_reason: 'stop' });
    const whole = events.join('') + finish + 'data: [DONE]\n\n';
    // Three reads: 150 events and half of the next; the rest of the events; the finish and [DONE].
    const cut = events.slice(0, 150).join('').length + 40;
    const restEnd = events.join('').length;
    const reads = [whole.slice(0, cut), whole.slice(cut, restEnd), whole.slice(restEnd)];
    const stream = createRecoveringStream(options(firstAttempt(reads)));
    const out = await collect(stream.body);
    stream.release();
    // One piece per read (not one per event: 302 events), never half an event, and the same bytes.
    expect(out.map((chunk) => decoder.decode(chunk))).toEqual([
      events.slice(0, 150).join(''),
      events.slice(150).join(''),
      finish + 'data: [DONE]\n\n',
    ]);
  });

  it('withholds the backend error event and what follows it in its read, and forwards what preceded it', async () => {
    const events = [chunkEvent(0, 'Hello'), chunkEvent(1, ' world')];
    const error = 'data: {"error":{"message":"overloaded","type":"server_error"}}\n\n';
    const stream = createRecoveringStream(options(firstAttempt([events.join('') + error + chunkEvent(2, '!')])));
    const out: string[] = [];
    const failed = await (async () => {
      for await (const chunk of stream.body) out.push(decoder.decode(chunk));
    })().catch((e: unknown) => e);
    stream.release();
    expect(out[0]).toBe(events.join(''));
    expect(out.join('')).not.toContain('overloaded');
    expect(failed).toBeInstanceOf(Error);
  });
});
