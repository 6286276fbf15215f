import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createHeuristicTokenEstimator } from './heuristic-token-estimator.js';
import { createUsageTap, type UsageTapOptions } from './usage-tap.js';
import type { UsageFormat } from './usage-format.js';
import type { UsageReading } from './usage-reading.js';
import { mulberry32 } from '../../../test/support/seeded-random.js';

const fixture = (name: string): Uint8Array =>
  new Uint8Array(readFileSync(new URL(`./fixtures/${name}`, import.meta.url)));
const encode = (text: string): Uint8Array => new TextEncoder().encode(text);
const decode = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);

function reported(fields: Partial<UsageReading>): UsageReading {
  return {
    promptTokens: 0,
    completionTokens: 0,
    totalTokens: 0,
    cachedInputTokens: 0,
    cacheCreationTokens: 0,
    reasoningTokens: 0,
    servedModel: null,
    source: 'reported',
    promptSource: 'reported',
    completionSource: 'reported',
    ...fields,
  };
}

function meter(format: UsageFormat, chunks: readonly Uint8Array[], options: UsageTapOptions = {}): UsageReading {
  const tap = createUsageTap(format, options);
  for (const c of chunks) tap.observe(c);
  return tap.finish();
}

function randomSplits(bytes: Uint8Array, random: () => number, maxPieces: number): Uint8Array[] {
  const cuts = new Set<number>();
  const n = 1 + Math.floor(random() * maxPieces);
  for (let i = 0; i < n; i++) cuts.add(Math.floor(random() * (bytes.length + 1)));
  const sorted = [...cuts].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const c of sorted) {
    out.push(bytes.subarray(prev, c));
    prev = c;
  }
  out.push(bytes.subarray(prev));
  return out;
}

const SSE = (api: UsageFormat['api']): UsageFormat => ({ api, framing: 'sse' });
const JSON_ = (api: UsageFormat['api']): UsageFormat => ({ api, framing: 'json' });

const GOLDEN: { name: string; file: string; format: UsageFormat; expected: UsageReading }[] = [
  {
    name: 'OpenAI chat stream with include_usage',
    file: 'openai-chat-stream.sse',
    format: SSE('openai-chat'),
    expected: reported({
      promptTokens: 1117,
      completionTokens: 14,
      totalTokens: 1131,
      cachedInputTokens: 1024,
      servedModel: 'gpt-4o-2024-08-06',
    }),
  },
  {
    name: 'Azure OpenAI chat stream (usage:null chunks, prompt_filter_results first)',
    file: 'azure-chat-stream.sse',
    format: SSE('openai-chat'),
    expected: reported({
      promptTokens: 24,
      completionTokens: 8,
      totalTokens: 32,
      servedModel: 'gpt-4o-mini-2024-07-18',
    }),
  },
  {
    name: 'OpenAI completions stream',
    file: 'openai-completions-stream.sse',
    format: SSE('openai-completions'),
    expected: reported({
      promptTokens: 5,
      completionTokens: 7,
      totalTokens: 12,
      servedModel: 'gpt-3.5-turbo-instruct',
    }),
  },
  {
    name: 'OpenAI responses stream (response.completed)',
    file: 'openai-responses-stream.sse',
    format: SSE('openai-responses'),
    expected: reported({
      promptTokens: 37,
      completionTokens: 139,
      totalTokens: 176,
      reasoningTokens: 128,
      servedModel: 'o4-mini-2025-04-16',
    }),
  },
  {
    name: 'Anthropic messages stream (message_start + message_delta, cache read and write)',
    file: 'anthropic-messages-stream.sse',
    format: SSE('anthropic-messages'),
    expected: reported({
      promptTokens: 25 + 3000 + 1200,
      completionTokens: 15,
      totalTokens: 4240,
      cachedInputTokens: 3000,
      cacheCreationTokens: 1200,
      servedModel: 'claude-sonnet-4-20250514',
    }),
  },
  {
    name: 'Gemini SSE stream (alt=sse, CRLF, cumulative usageMetadata, thoughts)',
    file: 'gemini-stream.sse',
    format: SSE('gemini'),
    expected: reported({
      promptTokens: 9,
      completionTokens: 46,
      totalTokens: 55,
      cachedInputTokens: 4,
      reasoningTokens: 35,
      servedModel: 'gemini-2.5-flash',
    }),
  },
  {
    name: 'Gemini streamed JSON array (no alt=sse)',
    file: 'gemini-stream-array.json',
    format: JSON_('gemini'),
    expected: reported({ promptTokens: 12, completionTokens: 18, totalTokens: 30, servedModel: 'gemini-1.5-pro-002' }),
  },
  {
    name: 'OpenAI chat JSON',
    file: 'openai-chat.json',
    format: JSON_('openai-chat'),
    expected: reported({ promptTokens: 19, completionTokens: 10, totalTokens: 29, servedModel: 'gpt-4.1-2025-04-14' }),
  },
  {
    name: 'OpenAI responses JSON',
    file: 'openai-responses.json',
    format: JSON_('openai-responses'),
    expected: reported({
      promptTokens: 328,
      completionTokens: 52,
      totalTokens: 380,
      cachedInputTokens: 128,
      servedModel: 'gpt-4o-2024-08-06',
    }),
  },
  {
    name: 'Anthropic messages JSON',
    file: 'anthropic-messages.json',
    format: JSON_('anthropic-messages'),
    expected: reported({
      promptTokens: 12095,
      completionTokens: 503,
      totalTokens: 12598,
      cachedInputTokens: 10000,
      servedModel: 'claude-3-5-haiku-20241022',
    }),
  },
  {
    name: 'Gemini JSON',
    file: 'gemini.json',
    format: JSON_('gemini'),
    expected: reported({ promptTokens: 8, completionTokens: 7, totalTokens: 15, servedModel: 'gemini-2.0-flash' }),
  },
];

