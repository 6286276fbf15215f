import type { TestProject } from 'vitest/node';
import { startAzurite, type AzuriteEndpoints, type RunningAzurite } from '../simulator/azurite.js';

/** What tests receive through `inject('azurite')`: the endpoints, or why Azurite is not there. */
export type AzuriteProvided =
  { readonly ok: true; readonly endpoints: AzuriteEndpoints } | { readonly ok: false; readonly error: string };

declare module 'vitest' {
  export interface ProvidedContext {
    azurite: AzuriteProvided;
  }
}

let azurite: RunningAzurite | undefined;

/**
 * Global test setup:
 * - makes the environment safe for the Application Insights SDK (no metadata probes, no statsbeat);
 * - starts one in-memory Azurite for the whole run on free loopback ports and provides its endpoints
 *   to tests (`inject('azurite')`). When Azurite cannot start, the run goes on and tests that need it
 *   fail loudly with the reason (`requireAzurite()` in `shared/adapters/azure/test-support/`); they never skip.
 *   Set `GATEWAY_TEST_AZURITE=off` to not start it (tests that need it then fail).
 *
 * The returned teardown kills Azurite by PID.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  process.env.APPLICATIONINSIGHTS_STATSBEAT_DISABLED = 'true';
  process.env.WEBSITE_SITE_NAME ??= 'gateway-test';
  process.env.FUNCTIONS_EXTENSION_VERSION ??= '~4';

  if (process.env.GATEWAY_TEST_AZURITE === 'off') {
    project.provide('azurite', { ok: false, error: 'Azurite was not started (GATEWAY_TEST_AZURITE=off).' });
  } else {
    try {
      azurite = await startAzurite();
      const { stop: _stop, ...endpoints } = azurite;
      project.provide('azurite', { ok: true, endpoints });
    } catch (error) {
      project.provide('azurite', {
        ok: false,
        error: `Azurite failed to start: ${error instanceof Error ? error.message : String(error)}`,
      });
    }
  }

  return async () => {
    const running = azurite;
    azurite = undefined;
    await running?.stop();
  };
}
