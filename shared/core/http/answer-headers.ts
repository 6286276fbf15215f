import { fieldSeparator, trimHttpWhitespace, type HeaderMap } from './header-map.js';

/** A field name (RFC 9110 token) — what web `Headers` accepts. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** What may not be in a field value: what would split the header, and what is not a byte (as `Headers` refuses). */
const SPLITTING = /[\r\n\0]|[^\0-\xff]/;

/**
 * An answer's headers as two parallel arrays (lower-cased names, values): what web `Headers` does for the engine —
 * case-insensitive, repeated fields joined (`; ` for `cookie`, `, ` for others) except `set-cookie`, values
 * trimmed, names and values checked, `forEach` in name order — without its per-call objects, and with
 * {@link AnswerHeaders.flat} for the Node host's single `writeHead`. Callers see the same header block as with
 * `Headers` (ADR 0061).
 *
 * @example
 * const headers = new AnswerHeaders({ 'content-type': 'application/json' });
 * headers.set('x-gateway-request-id', requestId);
 * res.writeHead(200, headers.flat());
 */
export class AnswerHeaders implements HeaderMap {
  private names: string[] = [];
  private values: string[] = [];

  constructor(init?: Readonly<Record<string, string>>) {
    if (init !== undefined) for (const name in init) this.append(name, init[name]!);
  }

  get(name: string): string | null {
    const wanted = name.toLowerCase();
    let value: string | null = null;
    for (let i = 0; i < this.names.length; i++) {
      if (this.names[i] !== wanted) continue;
      value = value === null ? this.values[i]! : `${value}${fieldSeparator(wanted)}${this.values[i]!}`;
    }
    return value;
  }

  /** Every `set-cookie` value, in order (as web `Headers.getSetCookie`). */
  getSetCookie(): string[] {
    return this.values.filter((_, i) => this.names[i] === 'set-cookie');
  }

  has(name: string): boolean {
    return this.names.includes(name.toLowerCase());
  }

  set(name: string, value: string): void {
    const lower = checkedName(name);
    const v = checkedValue(value, name);
    const at = this.names.indexOf(lower);
    if (at < 0) {
      this.names.push(lower);
      this.values.push(v);
      return;
    }
    this.values[at] = v;
    this.removeFrom(lower, at + 1); // a set replaces every earlier set-cookie too
  }

  append(name: string, value: string): void {
    const lower = checkedName(name);
    const v = checkedValue(value, name);
    const at = lower === 'set-cookie' ? -1 : this.names.indexOf(lower);
    if (at >= 0) this.values[at] = `${this.values[at]!}${fieldSeparator(lower)}${v}`;
    else {
      this.names.push(lower);
      this.values.push(v);
    }
  }

  delete(name: string): void {
    this.removeFrom(name.toLowerCase(), 0);
  }

  forEach(callback: (value: string, name: string) => void): void {
    for (const i of this.order()) callback(this.values[i]!, this.names[i]!);
  }

  *[Symbol.iterator](): Iterator<[string, string]> {
    for (const i of this.order()) yield [this.names[i]!, this.values[i]!];
  }

  /** `[name, value, name, value, …]` in `forEach` order: the array `ServerResponse.writeHead` takes as it is. */
  flat(): string[] {
    const order = this.order();
    const out = new Array<string>(order.length * 2);
    for (let k = 0; k < order.length; k++) {
      out[k * 2] = this.names[order[k]!]!;
      out[k * 2 + 1] = this.values[order[k]!]!;
    }
    return out;
  }

  /** Indices in name order (as web `Headers` iterates), equal names in insertion order: an insertion sort. */
  private order(): number[] {
    const { names } = this;
    const order = new Array<number>(names.length);
    for (let i = 0; i < names.length; i++) {
      let j = i;
      while (j > 0 && names[order[j - 1]!]! > names[i]!) {
        order[j] = order[j - 1]!;
        j--;
      }
      order[j] = i;
    }
    return order;
  }

  private removeFrom(lower: string, start: number): void {
    for (let i = this.names.length - 1; i >= start; i--) {
      if (this.names[i] !== lower) continue;
      this.names.splice(i, 1);
      this.values.splice(i, 1);
    }
  }
}

function checkedName(name: string): string {
  if (!TOKEN.test(name)) throw new TypeError(`Invalid header name: ${JSON.stringify(name)}`);
  return name.toLowerCase();
}

/** The value trimmed of leading and trailing HTTP whitespace, refused when it would split the header. */
function checkedValue(value: string, name: string): string {
  const v = trimHttpWhitespace(value);
  if (SPLITTING.test(v)) throw new TypeError(`Invalid value for header ${name}`);
  return v;
}
