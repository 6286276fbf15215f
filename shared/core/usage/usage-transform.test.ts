import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { injectIncludeUsage } from './include-usage.js';
import { createUsageTransform, type UsageTransformOptions } from './usage-transform.js';
import type { UsageFormat } from './usage-format.js';

const fixture = (name: string): Uint8Array =>
  new Uint8Array(readFileSync(new URL(`./fixtures/${name}`, import.meta.url)));
const encode = (text: string): Uint8Array => new TextEncoder().encode(text);
const decode = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);
const CHAT: UsageFormat = { api: 'openai-chat', framing: 'sse' };

async function run(chunks: readonly Uint8Array[], options: UsageTransformOptions, format: UsageFormat = CHAT) {
  const t = createUsageTransform(format, options);
  const source = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const c of chunks) controller.enqueue(c);
      controller.close();
    },
  });
  const out: Uint8Array[] = [];
  for await (const c of source.pipeThrough(t.stream)) out.push(c);
  const bytes = Buffer.concat(out);
  return { text: decode(bytes), reading: t.finish(), stripped: t.strippedChunks, transform: t };
}

/** The fixture without its usage-only event, as the caller must see it. */
function withoutUsageChunk(text: string): string {
  return text.replace(/data: \{[^\n]*"choices":\[\],[^\n]*"usage":\{[^\n]*\n\n/, '');
}

describe('injectIncludeUsage', () => {
  it('adds stream_options.include_usage to a streaming chat request, keeping other stream_options', () => {
    const body = { model: 'gpt-4o', stream: true, stream_options: { include_obfuscation: false }, messages: [] };
    const plan = injectIncludeUsage('openai-chat', body);
    expect(plan).toEqual({
      body: {
        model: 'gpt-4o',
        stream: true,
        stream_options: { include_obfuscation: false, include_usage: true },
        messages: [],
      },
      injected: true,
      callerAsked: false,
    });
    expect(body.stream_options).toEqual({ include_obfuscation: false }); // not mutated
  });

  it('overrides an explicit include_usage: false (the gateway must meter) and injects for completions', () => {
    expect(injectIncludeUsage('openai-chat', { stream: true, stream_options: { include_usage: false } })).toMatchObject(
      {
        injected: true,
        body: { stream_options: { include_usage: true } },
      },
    );
    expect(injectIncludeUsage('openai-completions', { stream: true, prompt: 'x' }).injected).toBe(true);
  });

  it('leaves the body alone when the caller asked, when not streaming, and for other APIs', () => {
    const asked = { stream: true, stream_options: { include_usage: true } };
    expect(injectIncludeUsage('openai-chat', asked)).toEqual({ body: asked, injected: false, callerAsked: true });
    const plain = { stream: false };
    expect(injectIncludeUsage('openai-chat', plain)).toEqual({ body: plain, injected: false, callerAsked: false });
    expect(injectIncludeUsage('openai-responses', { stream: true }).injected).toBe(false);
    expect(injectIncludeUsage('anthropic-messages', { stream: true }).injected).toBe(false);
    expect(injectIncludeUsage('openai-chat', 'not an object').injected).toBe(false);
    expect(injectIncludeUsage('openai-chat', { stream: 'true' }).injected).toBe(false);
  });
});

describe('createUsageTransform', () => {
  it('strips the injected usage-only chunk from the caller stream but still meters it', async () => {
    const bytes = fixture('openai-chat-stream.sse');
    const { text, reading, stripped } = await run([bytes], { stripUsageOnlyChunk: true });
    expect(text).toBe(withoutUsageChunk(decode(bytes)));
    expect(text).not.toContain('"prompt_tokens"');
    expect(text).toContain('data: [DONE]\n\n');
    expect(stripped).toBe(1);
    expect(reading).toMatchObject({ promptTokens: 1117, completionTokens: 14, source: 'reported' });
  });

  it('passes everything through unchanged when the caller asked for usage', async () => {
    const bytes = fixture('openai-chat-stream.sse');
    const { text, reading, stripped } = await run([bytes], { stripUsageOnlyChunk: false });
    expect(text).toBe(decode(bytes));
    expect(stripped).toBe(0);
    expect(reading.totalTokens).toBe(1131);
  });

  it('leaves Azure "usage": null fields and prompt_filter_results chunks alone', async () => {
    const bytes = fixture('azure-chat-stream.sse');
    const { text, reading } = await run([bytes], { stripUsageOnlyChunk: true });
    expect(text).toBe(withoutUsageChunk(decode(bytes)));
    expect(text.match(/"usage":null/g)).toHaveLength(4);
    expect(text).toContain('"prompt_filter_results"');
    expect(reading).toMatchObject({ promptTokens: 24, completionTokens: 8 });
  });

  it('gives byte-identical output whatever the chunking, CRLF included', async () => {
    const lf = decode(fixture('openai-chat-stream.sse'));
    const crlf = encode(lf.replace(/\n/g, '\r\n'));
    const expected = withoutUsageChunk(lf).replace(/\n/g, '\r\n');
    for (let i = 0; i <= crlf.length; i += 7) {
      const { text, reading } = await run([crlf.subarray(0, i), crlf.subarray(i)], { stripUsageOnlyChunk: true });
      expect(text, `split at ${i}`).toBe(expected);
      expect(reading.promptTokens).toBe(1117);
    }
  });

  it('hands out each stripped chunk as bytes of its own, unchanged by the chunks after it', () => {
    const lf = decode(fixture('openai-chat-stream.sse'));
    const expected = withoutUsageChunk(lf);
    const t = createUsageTransform(CHAT, { stripUsageOnlyChunk: true });
    const first = t.push(encode(lf));
    const again = createUsageTransform(CHAT, { stripUsageOnlyChunk: true });
    const second = again.push(encode(lf));
    t.push(encode(lf.replace(/data: /g, 'data:  ')));
    expect(decode(first!)).toBe(expected);
    expect(decode(second!)).toBe(expected);
    expect(t.end()).toBeUndefined();
  });

  it('passes an over-long line through unbuffered while stripping', async () => {
    const long = `data: {"choices":[{"delta":{"content":"${'y'.repeat(5000)}"}}],"usage":null}\n\n`;
    const usage = 'data: {"choices":[],"usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3}}\n\n';
    const input = encode(long + usage + 'data: [DONE]\n\n');
    const chunks: Uint8Array[] = [];
    for (let i = 0; i < input.length; i += 333) chunks.push(input.subarray(i, i + 333));
    const { text, reading, transform } = await run(chunks, { stripUsageOnlyChunk: true, maxLineBytes: 1024 });
    expect(text).toBe(long + 'data: [DONE]\n\n');
    expect(transform.stats.droppedLines).toBe(1);
    expect(reading.totalTokens).toBe(3);
  });

  it('strips and meters the usage chunk in the read that ends an over-long line (model already known)', async () => {
    const first = 'data: {"model":"gpt-4o","choices":[{"delta":{"role":"assistant"}}],"usage":null}\n\n';
    const longStart = `data: {"choices":[{"delta":{"content":"${'y'.repeat(2000)}`; // no LF: passed through
    const longEnd = '"}}],"usage":null}\n\n';
    const usage = 'data: {"choices":[],"usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3}}\n\n';
    const chunks = [first, longStart, longEnd + usage + 'data: [DONE]\n\n'].map(encode);
    const { text, reading } = await run(chunks, { stripUsageOnlyChunk: true, maxLineBytes: 1024 });
    expect(text).toBe(first + longStart + longEnd + 'data: [DONE]\n\n');
    expect(reading.totalTokens).toBe(3);
  });

  it('meters JSON bodies passing through without changing them', async () => {
    const bytes = fixture('openai-chat.json');
    const { text, reading } = await run(
      [bytes],
      { stripUsageOnlyChunk: true },
      { api: 'openai-chat', framing: 'json' },
    );
    expect(text).toBe(decode(bytes));
    expect(reading.totalTokens).toBe(29);
  });

  it('still yields a reading when the stream is cut (finish without flush)', async () => {
    const t = createUsageTransform(CHAT, { stripUsageOnlyChunk: true });
    const writer = t.stream.writable.getWriter();
    const reader = t.stream.readable.getReader();
    void writer.write(fixture('legacy-chat-stream-cut.sse'));
    const first = await reader.read();
    expect(decode(first.value ?? new Uint8Array())).toContain('there was a');
    void writer.abort(new Error('backend reset'));
    expect(t.finish()).toMatchObject({ source: 'none', servedModel: 'gpt-35-turbo' });
  });
});