describe('createUsageTap — golden transcripts', () => {
  for (const g of GOLDEN) {
    describe(g.name, () => {
      const bytes = fixture(g.file);

      it('reads the reported usage from the whole body', () => {
        expect(meter(g.format, [bytes])).toEqual(g.expected);
      });

      it('reads the same usage when split at every byte boundary', () => {
        for (let i = 0; i <= bytes.length; i++) {
          expect(meter(g.format, [bytes.subarray(0, i), bytes.subarray(i)]), `split at ${i}`).toEqual(g.expected);
        }
      });

      it('reads the same usage under random multi-splits and one-byte chunks', () => {
        const random = mulberry32(g.file.length);
        for (let round = 0; round < 200; round++) {
          expect(meter(g.format, randomSplits(bytes, random, 40))).toEqual(g.expected);
        }
        expect(
          meter(
            g.format,
            Array.from(bytes, (b) => Uint8Array.of(b)),
          ),
        ).toEqual(g.expected);
      });

      it('gives reported figures even with an estimator present (estimates never replace reports)', () => {
        const r = meter(g.format, [bytes], {
          estimator: createHeuristicTokenEstimator(),
          estimatePromptTokens: () => 999_999,
        });
        expect(r).toEqual(g.expected);
      });

      if (g.format.framing === 'sse') {
        it('reads the same usage with CRLF endings, comments and keep-alive lines', () => {
          const text = decode(bytes).replace(/\r\n/g, '\n');
          const noisy = `: connected\n\n${text.replace(/\n\n/g, '\n\n: keep-alive\n\n\n')}`.replace(/\n/g, '\r\n');
          const noisyBytes = encode(noisy);
          expect(meter(g.format, [noisyBytes])).toEqual(g.expected);
          const random = mulberry32(7);
          for (let round = 0; round < 50; round++)
            expect(meter(g.format, randomSplits(noisyBytes, random, 30))).toEqual(g.expected);
        });
      }
    });
  }
});

