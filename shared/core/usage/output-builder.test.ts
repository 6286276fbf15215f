import { describe, expect, it } from 'vitest';
import { OutputBuilder } from './output-builder.js';

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
const text = (b: Uint8Array | undefined): string | undefined =>
  b === undefined ? undefined : new TextDecoder().decode(b);

describe('OutputBuilder', () => {
  it('takes nothing when nothing was written', () => {
    const out = new OutputBuilder();
    expect(out.empty).toBe(true);
    expect(out.take()).toBeUndefined();
  });

  it('gathers what was written into one copy, then starts over', () => {
    const out = new OutputBuilder();
    const line = bytes('data: 1\n');
    out.write(line);
    out.write(bytes('\n'));
    line.fill(0);
    expect(out.empty).toBe(false);
    expect(text(out.take())).toBe('data: 1\n\n');
    expect(out.empty).toBe(true);
    out.write(bytes('data: 2\n'));
    expect(text(out.take())).toBe('data: 2\n');
  });

  it('grows past its first buffer for a long chunk', () => {
    const out = new OutputBuilder();
    const long = 'x'.repeat(5_000);
    out.write(bytes('a'));
    out.write(bytes(long));
    expect(text(out.take())).toBe(`a${long}`);
  });

  it('hands out a buffer reserved to the byte as it is, and never writes to it again', () => {
    const out = new OutputBuilder();
    out.reserve(9);
    out.write(bytes('data: 1\n'));
    out.write(bytes('\n'));
    const first = out.take();
    expect(text(first)).toBe('data: 1\n\n');
    expect(first!.byteLength).toBe(first!.buffer.byteLength); // the builder's own buffer, no copy of it
    out.write(bytes('data: 2\n'));
    expect(text(out.take())).toBe('data: 2\n');
    expect(text(first)).toBe('data: 1\n\n');
  });

  it('grows past a reserved room when more is written', () => {
    const out = new OutputBuilder();
    out.reserve(2);
    out.write(bytes('ab'));
    out.write(bytes('cd'));
    expect(text(out.take())).toBe('abcd');
  });
});
