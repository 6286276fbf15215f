import type { GovernanceConfig, ProfileConfig } from '../../config/governance-schema.js';
import type { HeaderReader } from '../http/header-map.js';

/**
 * The priority level of a request (1 = most urgent). Start from the profile: its `priority.default`,
 * else its tier's level, else `priority.defaultLevel`. A priority key in one of `priority.headers`
 * (`x-gateway-priority`, the seed's `S7PPriorityKey`), looked up case-insensitively in `priority.keys`,
 * replaces it; an unknown key is ignored. The result is clamped so that it is never more urgent than the
 * profile's `priority.max` (which defaults to its default level): a caller asking for 1 when its profile's
 * best is 2 gets 2.
 *
 * @example
 * // priority.keys = { "urgent": 1, "batch": 3 }, profile { priority: { default: 2, max: 2 } }
 * resolvePriority(governance, profile, new Headers({ 'x-gateway-priority': 'urgent' })) // → 2
 */
export function resolvePriority(governance: GovernanceConfig, profile: ProfileConfig, headers: HeaderReader): number {
  const tierLevel = profile.tier === undefined ? undefined : governance.tiers[profile.tier];
  const base = profile.priority.default ?? tierLevel ?? governance.priority.defaultLevel;
  const best = profile.priority.max ?? base;
  let level = base;
  for (const name of governance.priority.headers) {
    const key = headers.get(name)?.trim().toLowerCase();
    if (key === undefined || key === '') continue;
    const match = Object.entries(governance.priority.keys).find(([k]) => k.toLowerCase() === key);
    if (match !== undefined) {
      level = match[1];
      break;
    }
  }
  return Math.max(level, best);
}
