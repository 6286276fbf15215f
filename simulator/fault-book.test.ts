import { describe, expect, it } from 'vitest';
import { FaultBook, type FaultQuery } from './fault-book.js';
import { parseFaultSpec } from './fault-grammar.js';
import { formatFaultSpec } from './fault-spec.js';

const EPOCH = 1_000_000;

function q(offsetMs: number, extra: Partial<FaultQuery> = {}): FaultQuery {
  return { nowMs: EPOCH + offsetMs, path: '/v1/chat/completions', model: 'gpt-4o', request: null, ...extra };
}

function rule(text: string): { spec: ReturnType<typeof parseFaultSpec>; text: string } {
  const spec = parseFaultSpec(text);
  return { spec, text: formatFaultSpec(spec) };
}

describe('FaultBook', () => {
  it('applies a times-limited rule to the first N requests only', () => {
    const book = new FaultBook([parseFaultSpec('503;times=2')], EPOCH);
    const statuses = [0, 1, 2, 3].map(() => book.resolve(q(0))?.spec.status ?? 200);
    expect(statuses).toEqual([503, 503, 200, 200]);
  });

  it('opens an outage window at from-ms for for-ms, then recovers', () => {
    const book = new FaultBook([parseFaultSpec('500;from-ms=1000;for-ms=2000')], EPOCH);
    const at = (ms: number): number => book.resolve(q(ms))?.spec.status ?? 200;
    expect([at(0), at(999), at(1000), at(2999), at(3000), at(50_000)]).toEqual([200, 200, 500, 500, 200, 200]);
  });

  it('flaps when the window repeats every-ms', () => {
    const book = new FaultBook([parseFaultSpec('503;for-ms=100;every-ms=1000')], EPOCH);
    const at = (ms: number): number => book.resolve(q(ms))?.spec.status ?? 200;
    expect([at(0), at(99), at(100), at(999), at(1000), at(1099), at(1100), at(5050)]).toEqual([
      503, 503, 200, 200, 503, 503, 200, 503,
    ]);
  });

  it('takes the first instance rule that holds', () => {
    const book = new FaultBook(
      [
        parseFaultSpec('429;path=/v1/embeddings'),
        parseFaultSpec('502;model=gpt-4o-mini'),
        parseFaultSpec('latency-ms=5'),
      ],
      EPOCH,
    );
    expect(book.resolve(q(0, { path: '/v1/embeddings' }))?.spec).toEqual({ status: 429, path: '/v1/embeddings' });
    expect(book.resolve(q(0, { model: 'gpt-4o-mini' }))?.spec.status).toBe(502);
    expect(book.resolve(q(0))?.spec).toEqual({ latencyMs: 5 });
  });

  it('layers the request rule over the instance rule', () => {
    const book = new FaultBook([parseFaultSpec('latency-ms=5;tokens=3')], EPOCH);
    const resolved = book.resolve(q(0, { request: rule('tokens=9;429') }));
    expect(resolved?.spec).toEqual({ latencyMs: 5, completionTokens: 9, status: 429 });
    expect(resolved?.text).toBe('latency-ms=5;tokens=3 + status=429;tokens=9');
  });

  it('counts request rules by their text, across requests', () => {
    const book = new FaultBook([], EPOCH);
    const once = rule('503;once');
    expect(book.resolve(q(0, { request: once }))?.spec.status).toBe(503);
    expect(book.resolve(q(0, { request: once }))).toBeNull();
    expect(book.resolve(q(0, { request: rule('502;once') }))?.spec.status).toBe(502);
  });

  it('forgets counters and restarts windows on reset', () => {
    const book = new FaultBook([parseFaultSpec('503;once'), parseFaultSpec('500;from-ms=100')], EPOCH);
    expect(book.resolve(q(0))?.spec.status).toBe(503);
    expect(book.resolve(q(0))).toBeNull();
    expect(book.resolve(q(150))?.spec.status).toBe(500);
    book.reset(EPOCH + 1000);
    expect(book.resolve(q(1000))?.spec.status).toBe(503);
    expect(book.resolve(q(1050))).toBeNull();
    expect(book.resolve(q(1100))?.spec.status).toBe(500);
  });
});
