import { fieldSeparator, trimHttpWhitespace, type HeaderReader } from './header-map.js';

/**
 * A request's headers over Node's `rawHeaders` (`[name, value, name, value, …]`, names as the caller cased them),
 * read in place: no copy, no validation (node:http's parser refused malformed fields; the engine's
 * `checkHeaderValues` judges values), fields in the order the caller sent them.
 *
 * @example
 * const headers = new RawRequestHeaders(req.rawHeaders);
 * headers.get('Content-Type'); // 'application/json'
 */
export class RawRequestHeaders implements HeaderReader {
  private readonly names: string[];

  constructor(private readonly raw: readonly string[]) {
    const names = new Array<string>(raw.length >> 1);
    // toLowerCase returns the same string when it is lower-case already (most clients' names): no copy then.
    for (let i = 0; i < names.length; i++) names[i] = raw[i * 2]!.toLowerCase();
    this.names = names;
  }

  get(name: string): string | null {
    const wanted = name.toLowerCase();
    const { names, raw } = this;
    let value: string | null = null;
    for (let i = 0; i < names.length; i++) {
      if (names[i] !== wanted) continue;
      const v = trimHttpWhitespace(raw[i * 2 + 1]!);
      value = value === null ? v : `${value}${fieldSeparator(wanted)}${v}`;
    }
    return value;
  }

  has(name: string): boolean {
    return this.names.includes(name.toLowerCase());
  }

  forEach(callback: (value: string, name: string) => void): void {
    const { names, raw } = this;
    // A few fields, none repeated (almost every request): each as it came, without the maps below.
    if (names.length <= FEW_FIELDS && !hasRepeat(names)) {
      for (let i = 0; i < names.length; i++) callback(trimHttpWhitespace(raw[i * 2 + 1]!), names[i]!);
      return;
    }
    // A repeated field is given once, at its first place, joined (as web Headers gives it): one pass to join,
    // linear in the number of fields however many repeat (a request may carry thousands).
    const first = new Map<string, number>();
    const joined = new Map<string, string>();
    for (let i = 0; i < names.length; i++) {
      const name = names[i]!;
      if (name === 'set-cookie') continue;
      const at = first.get(name);
      if (at === undefined) first.set(name, i);
      else {
        const before = joined.get(name) ?? trimHttpWhitespace(raw[at * 2 + 1]!);
        joined.set(name, `${before}${fieldSeparator(name)}${trimHttpWhitespace(raw[i * 2 + 1]!)}`);
      }
    }
    for (let i = 0; i < names.length; i++) {
      const name = names[i]!;
      if (name === 'set-cookie') callback(trimHttpWhitespace(raw[i * 2 + 1]!), name);
      else if (first.get(name) === i) callback(joined.get(name) ?? trimHttpWhitespace(raw[i * 2 + 1]!), name);
    }
  }
}

/** Up to this many fields, repeats are found by comparing every pair (at most 496 comparisons, no allocation). */
const FEW_FIELDS = 32;

function hasRepeat(names: readonly string[]): boolean {
  for (let i = 1; i < names.length; i++) for (let j = 0; j < i; j++) if (names[i] === names[j]) return true;
  return false;
}
