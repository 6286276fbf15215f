import { describe, expect, it } from 'vitest';
import { LineSplitter } from './line-splitter.js';

const encode = (text: string): Uint8Array => new TextEncoder().encode(text);

function split(chunks: readonly Uint8Array[], maxLineBytes?: number) {
  const lines: string[] = [];
  const raws: string[] = [];
  const overflow: number[] = [];
  const s = new LineSplitter(
    (line, raw) => {
      lines.push(new TextDecoder().decode(line));
      raws.push(new TextDecoder().decode(raw));
    },
    { maxLineBytes, onOverflow: (b) => overflow.push(b.length) },
  );
  let peak = 0;
  for (const c of chunks) {
    s.push(c);
    peak = Math.max(peak, s.bufferedBytes);
  }
  s.end();
  return { lines, raws, dropped: s.droppedLines, overflowBytes: overflow.reduce((a, b) => a + b, 0), peak };
}

describe('LineSplitter', () => {
  it('splits LF and CRLF lines, keeping the terminator only in raw', () => {
    const r = split([encode('a\r\nb\n\r\n\nc')]);
    expect(r.lines).toEqual(['a', 'b', '', '', 'c']);
    expect(r.raws).toEqual(['a\r\n', 'b\n', '\r\n', '\n', 'c']);
  });

  it('reassembles a multi-byte character split across chunks at every byte', () => {
    const bytes = encode('data: grüße 🙂 ok\n');
    for (let i = 0; i <= bytes.length; i++) {
      expect(split([bytes.subarray(0, i), bytes.subarray(i)]).lines).toEqual(['data: grüße 🙂 ok']);
    }
  });

  it('handles a CR and LF arriving in different chunks', () => {
    expect(split([encode('x\r'), encode('\ny\r'), encode('\n')]).lines).toEqual(['x', 'y']);
  });

  it('drops and counts an over-long line, holding no more than the bound', () => {
    const long = 'z'.repeat(5000);
    const chunks = [
      encode('short\n'),
      ...Array.from({ length: 50 }, () => encode(long.slice(0, 100))),
      encode('\nnext\n'),
    ];
    const r = split(chunks, 1000);
    expect(r.lines).toEqual(['short', 'next']);
    expect(r.dropped).toBe(1);
    expect(r.peak).toBeLessThanOrEqual(1000);
    expect(r.overflowBytes).toBe(5001);
  });

  it('drops an over-long line that sits wholly inside one chunk, and one cut off by end()', () => {
    expect(split([encode(`${'q'.repeat(50)}\nok\n`)], 10)).toMatchObject({ lines: ['ok'], dropped: 1 });
    expect(split([encode(`ok\n${'q'.repeat(50)}`)], 10)).toMatchObject({ lines: ['ok'], dropped: 1 });
  });
});
