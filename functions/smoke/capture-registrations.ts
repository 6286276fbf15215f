import { createRequire } from 'node:module';

/** One function as `@azure/functions` registered it: the metadata the host would index, and the handler. */
export interface CapturedFunction {
  readonly name: string;
  readonly metadata: {
    readonly name: string;
    readonly bindings: Record<
      string,
      { readonly type: string; readonly direction: string; readonly [key: string]: unknown }
    >;
    readonly [key: string]: unknown;
  };
  readonly handler: (...args: unknown[]) => unknown;
  /**
   * The trigger binding (its `type`: `httpTrigger`, `serviceBusTrigger`, `timerTrigger`, `orchestrationTrigger`, …).
   */
  readonly trigger: { readonly type: string; readonly [key: string]: unknown };
}

const captured = new Map<string, CapturedFunction>();
let installed = false;

/**
 * Lets `@azure/functions` register functions outside the Functions host, and records them. Outside the
 * host the library is in *test mode*: it looks for the host's `@azure/functions-core` module, finds none,
 * and skips every registration. This supplies a stand-in for that module (only `registerFunction`,
 * `setProgrammingModel`, `registerHook` and `log`), so `app.http(…)`, `df.app.orchestration(…)` and the
 * rest hand their real metadata and handlers here. It is **not** the Functions host: no bindings run, no
 * routing, no Service Bus, no durable backend — tests and the smoke script call the handlers themselves.
 *
 * Call it before the first import of `functions/index.js` (or of any trigger module).
 */
export function captureRegistrations(): ReadonlyMap<string, CapturedFunction> {
  if (installed) return captured;
  installed = true;
  const require = createRequire(import.meta.url);
  const Module = require('node:module') as { _load: (request: string, parent: unknown, isMain: boolean) => unknown };
  const load = Module._load;
  const core = {
    setProgrammingModel: () => undefined,
    getProgrammingModel: () => undefined,
    registerHook: () => ({ dispose: () => undefined }),
    log: () => undefined,
    registerFunction(metadata: CapturedFunction['metadata'], handler: CapturedFunction['handler']) {
      const trigger = Object.values(metadata.bindings).find((b) => /trigger$/i.test(b.type));
      if (trigger === undefined) throw new Error(`function ${metadata.name} has no trigger binding`);
      captured.set(metadata.name, { name: metadata.name, metadata, handler, trigger });
      return { dispose: () => captured.delete(metadata.name) };
    },
  };
  Module._load = function (request, parent, isMain) {
    if (request === '@azure/functions-core') return core;
    return load.call(this, request, parent, isMain);
  };
  return captured;
}

/** A captured function by name; throws naming the ones that exist. */
export function capturedFunction(name: string): CapturedFunction {
  const fn = captured.get(name);
  if (fn === undefined)
    throw new Error(`no function "${name}" was registered (have: ${[...captured.keys()].join(', ')})`);
  return fn;
}
