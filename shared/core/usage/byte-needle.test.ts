import { Buffer } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import { ByteNeedle } from './byte-needle.js';

const chunk = (n: number): string =>
  `data: {"id":"c","object":"chat.completion.chunk","choices":[{"delta":{"content":"t${n}"}}],"usage":null}\n\n`;

describe('ByteNeedle', () => {
  it('answers what Buffer#indexOf answers, from every start, for every skip', () => {
    const subject = Buffer.from(
      `${chunk(1)}"usag "usage"usage "usage":{"prompt_tokens":1}}${chunk(2)}"err"error "error":{}` +
        `"error"x"errorerror"`,
      'latin1',
    );
    for (const text of ['"usage', '"error"', '"usage":{', 'error"', '"']) {
      const whole = Buffer.from(text, 'latin1');
      for (let skip = 0; skip < whole.length; skip++) {
        const needle = new ByteNeedle(text, skip);
        for (let from = -subject.length - 2; from <= subject.length + 1; from++) {
          expect(needle.indexIn(subject, from), `${text} skip ${skip} from ${from}`).toBe(subject.indexOf(whole, from));
        }
      }
    }
  });

  it('finds a needle at the very start and at the very end, and nothing in an empty subject', () => {
    const needle = new ByteNeedle('"error"', 2);
    expect(needle.indexIn(Buffer.from('"error"'))).toBe(0);
    expect(needle.indexIn(Buffer.from('xx"error"'))).toBe(2);
    expect(needle.indexIn(Buffer.from('rror"'))).toBe(-1);
    expect(needle.indexIn(Buffer.alloc(0))).toBe(-1);
  });

  it('answers as Buffer#indexOf on a view inside a larger buffer, and for a key that is not ASCII', () => {
    // The byte before the view is the needle's quote: a search that read outside the view would find `usage` there.
    const pool = Buffer.from('xx"usage":1,"usage":2}');
    const view = pool.subarray(3);
    expect(new ByteNeedle('"usage', 1).indexIn(view)).toBe(view.indexOf('"usage'));
    expect(new ByteNeedle('"usage', 1).indexIn(view)).toBe(9);
    const utf8 = Buffer.from('{"prix":1,"é":2}');
    expect(new ByteNeedle('"é"', 1).indexIn(utf8)).toBe(utf8.indexOf(Buffer.from('"é"')));
    expect(new ByteNeedle('"é"', 1).indexIn(utf8)).toBe(10);
  });

  it('refuses a skip that leaves nothing to search for', () => {
    expect(() => new ByteNeedle('"usage', 6)).toThrow(RangeError);
    expect(() => new ByteNeedle('"usage', -1)).toThrow(RangeError);
  });
});
