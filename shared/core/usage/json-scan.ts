import { Buffer } from 'node:buffer';
import { ByteNeedle } from './byte-needle.js';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const OPEN_BRACE = 0x7b;

/** A zero-copy Buffer view of a byte array, for native `indexOf` on multi-byte needles. */
export function bufferView(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function isSpace(byte: number | undefined): boolean {
  return byte === 0x20 || byte === 0x09 || byte === 0x0a || byte === 0x0d;
}

/**
 * Index just past `:` + whitespace after a JSON key needle found at `at` (needle = `"key"`), or -1 when
 * what follows is not `:`. The needle must not be escaped (a key never follows a backslash).
 */
function afterColon(bytes: Uint8Array, at: number, needleLength: number): number {
  if (at > 0 && bytes[at - 1] === BACKSLASH) return -1;
  let i = at + needleLength;
  while (isSpace(bytes[i])) i++;
  if (bytes[i] !== COLON) return -1;
  i++;
  while (isSpace(bytes[i])) i++;
  return i;
}

/**
 * True when `bytes` contains the key `needle` (given as `"key"` bytes) followed by `:` and an object `{`.
 * Cheap: one native search per occurrence, no decoding. Used to skip `"usage": null` chunks unparsed.
 */
export function hasObjectKey(bytes: Uint8Array, needle: Buffer): boolean {
  const view = bufferView(bytes);
  let from = 0;
  for (;;) {
    const at = view.indexOf(needle, from);
    if (at < 0) return false;
    const v = afterColon(bytes, at, needle.length);
    if (v >= 0 && bytes[v] === OPEN_BRACE) return true;
    from = at + 1;
  }
}

/** Searched by `usage`: a chat chunk holds ~45 quotes and 6 `u`s (byte-needle.ts). */
const USAGE_PREFIX = new ByteNeedle('"usage', 1);
const METADATA_SUFFIX = Buffer.from('Metadata"');

/**
 * Which usage key with an object value `bytes` contains, in one native search: `usage` (OpenAI, Azure,
 * Responses, Anthropic), `usageMetadata` (Gemini) or none. `"usage": null` counts as none.
 */
export function findUsageObjectKey(bytes: Uint8Array): 'usage' | 'usageMetadata' | undefined {
  return findUsageObject(bytes)?.key;
}

/** Where the first usage key with an object value starts in `bytes`, and which key it is. */
export function findUsageObject(bytes: Uint8Array): { key: 'usage' | 'usageMetadata'; at: number } | undefined {
  const view = bufferView(bytes);
  let from = 0;
  for (;;) {
    const at = USAGE_PREFIX.indexIn(view, from);
    if (at < 0) return undefined;
    from = at + 1;
    const next = at + USAGE_PREFIX.length;
    let key: 'usage' | 'usageMetadata' | undefined;
    let length = 0;
    if (bytes[next] === QUOTE) {
      key = 'usage';
      length = USAGE_PREFIX.length + 1;
    } else if (view.indexOf(METADATA_SUFFIX, next) === next) {
      key = 'usageMetadata';
      length = USAGE_PREFIX.length + METADATA_SUFFIX.length;
    }
    if (key === undefined) continue;
    const v = afterColon(bytes, at, length);
    if (v >= 0 && bytes[v] === OPEN_BRACE) return { key, at };
  }
}

/**
 * Decodes every JSON string value of key `needle` (`"key"`, searched by `key`: byte-needle.ts) in `bytes` and hands
 * it to `onText`. Only the string literal is decoded (JSON.parse only when it has escapes), never the document.
 */
export function forEachStringValue(bytes: Uint8Array, needle: ByteNeedle, onText: (text: string) => void): void {
  const view = bufferView(bytes);
  let from = 0;
  for (;;) {
    const at = needle.indexIn(view, from);
    if (at < 0) return;
    from = at + needle.length;
    const v = afterColon(bytes, at, needle.length);
    if (v < 0 || bytes[v] !== QUOTE) continue;
    let i = v + 1;
    let escaped = false;
    while (i < bytes.length) {
      const b = bytes[i];
      if (b === BACKSLASH) {
        escaped = true;
        i += 2;
        continue;
      }
      if (b === QUOTE || b === 0x0a) break; // LF never occurs inside a JSON string: a torn literal ends there
      i++;
    }
    if (i >= bytes.length) return;
    if (bytes[i] !== QUOTE) {
      from = i + 1;
      continue;
    }
    from = i + 1;
    if (i === v + 1) continue;
    if (!escaped) {
      onText(view.toString('utf8', v + 1, i));
    } else {
      try {
        onText(JSON.parse(`"${view.toString('utf8', v + 1, i)}"`) as string);
      } catch {
        // A malformed literal is skipped: estimates are best effort.
      }
    }
  }
}

/**
 * In `text` (which may start mid-document, e.g. the tail of a large body), finds the *last* occurrence of a
 * key in `keys` whose value is an object and returns that object parsed, or undefined. The object is
 * delimited by a string-aware brace scan, so braces inside string values do not confuse it.
 */
export function lastObjectValue(text: string, keys: readonly string[]): { key: string; value: unknown } | undefined {
  let best: { key: string; at: number; start: number } | undefined;
  for (const key of keys) {
    const needle = `"${key}"`;
    let from = text.length;
    while (from >= 0) {
      const at = text.lastIndexOf(needle, from);
      if (at < 0) break;
      from = at - 1;
      if (best !== undefined && at < best.at) break;
      if (at > 0 && text.charCodeAt(at - 1) === BACKSLASH) continue;
      const m = /^\s*:\s*\{/.exec(text.slice(at + needle.length, at + needle.length + 64));
      if (m === null) continue;
      best = { key, at, start: at + needle.length + m[0].length - 1 };
      break;
    }
  }
  if (best === undefined) return undefined;
  const end = matchingBrace(text, best.start);
  if (end < 0) return undefined;
  try {
    return { key: best.key, value: JSON.parse(text.slice(best.start, end + 1)) };
  } catch {
    return undefined;
  }
}

function matchingBrace(text: string, start: number): number {
  let depth = 0;
  let inString = false;
  for (let i = start; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) {
      inString = true;
    } else if (c === OPEN_BRACE) {
      depth++;
    } else if (c === 0x7d) {
      depth--;
      if (depth === 0) return i;
    }
  }
  return -1;
}

/**
 * The string value of the first (or last) unescaped occurrence of key `key` in `text`, e.g. `"model"`.
 */
export function stringValue(text: string, key: string, which: 'first' | 'last'): string | undefined {
  const re = new RegExp(`(?<!\\\\)"${key}"\\s*:\\s*"((?:[^"\\\\]|\\\\.)*)"`, 'g');
  let found: string | undefined;
  for (const m of text.matchAll(re)) {
    found = m[1];
    if (which === 'first') break;
  }
  if (found === undefined || found.length === 0) return undefined;
  try {
    return JSON.parse(`"${found}"`) as string;
  } catch {
    return undefined;
  }
}
