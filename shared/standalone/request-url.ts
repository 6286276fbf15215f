/** The URL the engine sees for a request, or why the request is refused before it reaches the engine. */
export type RequestUrlResult =
  | { readonly ok: true; readonly url: string }
  | {
      readonly ok: false;
      readonly status: 400 | 405;
      readonly code:
        'GW_ERR_REQUEST_INVALID_HEADER' | 'GW_ERR_REQUEST_INVALID_TARGET' | 'GW_ERR_REQUEST_METHOD_NOT_ALLOWED';
      readonly message: string;
      readonly param: string | null;
    };

/** What the host parsed off the wire: the request line and every `Host` header as received. */
export interface RequestLine {
  readonly method: string;
  /** The request target exactly as on the request line (`req.url` in node:http). */
  readonly target: string;
  readonly httpVersion: string;
  /** Every `Host` header value received, in order (more than one is refused). */
  readonly hosts: readonly string[];
}

/** Authority used when an HTTP/1.0 request names none; routing never reads it. */
const DEFAULT_AUTHORITY = 'localhost';
/** `host[:port]`: a registered name of unreserved characters or a bracketed IPv6/IPvFuture literal. */
const AUTHORITY = /^(?:[A-Za-z0-9._~-]+|\[[0-9A-Fa-f:.]+\])(?::(\d{1,5}))?$/;
/** An origin-form target: an absolute path and an optional query, printable ASCII, no fragment. */
const ORIGIN_FORM = /^\/[\x21-\x22\x24-\x7e]*$/;
const ABSOLUTE_FORM = /^https?:\/\//i;

/**
 * Builds the engine's request URL from the request line alone, as RFC 9112 §3.2 asks: the path and
 * query come from the request target only, so a `Host` header holding `/`, `?` or `#` can never rewrite
 * the path that routing and `:path` header rules see. The authority is the absolute-form target's (which
 * then overrides `Host`, §3.2.2) or the single `Host` header, and must be `host[:port]`.
 *
 * - origin-form (`/v1/chat/completions?x=1`) and absolute-form (`http://gw/v1/models`) are served;
 * - asterisk-form (`OPTIONS *`), authority-form and anything else → 400 `GW_ERR_REQUEST_INVALID_TARGET`;
 * - a missing (HTTP/1.1), repeated or malformed `Host` → 400 `GW_ERR_REQUEST_INVALID_HEADER`.
 *
 * Pure and host-independent, so any HTTP server in front of the engine can use it.
 *
 * @example
 * requestUrl({ method: 'GET', target: '/v1/models', httpVersion: '1.1', hosts: ['gw:8000'] })
 * // → { ok: true, url: 'http://gw:8000/v1/models' }
 */
export function requestUrl(line: RequestLine): RequestUrlResult {
  if (line.hosts.length > 1) return invalidHost('The request has more than one Host header.');
  const host = line.hosts[0]?.trim();
  if (host === undefined && line.httpVersion !== '1.0') return invalidHost('An HTTP/1.1 request must send Host.');
  if (host !== undefined && !validAuthority(host)) return invalidHost('The Host header is not host[:port].');
  if (ORIGIN_FORM.test(line.target)) return parsed(`http://${host ?? DEFAULT_AUTHORITY}${line.target}`);
  if (ABSOLUTE_FORM.test(line.target)) return absoluteForm(line.target);
  if (line.target === '*')
    return invalidTarget(`${line.method} * (asterisk-form) is not served; send a path.`, line.method);
  return invalidTarget('The request target is not an absolute path or an http(s) URL.', line.method);
}

function absoluteForm(target: string): RequestUrlResult {
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    return invalidTarget('The request target is not a valid URL.');
  }
  const scheme = target.slice(0, target.indexOf(':') + 3);
  const rest = target.slice(scheme.length);
  const authority = rest.slice(0, rest.search(/[/?]|$/));
  if (!validAuthority(authority) || url.username !== '' || target.includes('#'))
    return invalidTarget('The request target URL must be http(s)://host[:port]/path, with no user or fragment.');
  const pathAndQuery = rest.slice(authority.length);
  if (pathAndQuery !== '' && !ORIGIN_FORM.test(pathAndQuery.startsWith('/') ? pathAndQuery : `/${pathAndQuery}`))
    return invalidTarget('The request target URL has characters a path may not hold.');
  return parsed(`http://${authority}${pathAndQuery.startsWith('/') ? pathAndQuery : `/${pathAndQuery}`}`);
}

function validAuthority(authority: string): boolean {
  const match = AUTHORITY.exec(authority);
  return match !== null && (match[1] === undefined || Number(match[1]) <= 65_535);
}

function parsed(url: string): RequestUrlResult {
  // The checks above keep every accepted form parseable; the parse is the last word all the same.
  try {
    return { ok: true, url: new URL(url).href };
  } catch {
    return invalidTarget('The request target is not a valid URL.');
  }
}

function invalidHost(message: string): RequestUrlResult {
  return { ok: false, status: 400, code: 'GW_ERR_REQUEST_INVALID_HEADER', message, param: 'host' };
}

function invalidTarget(message: string, method?: string): RequestUrlResult {
  if (method === 'CONNECT')
    return {
      ok: false,
      status: 405,
      code: 'GW_ERR_REQUEST_METHOD_NOT_ALLOWED',
      message: 'CONNECT is not served.',
      param: null,
    };
  return { ok: false, status: 400, code: 'GW_ERR_REQUEST_INVALID_TARGET', message, param: null };
}
