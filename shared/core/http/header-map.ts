/**
 * The header collections the engine reads and writes. Web `Headers` satisfies both interfaces (the Functions host and
 * tests pass a web `Request`'s headers); the Node host passes `RawRequestHeaders` over the socket's raw header
 * array, and the engine's answers use `AnswerHeaders`, which the host writes in one `writeHead` — both without
 * the per-call validation, sorting and copies of the bundled undici `Headers` (ADR 0061).
 */

/**
 * How repeated fields of a name read as one: `; ` for `cookie` (RFC 9113 §8.2.3 — the pairs of one cookie list),
 * `, ` for every other name (RFC 9110 §5.3), as web `Headers` joins them. `name` is lower-cased.
 */
export function fieldSeparator(name: string): string {
  return name === 'cookie' ? '; ' : ', ';
}

/** Strips leading and trailing HTTP whitespace (as `Headers` normalises a value); the same string when none. */
export function trimHttpWhitespace(value: string): string {
  if (value.length === 0) return value;
  const first = value.charCodeAt(0);
  const last = value.charCodeAt(value.length - 1);
  return isHttpWhitespace(first) || isHttpWhitespace(last) ? value.replace(/^[\t\n\r ]+|[\t\n\r ]+$/g, '') : value;
}

function isHttpWhitespace(code: number): boolean {
  return code === 0x20 || code === 0x09 || code === 0x0a || code === 0x0d;
}

/**
 * What the engine reads of a request's headers. Names are case-insensitive; repeated fields read joined (by
 * {@link fieldSeparator}).
 */
export interface HeaderReader {
  get(name: string): string | null;
  has(name: string): boolean;
  /** Every field once, lower-cased name, repeated fields joined (`set-cookie` one call per value). */
  forEach(callback: (value: string, name: string) => void): void;
}

/** A header collection the engine also writes (an answer's headers). */
export interface HeaderMap extends HeaderReader {
  set(name: string, value: string): void;
  append(name: string, value: string): void;
  delete(name: string): void;
  /** `[name, value]` pairs as `forEach` gives them (so a web `Response` can be built from it). */
  [Symbol.iterator](): Iterator<[string, string]>;
}