describe('createUsageTap — behaviour', () => {
  it('uses the last non-null usage, not the first line mentioning usage (seed bug §2.20)', () => {
    const r = meter(SSE('openai-chat'), [fixture('azure-chat-stream.sse')]);
    expect(r.promptTokens).toBe(24);
    expect(r.completionTokens).toBe(8);
  });

  it('lets a later usage object overwrite an earlier one', () => {
    const body = encode(
      'data: {"choices":[],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}\n\n' +
        'data: {"choices":[],"usage":{"prompt_tokens":10,"completion_tokens":20,"total_tokens":30}}\n\n',
    );
    expect(meter(SSE('openai-chat'), [body])).toMatchObject({
      promptTokens: 10,
      completionTokens: 20,
      totalTokens: 30,
    });
  });

  it('estimates a cut stream without usage from the streamed text and the request prompt', () => {
    const estimator = createHeuristicTokenEstimator();
    const r = meter(SSE('openai-chat'), [fixture('legacy-chat-stream-cut.sse')], {
      estimator,
      estimatePromptTokens: () => 42,
    });
    const text = 'Once upon a time, there was a "gateway"\nthat';
    expect(r).toEqual({
      promptTokens: 42,
      completionTokens: Math.ceil(text.length / 4),
      totalTokens: 42 + Math.ceil(text.length / 4),
      cachedInputTokens: 0,
      cacheCreationTokens: 0,
      reasoningTokens: 0,
      servedModel: 'gpt-35-turbo',
      source: 'estimated',
      promptSource: 'estimated',
      completionSource: 'estimated',
    });
  });

  it('flags a reading as partial when the prompt is reported but the completion is estimated', () => {
    const full = decode(fixture('anthropic-messages-stream.sse'));
    const cut = full.slice(0, full.indexOf('event: content_block_stop'));
    const r = meter(SSE('anthropic-messages'), [encode(cut)], { estimator: createHeuristicTokenEstimator() });
    expect(r.promptTokens).toBe(4225);
    expect(r.promptSource).toBe('reported');
    expect(r.completionSource).toBe('estimated');
    expect(r.completionTokens).toBe(Math.ceil('Hello! How can I help?'.length / 4));
    expect(r.source).toBe('partial');
  });

  it('reports source none without an estimator, and never estimates when asked not to', () => {
    const cut = fixture('legacy-chat-stream-cut.sse');
    expect(meter(SSE('openai-chat'), [cut])).toMatchObject({ source: 'none', promptTokens: 0, completionTokens: 0 });
    const tap = createUsageTap(SSE('openai-chat'), {
      estimator: createHeuristicTokenEstimator(),
      estimatePromptTokens: () => 5,
    });
    tap.observe(cut);
    expect(tap.finish({ estimate: false })).toMatchObject({ source: 'none', totalTokens: 0 });
    expect(tap.finish()).toMatchObject({ source: 'none' }); // idempotent
  });

  it('calls the prompt estimate lazily, only when the prompt is not reported', () => {
    let calls = 0;
    meter(SSE('openai-chat'), [fixture('openai-chat-stream.sse')], { estimatePromptTokens: () => ++calls });
    expect(calls).toBe(0);
  });

  it('counts streamed text in bounded batches (long stream, small text bound)', () => {
    let counted = 0;
    const estimator = { countText: (t: string) => ((counted += t.length), Math.ceil(t.length / 4)) };
    const tap = createUsageTap(SSE('openai-chat'), {
      estimator,
      maxEstimateTextChars: 100,
      maxEstimateRetainBytes: 1024,
    });
    for (let i = 0; i < 1000; i++) tap.observe(encode(`data: {"choices":[{"delta":{"content":"abcd"}}]}\n\n`));
    expect(counted).toBeGreaterThanOrEqual(3900); // drained along the way, not held
    expect(tap.finish()).toMatchObject({ completionTokens: 1000, completionSource: 'estimated' });
  });

  it('estimates from exactly the text streamed, in order, from lines kept as their differences', () => {
    const seen: string[] = [];
    const estimator = { countText: (t: string) => (seen.push(t), t.length) };
    const tap = createUsageTap(SSE('openai-chat'), { estimator, maxEstimateRetainBytes: 4096 });
    const tokens = Array.from({ length: 500 }, (_, i) =>
      i % 7 === 0 ? ` w\\"${i}` : ` word${i % 13}${'é'.repeat(i % 3)}`,
    );
    for (const token of tokens) {
      const chunk = { id: 'c1', object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content: token } }] };
      tap.observe(encode(`data: ${JSON.stringify(chunk)}\n\n`));
    }
    const expected = tokens.join('');
    expect(tap.finish()).toMatchObject({ completionTokens: expected.length, completionSource: 'estimated' });
    expect(seen.join('')).toBe(expected);
  });

  it('never runs the estimator on a short stream whose usage is reported', () => {
    let calls = 0;
    const estimator = { countText: () => ++calls };
    expect(meter(SSE('openai-chat'), [fixture('openai-chat-stream.sse')], { estimator }).source).toBe('reported');
    expect(meter(SSE('anthropic-messages'), [fixture('anthropic-messages-stream.sse')], { estimator }).source).toBe(
      'reported',
    );
    expect(calls).toBe(0);
  });

  it('drops an over-long line, counts it, and keeps only the bound in memory', () => {
    const tap = createUsageTap(SSE('openai-chat'), { maxLineBytes: 1024 });
    const huge = encode(`data: {"choices":[{"delta":{"content":"${'x'.repeat(10_000)}"}}]}\n\n`);
    for (let i = 0; i < huge.length; i += 100) tap.observe(huge.subarray(i, i + 100));
    tap.observe(fixture('openai-chat-stream.sse'));
    const r = tap.finish();
    expect(tap.stats.droppedLines).toBe(1);
    expect(r.promptTokens).toBe(1117);
  });

  it('meters a huge embeddings body with bounded memory (head and tail only)', () => {
    const tap = createUsageTap(JSON_('openai-embeddings'), {
      maxWholeJsonBytes: 256 * 1024,
      jsonHeadBytes: 4096,
      jsonTailBytes: 16 * 1024,
    });
    const vector = Array.from({ length: 1536 }, (_, i) => (Math.sin(i) * 0.05).toFixed(9)).join(',');
    tap.observe(encode('{\n  "object": "list",\n  "data": [\n'));
    const items = 400; // ~8 MB of floats
    let total = 0;
    for (let i = 0; i < items; i++) {
      const piece = encode(
        `    {"object": "embedding", "index": ${i}, "embedding": [${vector}]}${i < items - 1 ? ',' : ''}\n`,
      );
      total += piece.length;
      for (let j = 0; j < piece.length; j += 65_536) tap.observe(piece.subarray(j, j + 65_536));
    }
    tap.observe(
      encode(
        '  ],\n  "model": "text-embedding-3-small",\n  "usage": {\n  ' +
          '  "prompt_tokens": 2400,\n    "total_tokens": 2400\n  }\n}\n',
      ),
    );
    expect(total).toBeGreaterThan(7_000_000);
    expect(tap.finish()).toEqual(
      reported({ promptTokens: 2400, completionTokens: 0, totalTokens: 2400, servedModel: 'text-embedding-3-small' }),
    );
  });

  it('keeps JSON memory within max(whole, head + tail) at every step', async () => {
    const { JsonUsageMeter } = await import('./json-usage-meter.js');
    const m = new JsonUsageMeter('openai-embeddings', { maxWholeBytes: 10_000, headBytes: 1000, tailBytes: 2000 });
    let peak = 0;
    for (let i = 0; i < 2000; i++) {
      m.push(encode(`${i},`.padEnd(37, ' ')));
      peak = Math.max(peak, m.heldBytes);
    }
    expect(peak).toBeLessThanOrEqual(10_000 + 37);
    expect(m.heldBytes).toBeLessThanOrEqual(1000 + 2000 + 37);
  });

  it('is not fooled by "usage" inside strings when scanning a large JSON tail', () => {
    const body = encode(
      `{"model":"gpt-4o","choices":[{"message":{"content":"${'pad '.repeat(3000)} ` +
        `say \\"usage\\": {\\"prompt_tokens\\": 1}"}}],` +
        `"usage":{"prompt_tokens":7,"completion_tokens":3000,"total_tokens":3007}}`,
    );
    const r = meter(JSON_('openai-chat'), [body], { maxWholeJsonBytes: 1024, jsonHeadBytes: 256, jsonTailBytes: 512 });
    expect(r).toMatchObject({
      promptTokens: 7,
      completionTokens: 3000,
      totalTokens: 3007,
      servedModel: 'gpt-4o',
      source: 'reported',
    });
  });

  it('estimates a non-streamed body without usage from its text', () => {
    const body = encode('{"model":"gpt-35-turbo","choices":[{"message":{"role":"assistant","content":"12345678"}}]}');
    const r = meter(JSON_('openai-chat'), [body], {
      estimator: createHeuristicTokenEstimator(),
      estimatePromptTokens: () => 3,
    });
    expect(r).toMatchObject({
      promptTokens: 3,
      completionTokens: 2,
      totalTokens: 5,
      source: 'estimated',
      servedModel: 'gpt-35-turbo',
    });
  });

  it('still reads an answer whose text is nested deeper than the stack allows, without an estimate for it', () => {
    // JSON.parse takes 20,000 levels; gathering the text of `content` recursively would overflow the stack.
    const deep = '['.repeat(20_000) + '"x"' + ']'.repeat(20_000);
    const body = encode(`{"model":"gpt-4o","choices":[{"message":{"role":"assistant","content":${deep}}}]}`);
    const r = meter(JSON_('openai-chat'), [body], {
      estimator: createHeuristicTokenEstimator(),
      estimatePromptTokens: () => 3,
    });
    expect(r).toMatchObject({ promptTokens: 3, completionTokens: 0, servedModel: 'gpt-4o' });
    expect(r.completionSource).not.toBe('reported');
  });

  it('reads usage from a body cut mid-document', () => {
    const full = decode(fixture('gemini-stream-array.json'));
    const cut = full.slice(0, full.lastIndexOf('"modelVersion"'));
    expect(meter(JSON_('gemini'), [encode(cut)])).toMatchObject({
      promptTokens: 12,
      completionTokens: 18,
      source: 'reported',
    });
  });

  it('copies what it keeps, so a producer reusing its Buffer chunks cannot corrupt the reading', () => {
    for (const [file, format] of [
      ['gemini-stream.sse', SSE('gemini')],
      ['openai-chat.json', JSON_('openai-chat')],
    ] as const) {
      const bytes = fixture(file);
      const tap = createUsageTap(format);
      const scratch = Buffer.alloc(64);
      for (let i = 0; i < bytes.length; i += 64) {
        const n = bytes.subarray(i, i + 64).length;
        scratch.set(bytes.subarray(i, i + 64));
        tap.observe(scratch.subarray(0, n));
        scratch.fill(0x20);
      }
      expect(tap.finish().source, file).toBe('reported');
    }
  });

  it('meters an unknown API from any standard usage object', () => {
    expect(meter({ api: 'unknown', framing: 'json' }, [fixture('openai-chat.json')])).toMatchObject({
      promptTokens: 19,
      completionTokens: 10,
    });
  });
});
