import { AnswerHeaders } from './answer-headers.js';
import type { HeaderReader } from './header-map.js';

/**
 * Which headers cross the gateway. Hop-by-hop headers never do (RFC 9110 §7.6.1); the seed's `S7P*`
 * and `X-MS-CLIENT*` headers and our own `x-gateway-*` request headers never reach a backend; the
 * caller's credentials are replaced by the backend's own unless the backend is configured to pass
 * them through.
 */

// `accept-encoding` too: the gateway meters and inspects answers, so it asks backends for identity
// encoding (a gzip answer would be billed as an estimate and hide Responses ids and error codes).
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'proxy-authorization',
  'proxy-authenticate',
  'host',
  'content-length',
  'expect',
  'http2-settings',
  'accept-encoding',
]);

/** The caller's credential headers: replaced by the backend's own, or passed through for `passthrough` backends. */
export const CALLER_CREDENTIAL_HEADERS: readonly string[] = Object.freeze([
  'authorization',
  'api-key',
  'x-api-key',
  'x-goog-api-key',
  'ocp-apim-subscription-key',
]);
const CALLER_CREDENTIALS = new Set(CALLER_CREDENTIAL_HEADERS);
const RESPONSE_HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'proxy-authenticate',
]);

/** Options of {@link upstreamHeaders}. */
export interface UpstreamHeaderOptions {
  /** Extra lower-cased names to drop (config `headers.stripRequest`, profile strip lists). */
  readonly strip: ReadonlySet<string>;
  /** Keep the caller's credential headers (backend auth `passthrough`). */
  readonly keepCallerCredentials: boolean;
}

/**
 * The headers sent upstream: the caller's minus everything that must not cross (see module doc).
 *
 * @example
 * upstreamHeaders(request.headers, { strip: new Set(), keepCallerCredentials: false })
 */
export function upstreamHeaders(incoming: HeaderReader, options: UpstreamHeaderOptions): Record<string, string> {
  const out: Record<string, string> = {};
  const connectionListed = connectionOptions(incoming.get('connection') ?? undefined);
  incoming.forEach((value, name) => {
    if (HOP_BY_HOP.has(name) || options.strip.has(name)) return;
    if (name.startsWith('s7p') || name.startsWith('x-ms-client') || name.startsWith('x-gateway-')) return;
    if (!options.keepCallerCredentials && CALLER_CREDENTIALS.has(name)) return;
    if (connectionListed?.includes(name)) return;
    out[name] = value;
  });
  return out;
}

/** Copies a backend's response headers for the caller, minus hop-by-hop and configured ones. */
export function downstreamHeaders(
  incoming: Record<string, string | string[] | undefined>,
  strip: ReadonlySet<string>,
  dropContentLength: boolean,
): AnswerHeaders {
  const out = new AnswerHeaders();
  const connectionListed = connectionOptions(incoming['connection']);
  for (const name in incoming) {
    const value = incoming[name];
    if (value === undefined || RESPONSE_HOP_BY_HOP.has(name) || strip.has(name)) continue;
    if (connectionListed?.includes(name)) continue;
    if (dropContentLength && name === 'content-length') continue;
    if (Array.isArray(value)) for (const v of value) out.append(name, v);
    else out.set(name, value);
  }
  return out;
}

/**
 * The further hop-by-hop names a `Connection: x, y` header lists for this hop only (RFC 9110 §7.6.1), lower-cased;
 * undefined when it lists none beyond the usual `keep-alive`/`close` (most calls: nothing split or allocated).
 */
function connectionOptions(value: string | string[] | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  const joined = typeof value === 'string' ? value : value.join(',');
  if (!joined.includes(',') && /^\s*(?:keep-alive|close)\s*$/i.test(joined)) return undefined;
  return joined
    .toLowerCase()
    .split(',')
    .map((s) => s.trim());
}

/** True when a header value could split a header (CR, LF or NUL). */
export function hasControlCharacters(value: string): boolean {
  return /[\r\n\0]/.test(value);
}
