import type { GovernanceConfig } from '../../config/governance-schema.js';
import type { JobOwner } from '../../ports/job-store.js';
import { GatewayError } from '../errors/gateway-error.js';
import { admissionOf, ANONYMOUS_PROFILE } from './admission-of.js';
import type { Admission, Caller } from './admission.js';
import { checkCallerStanding } from './caller-standing.js';
import { governanceIndex } from './governance-index.js';

/**
 * Admits an async job's owner under the governance `g` in force now, instead of a credential: its profile
 * must still exist and allow async mode, the API key that submitted the job must still be configured, and
 * the owner must be in good standing. The priority is never more urgent than the profile allows now.
 *
 * @example
 * const admitted = admitOwner(deps.governance(), job.owner, job.priority);
 */
export function admitOwner(g: GovernanceConfig, owner: JobOwner, priority: number): Admission {
  const ix = governanceIndex(g);
  const profileId = owner.profileId ?? ANONYMOUS_PROFILE.id;
  const profile = ix.profiles.get(profileId) ?? (profileId === ANONYMOUS_PROFILE.id ? ANONYMOUS_PROFILE : undefined);
  if (profile === undefined)
    throw new GatewayError('GW_ERR_AUTH_PROFILE_NOT_FOUND', {
      message: `The job owner's profile ${profileId} no longer exists.`,
    });
  const key = owner.keyId === undefined ? undefined : ix.apiKeys.find((k) => k.id === owner.keyId);
  if (owner.keyId !== undefined && (key === undefined || !g.identity.apiKeys.enabled))
    throw new GatewayError('GW_ERR_AUTH_INVALID_KEY', {
      message: `The API key ${owner.keyId} that submitted the job is no longer configured.`,
    });
  checkCallerStanding(ix, profile, { ...owner, keySuspended: key?.suspended });
  if (!profile.async.allowed)
    throw new GatewayError('GW_ERR_POLICY_ASYNC_NOT_ALLOWED', {
      message: `Profile ${profile.id} no longer allows async jobs.`,
    });
  const caller: Caller = {
    userId: owner.userId,
    profileId: profile.id,
    identity: owner.keyId !== undefined ? 'api-key' : 'anonymous',
    ...(owner.appId === undefined ? {} : { appId: owner.appId }),
    ...(owner.keyId === undefined ? {} : { keyId: owner.keyId }),
    ...(profile.tier === undefined ? {} : { tier: profile.tier }),
  };
  return admissionOf(g, profile, caller, Math.max(priority, profile.priority.max ?? 1), []);
}
