// The Functions app loaded the way the host loads it, in a process of its own: `node load-app.mjs <app root>
// [--serve | --time-only]` with the app settings in the environment. NOT the Functions host (see
// capture-registrations.ts, whose stand-in this repeats in plain JavaScript so that it runs on a package with no build
// step):
// `@azure/functions` registers into a stand-in for the host's `@azure/functions-core`, and this script
// reports what registered, how long importing `main` took and which packages that import loaded. With
// `--serve` it then serves the HTTP triggers on a loopback port and invokes the others on request over IPC,
// so a parent process (functions-smoke.ts) drives the handlers of exactly this copy of the app.
import { createServer } from 'node:http';
import { createRequire, register } from 'node:module';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { MessageChannel } from 'node:worker_threads';

const appRoot = process.argv[2] === undefined ? undefined : resolve(process.argv[2]);
const serve = process.argv.includes('--serve');
// --time-only: no module tracking (its off-thread resolve hook slows the import it measures).
const track = !process.argv.includes('--time-only');
if (appRoot === undefined) throw new Error('usage: node load-app.mjs <app root> [--serve | --time-only]');

// Every module an ESM import resolves, reported by a resolve hook (CommonJS requires are in require.cache).
const resolved = [];
const { port1, port2 } = new MessageChannel();
port1.on('message', (message) => (message === 'flushed' ? flushed?.() : resolved.push(message)));
port1.unref();
let flushed;
const hook = `
  let port;
  export function initialize(data) { port = data.port; port.on('message', () => port.postMessage('flushed')); }
  export async function resolve(specifier, context, next) {
    const result = await next(specifier, context);
    port.postMessage(result.url);
    return result;
  }`;
if (track)
  register(`data:text/javascript,${encodeURIComponent(hook)}`, {
    data: { port: port2 },
    transferList: [port2],
  });

const require = createRequire(join(appRoot, 'package.json'));
const Module = createRequire(import.meta.url)('node:module');
const functions = new Map();
const core = {
  setProgrammingModel: () => undefined,
  getProgrammingModel: () => undefined,
  registerHook: () => ({ dispose: () => undefined }),
  log: () => undefined,
  registerFunction(metadata, handler) {
    functions.set(metadata.name, { metadata, handler });
    return { dispose: () => functions.delete(metadata.name) };
  },
};
const load = Module._load;
Module._load = function (request, parent, isMain) {
  return request === '@azure/functions-core' ? core : load.call(this, request, parent, isMain);
};

const main = JSON.parse(readFileSync(join(appRoot, 'package.json'), 'utf8')).main;
const started = performance.now();
await import(pathToFileURL(join(appRoot, main)).href);
const loadMs = performance.now() - started;
if (track) {
  // Messages on one port arrive in order: once the hook answers the flush, every URL it saw has arrived.
  port1.ref();
  await new Promise((resolve) => {
    flushed = resolve;
    port1.postMessage('flush');
  });
  port1.unref();
}

const files = [...new Set([...resolved.filter((u) => u.startsWith('file:')), ...Object.keys(require.cache)])];
const packages = [
  ...new Set(files.map((f) => /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(decodeURIComponent(f))?.[1]).filter(Boolean)),
].sort();
const report = {
  kind: 'loaded',
  node: process.version,
  loadMs,
  modules: files.length,
  packages,
  functions: [...functions.values()].map((f) => ({ name: f.metadata.name, bindings: f.metadata.bindings })),
};
if (process.send === undefined) {
  process.stdout.write(`${JSON.stringify(report)}\n`);
  process.exit(0);
}
process.send(report);

if (serve) {
  const { HttpRequest, InvocationContext } = require('@azure/functions');
  // The functions' own log lines, one line each (the default handler prints a stack trace for `trace`).
  const logHandler = (level, ...args) => {
    if (level !== 'trace' && level !== 'debug') console.error(`[${level}] ${args.join(' ')}`);
  };
  const context = (name, triggerMetadata) =>
    new InvocationContext({ functionName: name, invocationId: `${name}-${Date.now()}`, triggerMetadata, logHandler });
  const server = createServer((req, res) => void route(req, res));
  const routes = [...functions.values()]
    .map((f) => ({ f, trigger: Object.values(f.metadata.bindings).find((b) => b.type === 'httpTrigger') }))
    .filter((r) => r.trigger !== undefined)
    .map((r) => ({ ...r, template: String(r.trigger.route ?? r.f.metadata.name) }))
    .sort((a, b) => literals(b.template) - literals(a.template));

  async function route(req, res) {
    try {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const path = url.pathname.replace(/^\//, '');
      const method = req.method ?? 'GET';
      const match = routes
        .map((r) => ({ r, params: matchRoute(r.template, path) }))
        .find((m) => m.params !== undefined && (m.r.trigger.methods ?? ['GET', 'POST']).includes(method));
      if (match === undefined) return void res.writeHead(404).end();
      const chunks = [];
      for await (const chunk of req) chunks.push(chunk);
      const headers = {};
      for (const [key, value] of Object.entries(req.headers))
        if (value !== undefined) headers[key] = Array.isArray(value) ? value.join(', ') : value;
      const request = new HttpRequest({
        method,
        url: url.href,
        headers,
        params: match.params,
        query: Object.fromEntries(url.searchParams),
        ...(chunks.length === 0 ? {} : { body: { bytes: Buffer.concat(chunks) } }),
      });
      const init = await match.r.f.handler(request, context(match.r.f.metadata.name));
      res.writeHead(init.status ?? 200, init.headers);
      if (typeof init.body === 'string') res.write(init.body);
      else if (init.body != null) for await (const chunk of init.body) res.write(chunk);
      res.end();
    } catch (error) {
      res.writeHead(500).end(error instanceof Error ? error.message : String(error));
    }
  }

  process.on('message', async (message) => {
    if (message.kind === 'exit') return void server.close(() => process.exit(0));
    if (message.kind !== 'invoke') return;
    try {
      const fn = functions.get(message.name);
      if (fn === undefined) throw new Error(`no function "${message.name}"`);
      const result = await fn.handler(message.input, context(message.name, message.triggerMetadata ?? {}));
      process.send({ kind: 'result', id: message.id, ok: true, result: result ?? null });
    } catch (error) {
      process.send({ kind: 'result', id: message.id, ok: false, error: String(error?.message ?? error) });
    }
  });
  server.listen(0, '127.0.0.1', () => process.send({ kind: 'serving', port: server.address().port }));
} else process.disconnect();

function literals(template) {
  return template.split('/').filter((s) => !s.startsWith('{')).length;
}

/** Matches `a/{x}/{*rest}` route templates; `undefined` when the path does not match. */
function matchRoute(template, path) {
  const parts = template.split('/');
  const segments = path === '' ? [] : path.split('/');
  const params = {};
  for (let i = 0; i < parts.length; i++) {
    const catchAll = /^\{\*(\w+)\}$/.exec(parts[i]);
    if (catchAll !== null) {
      params[catchAll[1]] = segments.slice(i).join('/');
      return params;
    }
    if (segments[i] === undefined) return undefined;
    const param = /^\{(\w+)\}$/.exec(parts[i]);
    if (param !== null) params[param[1]] = decodeURIComponent(segments[i]);
    else if (parts[i].toLowerCase() !== segments[i].toLowerCase()) return undefined;
  }
  return segments.length === parts.length ? params : undefined;
}
