import type { Buffer } from 'node:buffer';
import { GatewayError } from '../errors/gateway-error.js';
import { bufferView } from '../usage/json-scan.js';

/**
 * The top-level request body keys the gateway decides on — routing (`model`), affinity
 * (`previous_response_id`), streaming and its metering (`stream`, `stream_options`), billing of background
 * responses (`background`), quota reservations (output caps, answer counts, the prompt fields) — in one
 * place. A body naming one of them twice is refused: the gateway reads the last occurrence (`JSON.parse`)
 * while a backend may keep the first, so it would admit one request and forward another.
 */
export const DECIDED_KEYS: ReadonlySet<string> = new Set([
  'model',
  'stream',
  'stream_options',
  'n',
  'best_of',
  'max_tokens',
  'max_completion_tokens',
  'max_output_tokens',
  'generationConfig',
  'previous_response_id',
  'background',
  'messages',
  'input',
  'prompt',
  'contents',
  'system',
  'instructions',
]);

const LONGEST_KEY = Math.max(...[...DECIDED_KEYS].map((k) => k.length));
/** An escaped key spells each character in at most 6 bytes (`\u006d`). */
const LONGEST_ESCAPED_KEY = LONGEST_KEY * 6;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const STRING = 1;
const OPEN = 2;
const CLOSE = 3;
const COMMA = 4;
/** What each byte outside a string means to the scan (0: nothing). */
const STRUCTURE = new Uint8Array(256);
STRUCTURE[QUOTE] = STRING;
STRUCTURE[0x7b] = OPEN; // {
STRUCTURE[0x5b] = OPEN; // [
STRUCTURE[0x7d] = CLOSE; // }
STRUCTURE[0x5d] = CLOSE; // ]
STRUCTURE[0x2c] = COMMA;

/**
 * Refuses a JSON object body that names a {@link DECIDED_KEYS} key twice at the top level: 400
 * `GW_ERR_REQUEST_INVALID_JSON` with `param` = the key. `body` must already be known to be a valid JSON
 * object (it is checked after `JSON.parse` accepted it).
 *
 * Cost: one pass that is not a parse — string contents (nearly all of a chat body, base64 images
 * included) are skipped with native `indexOf`, only the structure between them is walked byte by byte,
 * and only short top-level keys are decoded.
 *
 * @example
 * rejectDuplicateDecidedKeys(new TextEncoder().encode('{"model":"a","model":"b"}')); // throws, param 'model'
 */
export function rejectDuplicateDecidedKeys(body: Uint8Array): void {
  const key = duplicateDecidedKey(body);
  if (key !== undefined)
    throw new GatewayError('GW_ERR_REQUEST_INVALID_JSON', {
      message: `The request body names "${key}" more than once; send each of its fields once.`,
      param: key,
    });
}

/** The first {@link DECIDED_KEYS} key found twice at the top level of a valid JSON object, if any. */
export function duplicateDecidedKey(body: Uint8Array): string | undefined {
  const view = bufferView(body);
  const seen = new Set<string>();
  let depth = 0;
  let keyNext = false;
  for (let i = 0; i < body.length; i++) {
    const kind = STRUCTURE[body[i]!]!;
    if (kind === 0) continue; // digits, letters of literals, whitespace, `:`: nothing to track
    if (kind === STRING) {
      const end = stringEnd(view, i + 1);
      if (depth === 1 && keyNext) {
        const key = decidedKey(view, i, end);
        if (key !== undefined) {
          if (seen.has(key)) return key;
          seen.add(key);
        }
        keyNext = false;
      }
      i = end;
    } else if (kind === OPEN) {
      depth++;
      keyNext = depth === 1;
    } else if (kind === CLOSE) {
      depth--;
    } else if (depth === 1) {
      keyNext = true; // a comma between top-level members
    }
  }
  return undefined;
}

/** Index of the quote that closes the string whose contents start at `from` (one native search per quote). */
function stringEnd(view: Buffer, from: number): number {
  let at = view.indexOf(QUOTE, from);
  while (at > 0) {
    let backslashes = 0;
    while (view[at - 1 - backslashes] === BACKSLASH) backslashes++;
    if (backslashes % 2 === 0) return at;
    at = view.indexOf(QUOTE, at + 1);
  }
  return view.length;
}

/** The key between the quotes at `open` and `close` when it is one of {@link DECIDED_KEYS}. */
function decidedKey(view: Buffer, open: number, close: number): string | undefined {
  const length = close - open - 1;
  if (length > LONGEST_ESCAPED_KEY) return undefined;
  let escaped = false;
  for (let i = open + 1; i < close && !escaped; i++) escaped = view[i] === BACKSLASH;
  if (!escaped && length > LONGEST_KEY) return undefined;
  // An escaped key (`"mod\u0065l"`) is the same key to JSON.parse and to a backend: decode it as they do.
  const key = escaped
    ? (JSON.parse(view.toString('utf8', open, close + 1)) as string)
    : view.toString('latin1', open + 1, close);
  return DECIDED_KEYS.has(key) ? key : undefined;
}
