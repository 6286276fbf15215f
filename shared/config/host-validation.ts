import { checkIdentityConfig } from '../core/governance/check-identity-config.js';
import { envOverlay, mergeConfig } from './env-overlay.js';
import { validateConfig, type ConfigResult } from './load-config.js';
import type { HostEnv } from './host-config.js';

/**
 * The validation every host applies to every configuration it loads or reloads: the `GATEWAY_<SECTION>__<KEY>`
 * overlay over the raw configuration, the schema (every problem reported), then the identity check (a
 * production configuration must name its callers). It loads the schema (zod): the standalone host runs it in a
 * short-lived child process so that the serving process never holds it ({@link validateInChildProcess}, ADRs
 * 0050, 0087).
 *
 * @example
 * const result = validateHostConfig(JSON.parse(text), process.env);
 */
export function validateHostConfig(raw: unknown, env: HostEnv): ConfigResult {
  const result = validateConfig(mergeConfig(raw as Record<string, unknown>, envOverlay(env)), { env });
  if (!result.ok) return result;
  const problem = checkIdentityConfig(result.config.governance, result.config.server.mode);
  return problem === undefined ? result : { ok: false, issues: [problem] };
}
