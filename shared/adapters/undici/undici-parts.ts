import { createRequire, Module } from 'node:module';
import type * as Undici from 'undici';

// Only the parts of undici the gateway uses. `import 'undici'` loads the whole package — fetch, WebSocket,
// EventSource, caches, mocks: 110 files and ~9 MB of resident memory (measured: a bare `node` process 41 MB,
// with `require('undici')` 62 MB, with these parts 53 MB) — for a pool, an agent and the error classes.
// undici has no `exports` map, so these paths are public; the package entry does exactly what we do here.
// The types still come from the package entry. ADR 0056.
const require = createRequire(import.meta.url);

type Connector = (...args: unknown[]) => unknown;

/**
 * undici's client loads its HTTP/2 connector at once, and with it `node:http2` and `node:tls` (~2.3 MB resident in
 * the gateway at idle, ADR 0079), though it calls it only for a dispatcher built with `allowH2` whose server chose
 * h2 — the gateway builds none. A stand-in answers for the connector from the module cache and loads the real one
 * at its first call, so a dispatcher with `allowH2` still speaks HTTP/2. Nothing is done where the connector is
 * already loaded (another module took the package entry first: the cost is paid).
 */
function deferHttp2Connector(): void {
  let path: string;
  try {
    path = require.resolve('undici/lib/dispatcher/client-h2.js');
  } catch {
    // Another undici layout (an install outside the lock file): no stand-in, the connector loads at once as
    // undici does by itself. A memory saving must not stop the gateway from starting; the process test that holds
    // `http2` unloaded at start says so in CI.
    return;
  }
  if (require.cache[path] !== undefined) return;
  let real: Connector | undefined;
  const load = (): Connector => {
    delete require.cache[path]; // the stand-in leaves; the real module takes its place
    return require(path) as Connector;
  };
  const standIn = new Module(path);
  standIn.filename = path;
  standIn.loaded = true;
  standIn.exports = function connectH2(this: unknown, ...args: unknown[]): unknown {
    real ??= load();
    return real.apply(this, args);
  };
  require.cache[path] = standIn;
}

deferHttp2Connector();
const dispatcher = require('undici/lib/dispatcher/dispatcher.js') as { prototype: object };
// The package entry gives every dispatcher its request/stream/pipeline methods this way; done once, and not
// over an entry another module already loaded (same files, same prototype).
if (!('request' in dispatcher.prototype)) Object.assign(dispatcher.prototype, require('undici/lib/api/index.js'));

/** undici's `Pool`: bounded keep-alive sockets to one origin. */
export const Pool = require('undici/lib/dispatcher/pool.js') as typeof Undici.Pool;
/** undici's `Agent`: a pool per origin. */
export const Agent = require('undici/lib/dispatcher/agent.js') as typeof Undici.Agent;
/** undici's error classes (the same classes the pool throws). */
export const errors = require('undici/lib/core/errors.js') as typeof Undici.errors;
