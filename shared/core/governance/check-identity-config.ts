import type { GovernanceConfig } from '../../config/governance-schema.js';

/**
 * The startup check both hosts run: in production, a gateway with no identity mode enabled and without
 * explicitly allowed anonymous access would serve anyone, so the host refuses to start. Returns the
 * reason to print, or `undefined` when the configuration may start.
 *
 * @example
 * const problem = checkIdentityConfig(config.governance, config.server.mode);
 * if (problem !== undefined) throw new Error(problem);
 */
export function checkIdentityConfig(
  governance: GovernanceConfig,
  mode: 'development' | 'production',
): string | undefined {
  if (mode !== 'production') return undefined;
  const id = governance.identity;
  const anyMode = id.apiKeys.enabled || id.entra.enabled || id.trustedUpstream.enabled;
  if (anyMode || id.anonymous.allowed) return undefined;
  return (
    'server.mode is "production" but no caller identity is configured: enable governance.identity.apiKeys, ' +
    '.entra or .trustedUpstream, or set governance.identity.anonymous.allowed = true with a profile ' +
    'to serve anonymous callers on purpose.'
  );
}
