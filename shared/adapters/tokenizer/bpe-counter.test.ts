import { createRequire } from 'node:module';
import { Tiktoken, type TiktokenBPE } from 'js-tiktoken/lite';
import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../../../test/support/seeded-random.js';
import { BpeCounter } from './bpe-counter.js';

const require = createRequire(import.meta.url);

/** Fixed texts that exercise the split pattern's branches, then seeded random mixes of scripts and marks. */
function texts(): string[] {
  const fixed = [
    '',
    'Hello, world!',
    'before <|endoftext|> after <|endofprompt|>',
    '   leading  and trailing   \n\n\r\n x',
    'Numbers 1234567890 3.14159 1e10',
    'Ünïcödé ß ﬁ 日本語のテキスト 한국어 текст',
    '😀👍🏽 emoji 🇫🇷',
    'lone \ud800 surrogate',
    "it's don't I'LL we'Re",
    'a'.repeat(1_000),
    '\t\tcode(){ return x => x*2; }\n',
    'https://example.com/a?b=c&d=e#f',
  ];
  const alphabet = [...'abcdefghij KLMNOP 0123 .,;:!?\'"\n\t-_()[]{}éüß日本😀\u0301'];
  const draw = mulberry32(7);
  const next = (n: number): number => Math.floor(draw() * n);
  const random = Array.from({ length: 200 }, () =>
    Array.from({ length: next(200) }, () => alphabet[next(alphabet.length)]).join(''),
  );
  // Long pieces of the split pattern (one word, one run of spaces or digits, one run of emoji): merged from a heap,
  // not by scanning (byte-pair-merge.ts), and as many ties of equal rank as a piece can hold.
  const letters = [...'abcdeéüßxyz'];
  const long = [
    'é'.repeat(3_000),
    'ab'.repeat(1_500),
    ' '.repeat(2_000) + 'x',
    '😀'.repeat(700),
    '7'.repeat(2_000),
    ...Array.from({ length: 30 }, () => Array.from({ length: 50 + next(600) }, () => letters[next(11)]).join('')),
  ];
  return [...fixed, ...random, ...long];
}

describe('BpeCounter', () => {
  for (const name of ['o200k_base', 'cl100k_base']) {
    it(`counts what js-tiktoken's encoder counts (${name}, special-token markers as text)`, () => {
      const ranks = require(`js-tiktoken/ranks/${name}`) as TiktokenBPE;
      const reference = new Tiktoken(ranks);
      const counter = new BpeCounter(ranks);
      for (const text of texts()) expect(counter.count(text), text).toBe(reference.encode(text, [], []).length);
    });
  }
});
