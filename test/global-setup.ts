/**
 * Global test setup. Services that tests need (Azurite) are started by `.ci/run` or by
 * `test/azurite.ts` on demand; this file only makes sure the environment is safe for the
 * Application Insights SDK (no metadata probes) before any test file loads.
 */
export default function setup(): void {
  process.env.APPLICATIONINSIGHTS_STATSBEAT_DISABLED = 'true';
  process.env.WEBSITE_SITE_NAME ??= 'gateway-test';
  process.env.FUNCTIONS_EXTENSION_VERSION ??= '~4';
}
