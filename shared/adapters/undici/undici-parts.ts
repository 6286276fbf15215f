import { createRequire } from 'node:module';
import type * as Undici from 'undici';

// Only the parts of undici the gateway uses. `import 'undici'` loads the whole package — fetch, WebSocket,
// EventSource, caches, mocks: 110 files and ~9 MB of resident memory (measured: a bare `node` process 41 MB,
// with `require('undici')` 62 MB, with these parts 53 MB) — for a pool, an agent and the error classes.
// undici has no `exports` map, so these paths are public; the package entry does exactly what we do here.
// The types still come from the package entry. ADR 0056.
const require = createRequire(import.meta.url);

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
