import { describe, expect, it } from 'vitest';
import { AnswerHeaders } from './answer-headers.js';
import type { HeaderMap, HeaderReader } from './header-map.js';
import { RawRequestHeaders } from './raw-request-headers.js';

/** A small deterministic generator (no Math.random: a failure must replay). */
function generator(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

const NAMES = [
  'Content-Type',
  'content-type',
  'X-Trace',
  'accept',
  'Set-Cookie',
  'Cookie',
  'x-a',
  'X-B',
  'authorization',
  'b',
];
const VALUES = ['a', ' padded\t', 'x, y', '', 'Bearer k', 'é'];

/** Random raw header arrays: mixed-case and repeated names, padded and empty values. */
function rawLists(count: number): string[][] {
  const random = generator(7);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
  return Array.from({ length: count }, () => {
    const raw: string[] = [];
    for (let n = Math.floor(random() * 8); n > 0; n--) raw.push(pick(NAMES), pick(VALUES));
    return raw;
  });
}

function webHeaders(raw: readonly string[]): Headers {
  const headers = new Headers();
  for (let i = 0; i < raw.length; i += 2) headers.append(raw[i]!, raw[i + 1]!);
  return headers;
}

function pairs(headers: HeaderReader): [string, string][] {
  const out: [string, string][] = [];
  headers.forEach((value, name) => out.push([name, value]));
  return out;
}

describe('RawRequestHeaders', () => {
  it('reads what web Headers reads from the same raw fields (fields in the order they came)', () => {
    for (const raw of rawLists(300)) {
      const web = webHeaders(raw);
      const ours = new RawRequestHeaders(raw);
      for (const name of [...NAMES, 'missing']) {
        expect(ours.get(name)).toBe(web.get(name));
        expect(ours.has(name)).toBe(web.has(name));
      }
      const sorted = pairs(ours).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      expect(sorted).toEqual(pairs(web));
    }
  });

  it('gives a repeated field once, joined, at its first place (cookie pairs by "; ")', () => {
    const ours = new RawRequestHeaders(['X-B', '1', 'Cookie', 'a=1', 'Accept', 'a', 'x-b', '2', 'cookie', 'b=2']);
    expect(pairs(ours)).toEqual([
      ['x-b', '1, 2'],
      ['cookie', 'a=1; b=2'],
      ['accept', 'a'],
    ]);
    expect(ours.get('cookie')).toBe(
      new Headers([
        ['cookie', 'a=1'],
        ['cookie', 'b=2'],
      ]).get('cookie'),
    );
  });
});

describe('AnswerHeaders', () => {
  /** Applies the same random set/append/delete sequence to both. */
  function exercise(a: HeaderMap, b: HeaderMap, raw: readonly string[], seed: number): void {
    const random = generator(seed);
    for (let i = 0; i < raw.length; i += 2) {
      const op = random();
      if (op < 0.4) [a, b].forEach((h) => h.append(raw[i]!, raw[i + 1]!));
      else if (op < 0.8) [a, b].forEach((h) => h.set(raw[i]!, raw[i + 1]!));
      else [a, b].forEach((h) => h.delete(raw[i]!));
    }
  }

  it('behaves as web Headers under any sequence of set, append and delete, in the same order', () => {
    for (const [k, raw] of rawLists(300).entries()) {
      const web = new Headers();
      const ours = new AnswerHeaders();
      exercise(web, ours, raw, k + 1);
      expect(pairs(ours)).toEqual(pairs(web));
      expect([...ours]).toEqual([...web]);
      expect(ours.getSetCookie()).toEqual(web.getSetCookie());
      for (const name of [...NAMES, 'missing']) {
        expect(ours.get(name)).toBe(web.get(name));
        expect(ours.has(name)).toBe(web.has(name));
      }
      expect(ours.flat()).toEqual(pairs(web).flat());
    }
  });

  it('replaces every set-cookie line on a set after appends, as Headers does', () => {
    const [web, ours] = [new Headers(), new AnswerHeaders()];
    for (const h of [web, ours]) {
      h.append('set-cookie', 'a=1');
      h.append('set-cookie', 'b=2');
      h.append('cookie', 'c=3');
      h.append('cookie', 'd=4');
      h.set('set-cookie', 'e=5');
    }
    expect(ours.getSetCookie()).toEqual(['e=5']);
    expect([...ours]).toEqual([...web]);
    expect(ours.get('cookie')).toBe('c=3; d=4');
  });

  it('takes a record as Headers does, and refuses what Headers refuses', () => {
    const init = { 'Content-Type': 'application/json', 'x-gateway-request-id': 'r1' };
    expect([...new AnswerHeaders(init)]).toEqual([...new Headers(init)]);
    for (const [name, value] of [
      ['bad name', 'v'],
      ['x-a', 'a\r\nx-injected: 1'],
      ['x-a', 'nul\0'],
      ['x-a', 'wide ☃'],
      ['', 'v'],
    ] as const) {
      expect(() => new Headers().set(name, value)).toThrow(TypeError);
      expect(() => new AnswerHeaders().set(name, value)).toThrow(TypeError);
      expect(() => new AnswerHeaders().append(name, value)).toThrow(TypeError);
    }
  });

  it('builds a web Response with the same header block', async () => {
    const { toWebResponse } = await import('./gateway-request.js');
    const headers = new AnswerHeaders({ 'content-type': 'text/plain' });
    headers.append('set-cookie', 'a=1');
    headers.append('set-cookie', 'b=2');
    const response = toWebResponse({ status: 200, headers, body: null });
    expect([...response.headers]).toEqual([...headers]);
  });
});
