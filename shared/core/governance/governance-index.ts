import type { GovernanceConfig, ProfileConfig } from '../../config/governance-schema.js';

/** Lookup tables derived once per configuration snapshot. */
export interface GovernanceIndex {
  readonly profiles: ReadonlyMap<string, ProfileConfig>;
  /** Lower-cased app id → profile id. */
  readonly apps: ReadonlyMap<string, string>;
  readonly apiKeys: readonly {
    readonly hash: Buffer;
    readonly id: string;
    readonly profile: string;
    readonly userId: string;
    readonly suspended: boolean;
  }[];
  readonly adminKeys: readonly { readonly hash: Buffer; readonly id: string }[];
  /** Lower-cased suspended user and app ids. */
  readonly suspended: ReadonlySet<string>;
}

const cache = new WeakMap<GovernanceConfig, GovernanceIndex>();

/**
 * The lookup tables of a governance snapshot, built on first use and cached for as long as the snapshot
 * lives (a reload produces a new snapshot object and so a new index; in-flight requests keep theirs).
 *
 * @example
 * const profile = governanceIndex(governance).profiles.get('standard');
 */
export function governanceIndex(governance: GovernanceConfig): GovernanceIndex {
  let index = cache.get(governance);
  if (index === undefined) {
    index = {
      profiles: new Map(governance.profiles.map((p) => [p.id, p])),
      apps: new Map(governance.apps.map((a) => [a.appId.toLowerCase(), a.profile])),
      apiKeys: governance.identity.apiKeys.keys.map((k) => ({
        hash: Buffer.from(k.sha256, 'hex'),
        id: k.id,
        profile: k.profile,
        userId: k.userId ?? `key:${k.id}`,
        suspended: k.suspended,
      })),
      adminKeys: governance.admin.keys.map((k) => ({ hash: Buffer.from(k.sha256, 'hex'), id: k.id })),
      suspended: new Set(governance.suspendedUsers.map((u) => u.toLowerCase())),
    };
    cache.set(governance, index);
  }
  return index;
}
