import type { GovernanceConfig, ProfileConfig } from '../../config/governance-schema.js';
import type { Admission, Caller } from './admission.js';
import { ADMIN_KEY_HEADER } from './credential-headers.js';

/** The built-in profile of anonymous callers when `identity.anonymous.profile` names none. */
export const ANONYMOUS_PROFILE: ProfileConfig = Object.freeze({
  id: 'anonymous',
  priority: {},
  requiredHeaders: [],
  headerRules: [],
  stripHeaders: [],
  injectHeaders: {},
  async: { allowed: false, upgradeWhenQueued: false, resultRetentionMs: 24 * 60 * 60 * 1000 },
  quotas: { scope: 'caller' },
  suspended: false,
}) as ProfileConfig;

/**
 * An admission of `caller` under `profile`: the header changes before the call goes upstream (the
 * credentials consumed, identity and priority headers, the profile's strip list removed; its inject list
 * set), and its async settings.
 *
 * @example
 * admissionOf(g, profile, caller, resolvePriority(g, profile, headers), ['api-key', 'authorization'])
 */
export function admissionOf(
  g: GovernanceConfig,
  profile: ProfileConfig,
  caller: Caller,
  priority: number,
  consumed: readonly string[],
): Admission {
  return {
    caller,
    profile,
    priority,
    upstreamHeaders: headerChanges(g, profile, consumed),
    asyncAllowed: profile.async.allowed,
    asyncUpgradeWhenQueued: profile.async.allowed && profile.async.upgradeWhenQueued,
    asyncResultRetentionMs: profile.async.resultRetentionMs,
    governance: g,
  };
}

type HeaderChanges = Admission['upstreamHeaders'];

/**
 * The header changes of a profile under one governance snapshot, built once per snapshot, profile and set of
 * consumed credential headers (they depend on nothing else), then shared by every call admitted with them:
 * frozen, so no call can change another's.
 */
const headerChangesBySnapshot = new WeakMap<GovernanceConfig, WeakMap<ProfileConfig, Map<string, HeaderChanges>>>();

function headerChanges(g: GovernanceConfig, profile: ProfileConfig, consumed: readonly string[]): HeaderChanges {
  let byProfile = headerChangesBySnapshot.get(g);
  if (byProfile === undefined) headerChangesBySnapshot.set(g, (byProfile = new WeakMap()));
  let byConsumed = byProfile.get(profile);
  if (byConsumed === undefined) byProfile.set(profile, (byConsumed = new Map()));
  const key = consumed.join('\n');
  let changes = byConsumed.get(key);
  if (changes === undefined) byConsumed.set(key, (changes = buildHeaderChanges(g, profile, consumed)));
  return changes;
}

function buildHeaderChanges(g: GovernanceConfig, profile: ProfileConfig, consumed: readonly string[]): HeaderChanges {
  const tu = g.identity.trustedUpstream;
  const remove = new Set(
    [
      ...consumed,
      tu.principalIdHeader,
      tu.principalHeader,
      tu.profileHeader,
      tu.userHeader,
      ADMIN_KEY_HEADER,
      ...g.priority.headers,
      ...profile.stripHeaders,
    ].map((h) => h.toLowerCase()),
  );
  const set: Record<string, string> = {};
  for (const [name, value] of Object.entries(profile.injectHeaders)) set[name.toLowerCase()] = value;
  return Object.freeze({ set: Object.freeze(set), remove: Object.freeze([...remove]) });
}
