import { AnswerHeaders } from '../../http/answer-headers.js';
import { createHash } from 'node:crypto';
import type { GatewayResponse } from '../../http/gateway-request.js';
import { PAGE_SCRIPT } from './page-script.js';
import { PAGE_STYLE } from './page-style.js';

const BODY = `<header>
  <h1>AI gateway</h1><span class="meta" id="instance"></span><span class="meta" id="config"></span>
  <span class="meta" id="updated"></span><span class="meta bad" id="stale"></span>
  <button id="forget" type="button">forget key</button>
</header>
<form id="login" hidden><h2>Gateway status</h2>
  <p>Enter an admin key (or an Entra access token with the admin role). It is kept in this tab only.</p>
  <input id="key" type="password" autocomplete="off" aria-label="admin key">
  <button type="submit">Open</button><p id="refused" role="alert"></p>
</form>
<main id="board" hidden>
  <section class="wide"><h2>Last 10 seconds</h2><div class="pulse" id="pulse"></div></section>
  <section class="wide"><h2>Backends (last minute)</h2><div id="backends"></div></section>
  <section class="wide"><h2>Pools</h2><div id="pools"></div></section>
  <section><h2>Tokens per minute by model, last hour</h2><div id="tokens-model"></div></section>
  <section><h2>Tokens per minute by caller, last hour</h2><div id="tokens-caller"></div></section>
  <section><h2>Today by caller (usage ledger)</h2><div id="today-callers"></div>
    <div class="legend" id="today-asof"></div></section>
  <section><h2>Today by model (usage ledger)</h2><div id="today-models"></div></section>
  <section><h2>Errors by code, last 15 minutes</h2><div id="errors"></div></section>
  <section><h2>Breaker transitions</h2><div id="transitions"></div></section>
  <section class="wide"><h2>Usage export</h2><div id="exports"></div></section>
</main>`;

const sha256 = (text: string): string => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;

/**
 * The page's content security policy: only its own inline script and style (by hash) run, it may fetch only
 * from the gateway, and it cannot be framed — so even a hostile value in the data could not load or send
 * anything elsewhere.
 */
export const STATUS_PAGE_CSP = [
  "default-src 'none'",
  `script-src ${sha256(PAGE_SCRIPT)}`,
  `style-src ${sha256(PAGE_STYLE)}`,
  "connect-src 'self'",
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** The whole page: one HTML document, its style and script inline, nothing loaded from anywhere else. */
export const STATUS_PAGE_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer"><link rel="icon" href="data:,"><title>AI gateway status</title>
<style>${PAGE_STYLE}</style></head>
<body>
${BODY}
<script>${PAGE_SCRIPT}</script>
</body></html>
`;

const PAGE_BYTES = new TextEncoder().encode(STATUS_PAGE_HTML);

/**
 * The status page as a response. It holds no data and no secret, so it is served without a credential (a
 * browser cannot attach the admin header to a navigation); the page asks for the key and sends it with each
 * request for its data (`./live`), which takes the admin credential.
 */
export function statusPageResponse(requestId: string): GatewayResponse {
  const headers = new AnswerHeaders({
    'content-type': 'text/html; charset=utf-8',
    'content-length': String(PAGE_BYTES.byteLength),
    'content-security-policy': STATUS_PAGE_CSP,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'cache-control': 'no-store',
    'x-gateway-request-id': requestId,
  });
  return {
    status: 200,
    headers,
    body: (async function* () {
      yield PAGE_BYTES;
    })(),
  };
}
