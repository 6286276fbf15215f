import type { GovernanceConfig } from '../../config/governance-schema.js';
import { GatewayError } from '../errors/gateway-error.js';
import { admissionOf, ANONYMOUS_PROFILE } from './admission-of.js';
import type { Admission, Caller } from './admission.js';
import { checkCallerStanding } from './caller-standing.js';
import { checkHeaderRules } from './check-header-rules.js';
import { checkHeaderValues } from './check-header-values.js';
import { governanceIndex } from './governance-index.js';
import { identifyCaller, type VerifyToken } from './identify-caller.js';
import { resolvePriority } from './resolve-priority.js';
import type { HeaderReader } from '../http/header-map.js';

/**
 * Admits a live call under the governance `g`: header values checked, the caller identified, its profile
 * found and its standing checked, the header rules applied, the priority resolved. Reads headers only.
 *
 * @example
 * const admitted = await admitCaller(deps.governance(), { path: '/v1/chat/completions', headers }, verify);
 */
export async function admitCaller(
  g: GovernanceConfig,
  request: { readonly path: string; readonly headers: HeaderReader },
  verify: VerifyToken,
): Promise<Admission> {
  const { path, headers } = request;
  const ix = governanceIndex(g);
  checkHeaderValues(headers, g.limits.maxHeaderValueBytes);
  const who = await identifyCaller(g, ix, headers, verify);
  const profile = who.profileId === undefined ? ANONYMOUS_PROFILE : ix.profiles.get(who.profileId);
  if (profile === undefined) {
    throw new GatewayError('GW_ERR_AUTH_PROFILE_NOT_FOUND', {
      message: `User profile not found: ${who.profileId ?? ''}`,
    });
  }
  checkCallerStanding(ix, profile, who);
  checkHeaderRules(
    headers,
    path,
    both(g.rules.requiredHeaders, profile.requiredHeaders),
    both(g.rules.headerRules, profile.headerRules),
  );
  // Optional fields only when present, in this order (the caller is stored with jobs and shown as is).
  const caller: { -readonly [K in keyof Caller]: Caller[K] } = {
    userId: who.userId,
    profileId: profile.id,
    identity: who.identity,
  };
  if (who.appId !== undefined) caller.appId = who.appId;
  if (who.keyId !== undefined) caller.keyId = who.keyId;
  if (profile.tier !== undefined) caller.tier = profile.tier;
  return admissionOf(g, profile, caller, resolvePriority(g, profile, headers), who.consumed);
}

/** The global list followed by the profile's, without a copy when one of them is empty (the usual case). */
function both<T>(global: readonly T[], own: readonly T[]): readonly T[] {
  if (own.length === 0) return global;
  return global.length === 0 ? own : [...global, ...own];
}
