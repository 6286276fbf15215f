import { app, input, trigger, type FunctionInput, type InvocationContext } from '@azure/functions';
import type { ActivityHandler, EntityHandler, OrchestrationHandler } from 'durable-functions';

/**
 * Durable Functions registrations without loading `durable-functions` at import.
 *
 * Why: the host indexes the app by importing `functions/index.js`, and `durable-functions`' entry point
 * loads its HTTP client (axios, validator, lodash, moment — about 350 modules, 0.8–1 s on the Flex-sized
 * machines here) before any trigger has fired. The registrations below write the same function metadata
 * `df.app.orchestration`, `df.app.entity`, `df.app.activity` and `df.input.durableClient` write (their
 * trigger and input are plain `{ type: 'orchestrationTrigger' | 'entityTrigger' | 'activityTrigger' |
 * 'durableClient' }` bindings), and load the durable-functions replay engine — and the module holding the
 * handler — on the first invocation. The wrappers come from `durable-functions`' own modules
 * (`createOrchestrator`, `createEntityFunction`, `wrapActivityHandler`): the package version is pinned
 * (package.json) because these are not its public entry point, and the replay tests fail if they move.
 */

/** The `durableClient` input binding (`df.input.durableClient()`), for triggers that start or signal durable work. */
export function durableClientInput(): FunctionInput {
  return input.generic({ type: 'durableClient' });
}

type Handler = (triggerInput: unknown, context: InvocationContext) => Promise<unknown>;

/** A handler that builds the real one on its first call (once, even when calls overlap). */
function lazyHandler(build: () => Promise<Handler>): Handler {
  let built: Promise<Handler> | undefined;
  return async (triggerInput, context) => {
    built ??= build().catch((error: unknown) => {
      built = undefined;
      throw error;
    });
    return (await built)(triggerInput, context);
  };
}

interface DurableWrappers {
  createOrchestrator(handler: OrchestrationHandler): Handler;
  createEntityFunction<T>(handler: EntityHandler<T>): Handler;
}

const wrappers = (): Promise<DurableWrappers> =>
  import('durable-functions/lib/src/util/testingUtils.js') as Promise<DurableWrappers>;

/** `df.app.orchestration(name, handler)`, with the handler's module loaded on first use. */
export function registerOrchestration(name: string, load: () => Promise<OrchestrationHandler>): void {
  app.generic(name, {
    trigger: trigger.generic({ type: 'orchestrationTrigger' }),
    handler: lazyHandler(async () => (await wrappers()).createOrchestrator(await load())),
  });
}

/**
 * `df.app.entity(name, { handler, extraInputs })`, with the handler's module loaded on first use.
 * `extraInputs`: e.g. `[durableClientInput()]` for an entity that raises events on orchestrations.
 */
export function registerEntity<T>(
  name: string,
  load: () => Promise<EntityHandler<T>>,
  options: { readonly extraInputs?: FunctionInput[] } = {},
): void {
  app.generic(name, {
    trigger: trigger.generic({ type: 'entityTrigger' }),
    ...(options.extraInputs === undefined ? {} : { extraInputs: options.extraInputs }),
    handler: lazyHandler(async () => (await wrappers()).createEntityFunction(await load())),
  });
}

/** `df.app.activity(name, { handler })`, with the handler's module loaded on first use. */
export function registerActivity(name: string, load: () => Promise<ActivityHandler>): void {
  app.generic(name, {
    trigger: trigger.generic({ type: 'activityTrigger' }),
    handler: lazyHandler(async () => {
      const { wrapActivityHandler } = (await import('durable-functions/lib/src/app.js')) as {
        wrapActivityHandler(handler: ActivityHandler): Handler;
      };
      return wrapActivityHandler(await load());
    }),
  });
}
