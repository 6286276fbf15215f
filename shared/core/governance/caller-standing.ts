import type { ProfileConfig } from '../../config/governance-schema.js';
import { GatewayError } from '../errors/gateway-error.js';
import type { GovernanceIndex } from './governance-index.js';

/** Who the standing is checked for. */
export interface StandingSubject {
  readonly userId: string;
  readonly appId?: string | undefined;
  readonly keyId?: string | undefined;
  readonly keySuspended?: boolean | undefined;
}

/**
 * The standing a caller must have under the governance in force: its profile, API key, user and app not
 * suspended (403 `GW_ERR_AUTH_SUSPENDED`), and its app admitted by the profile's `allowedAppIds` (403
 * `GW_ERR_AUTH_APP_NOT_ALLOWED`).
 *
 * @example
 * checkCallerStanding(governanceIndex(g), profile, { userId: 'key:alice', keyId: 'alice', keySuspended: false });
 */
export function checkCallerStanding(ix: GovernanceIndex, profile: ProfileConfig, who: StandingSubject): void {
  if (profile.suspended)
    throw new GatewayError('GW_ERR_AUTH_SUSPENDED', { message: `Profile ${profile.id} is suspended.` });
  if (who.keySuspended === true)
    throw new GatewayError('GW_ERR_AUTH_SUSPENDED', { message: `API key ${who.keyId ?? ''} is suspended.` });
  for (const candidate of [who.userId, who.appId]) {
    if (candidate !== undefined && ix.suspended.has(candidate.toLowerCase())) {
      throw new GatewayError('GW_ERR_AUTH_SUSPENDED', { message: `Caller ${candidate} is suspended.` });
    }
  }
  if (
    profile.allowedAppIds !== undefined &&
    !profile.allowedAppIds.some((a) => a.toLowerCase() === who.appId?.toLowerCase())
  ) {
    throw new GatewayError('GW_ERR_AUTH_APP_NOT_ALLOWED', {
      message: `Application ${who.appId ?? '(none)'} may not use profile ${profile.id}.`,
    });
  }
}
