import { describe, expect, it } from 'vitest';
import { parseFaultSpec, splitModelSpec } from './fault-grammar.js';
import { FaultSpecError, formatFaultSpec, normalizeFaultSpec, type FaultSpec } from './fault-spec.js';

describe('parseFaultSpec', () => {
  const valid: [string, FaultSpec][] = [
    ['', {}],
    ['429', { status: 429 }],
    ['fault=429;retry-after-ms=200', { status: 429, retryAfterMs: 200 }],
    ['status=503;times=2', { status: 503, times: 2 }],
    ['503;once', { status: 503, times: 1 }],
    ['429;retry-after=3', { status: 429, retryAfterSeconds: 3 }],
    ['429;x-ms-retry-after-ms=1500', { status: 429, xMsRetryAfterMs: 1500 }],
    ['429;retry-after-date=10', { status: 429, retryAfterDateSeconds: 10 }],
    ['requeue', { requeue: true }],
    ['429;requeue;retry-after-ms=10000', { status: 429, requeue: true, retryAfterMs: 10000 }],
    ['requeue=false', { requeue: false }],
    ['reset', { fault: 'reset' }],
    ['fault=hang', { fault: 'hang' }],
    ['FAULT=Cut;After=3', { fault: 'cut', afterTokens: 3 }],
    ['stall;after=0', { fault: 'stall', afterTokens: 0 }],
    ['malformed;after=2', { fault: 'malformed', afterTokens: 2 }],
    ['no-done', { fault: 'no-done' }],
    ['context-length', { fault: 'context-length' }],
    ['content-filter', { fault: 'content-filter' }],
    [' 500 ; from-ms=1000 ; for-ms=2000 ; every-ms=10000 ', { status: 500, fromMs: 1000, forMs: 2000, everyMs: 10000 }],
    [
      'latency-ms=50;first-token-ms=20;tps=12.5;tokens=5',
      { latencyMs: 50, firstTokenDelayMs: 20, tokensPerSecond: 12.5, completionTokens: 5 },
    ],
    [
      'cached=10;cache-write=4;reasoning=7;dims=3',
      { cachedTokens: 10, cacheWriteTokens: 4, reasoningTokens: 7, dimensions: 3 },
    ],
    [
      'served-model=gpt-4o-2024-08-06;model=gpt-4o;path=/v1/chat',
      { servedModel: 'gpt-4o-2024-08-06', model: 'gpt-4o', path: '/v1/chat' },
    ],
    ['401', { status: 401 }],
    [';;403;;', { status: 403 }],
  ];
  it.each(valid)('parses %j', (text, expected) => {
    expect(parseFaultSpec(text)).toEqual(expected);
  });

  const invalid: [string, RegExp][] = [
    ['bogus', /unknown key "bogus"/],
    ['fault=explode', /unknown fault "explode"/],
    ['status=200', /outside 400\.\.599/],
    ['600', /outside/],
    ['tokens=-1', /expected a number/],
    ['tokens=1.5', /whole number/],
    ['latency-ms', /a value is required/],
    ['429;status=500', /given twice/],
    ['requeue=maybe', /true or false/],
    ['dims=0', /outside/],
    ['served-model=', /non-empty/],
  ];
  it.each(invalid)('rejects %j', (text, message) => {
    expect(() => parseFaultSpec(text)).toThrow(FaultSpecError);
    expect(() => parseFaultSpec(text)).toThrow(message);
  });

  it('round-trips through the canonical text form', () => {
    const spec = parseFaultSpec('retry-after-ms=200;requeue;429;times=2;cut;after=4');
    const text = formatFaultSpec(spec);
    expect(text).toBe('fault=cut;status=429;after=4;retry-after-ms=200;requeue;times=2');
    expect(parseFaultSpec(text)).toEqual(spec);
  });
});

describe('splitModelSpec', () => {
  it.each([
    ['gpt-4o', { model: 'gpt-4o', spec: null }],
    ['gpt-4o-mini#fault=429;retry-after-ms=200', { model: 'gpt-4o-mini', spec: 'fault=429;retry-after-ms=200' }],
    ['gpt-4o#', { model: 'gpt-4o', spec: null }],
    ['models/gemini#cut#x', { model: 'models/gemini', spec: 'cut#x' }],
  ])('splits %j', (model, expected) => {
    expect(splitModelSpec(model)).toEqual(expected);
  });
});

describe('normalizeFaultSpec', () => {
  it('accepts field names, grammar keys and a numeric fault', () => {
    expect(normalizeFaultSpec({ fault: 503, times: 2, 'retry-after-ms': 100 })).toEqual({
      status: 503,
      times: 2,
      retryAfterMs: 100,
    });
    expect(normalizeFaultSpec({ fault: 'cut', afterTokens: 3 })).toEqual({ fault: 'cut', afterTokens: 3 });
  });

  it.each([[{ nope: 1 }], [{ status: '5xx' }], [{ fault: 'boom' }], [[1]], [null]])('rejects %j', (value) => {
    expect(() => normalizeFaultSpec(value)).toThrow(FaultSpecError);
  });
});
