import { z } from 'zod';
import { didYouMean, nameList } from './did-you-mean.js';

/**
 * The `governance` section of the gateway configuration: caller identity (API keys, Entra ID, trusted
 * upstream, anonymous), caller profiles and their rules, priority keys, token quotas, suspension and
 * admin access. Every field has a default, so `{}` parses to a closed configuration (no identity mode on,
 * anonymous access off, admin API closed). Hot-reloadable: the engine reads it per request.
 *
 * Compatibility: field names are a public contract documented in `docs/governance.md`.
 *
 * @example
 * governanceSchema.parse({
 *   identity: { apiKeys: { enabled: true, keys: [{ id: 'team-a', sha256: '9f86d0…', profile: 'standard' }] } },
 *   profiles: [{ id: 'standard', tier: 'standard', quotas: { tokensPerMinute: 50_000 } }],
 * });
 */

const idSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, 'an id is 1-128 characters: letters, digits, ".", "_", "-"');

/** RFC 9110 token: what a header name may contain. */
const headerNameSchema = z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,256}$/, 'not a valid HTTP header name');

/** A header value the gateway may send upstream: no CR, LF or NUL (header injection), at most 8 KiB. */
const headerValueSchema = z
  .string()
  .max(8192, 'a header value is at most 8192 characters')
  .refine((v) => !/[\r\n\0]/.test(v), 'a header value may not contain CR, LF or NUL');

const sha256HexSchema = z
  .string()
  .regex(/^[0-9a-fA-F]{64}$/, 'sha256 must be 64 hexadecimal characters (the hash of the key, never the key itself)')
  .transform((v) => v.toLowerCase());

/** A priority level: 1 is the most urgent. */
const levelSchema = z.number().int().min(1).max(100);

/**
 * A name pattern list: exact (case-insensitive) names, or prefixes with a trailing `*`; `*` alone matches everything.
 */
const globListSchema = z.array(z.string().min(1));

/**
 * A header value rule (the seed's `ValidateHeaders` `Source=Allowed`): the trimmed value of `header` must
 * equal one entry of `allowed` (case-insensitive) or start with an entry that ends in `*`. The pseudo
 * header `:path` (alias `S7Path`) is the request path with its query. A missing header fails as a
 * required header.
 */
export const headerRuleSchema = z
  .object({
    header: z.union([headerNameSchema, z.literal(':path')]),
    allowed: z.array(z.string().min(1)).min(1),
  })
  .strict();

export const apiKeySchema = z
  .object({
    /** Names the key in logs and usage records (never the key itself). */
    id: idSchema,
    /** Lower-case hex SHA-256 of the key's UTF-8 bytes. */
    sha256: sha256HexSchema,
    profile: idSchema,
    /** The user id recorded for this key; default `key:<id>`. */
    userId: z.string().min(1).max(256).optional(),
    suspended: z.boolean().default(false),
  })
  .strict();

export const appSchema = z
  .object({
    /**
     * Entra application (client) id: the token's `azp`/`appid`, or `X-MS-CLIENT-PRINCIPAL-ID` from a trusted upstream.
     */
    appId: z.string().min(1).max(256),
    profile: idSchema,
    description: z.string().optional(),
  })
  .strict();

export const profileSchema = z
  .object({
    id: idSchema,
    description: z.string().optional(),
    /** Tier name, mapped to a priority level by `tiers`; recorded with usage for chargeback. */
    tier: z.string().min(1).optional(),
    priority: z
      .object({
        /** Level when the caller asks for none; default: the tier's level, else `priority.defaultLevel`. */
        default: levelSchema.optional(),
        /**
         * The most urgent level this profile may ask for; default: its default level (callers may only lower urgency).
         */
        max: levelSchema.optional(),
      })
      .strict()
      .default({}),
    /** Route ids this profile may use (glob with trailing `*`); absent = every route. */
    allowedRoutes: globListSchema.optional(),
    /** Model names (OpenAI `model`) this profile may use; absent = every model. */
    allowedModels: globListSchema.optional(),
    /** Azure OpenAI deployment names; absent = checked against `allowedModels`. */
    allowedDeployments: globListSchema.optional(),
    /** When set, only these application ids may act under this profile. */
    allowedAppIds: z.array(z.string().min(1)).optional(),
    /** Headers that must be present and non-empty (417 otherwise). */
    requiredHeaders: z.array(headerNameSchema).default([]),
    headerRules: z.array(headerRuleSchema).default([]),
    /** Request headers never forwarded upstream for this profile. */
    stripHeaders: z.array(headerNameSchema).default([]),
    /** Headers set on the upstream request (overwrite the caller's). */
    injectHeaders: z.record(headerNameSchema, headerValueSchema).default({}),
    async: z
      .object({
        allowed: z.boolean().default(false),
        /**
         * A call of this profile that did not ask for async mode but still waits in the queue at
         * `async.syncWaitMs` becomes a job (202 + Location). Off by default: an ordinary OpenAI client
         * cannot read a 202. Needs `allowed`.
         */
        upgradeWhenQueued: z.boolean().default(false),
        /** How long an async job's result is kept for this profile. */
        resultRetentionMs: z
          .number()
          .int()
          .positive()
          .default(24 * 60 * 60 * 1000),
      })
      .strict()
      .refine((a) => a.allowed || !a.upgradeWhenQueued, {
        message: 'upgradeWhenQueued needs allowed: a call is upgraded to an async job only where async is allowed',
        path: ['upgradeWhenQueued'],
      })
      .default({ allowed: false, upgradeWhenQueued: false, resultRetentionMs: 24 * 60 * 60 * 1000 }),
    quotas: z
      .object({
        tokensPerMinute: z.number().int().positive().optional(),
        tokensPerDay: z.number().int().positive().optional(),
        /** `caller`: each user of the profile has its own budget; `profile`: all its callers share one. */
        scope: z.enum(['caller', 'profile']).default('caller'),
      })
      .strict()
      .default({ scope: 'caller' }),
    suspended: z.boolean().default(false),
  })
  .strict();

export const identitySchema = z
  .object({
    apiKeys: z
      .object({
        enabled: z.boolean().default(false),
        keys: z.array(apiKeySchema).default([]),
      })
      .strict()
      .default({ enabled: false, keys: [] }),
    entra: z
      .object({
        enabled: z.boolean().default(false),
        /** Tenant id (GUID or domain); the JWKS URI and issuers are derived from it unless given. */
        tenantId: z.string().min(1).optional(),
        /** Accepted `aud` values (the gateway's app id URI and/or client id). */
        audience: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).optional(),
        /** Accepted `iss` values; default the v1 and v2 issuers of `tenantId`. */
        issuers: z.array(z.string().min(1)).optional(),
        jwksUri: z.url().optional(),
        algorithms: z
          .array(z.enum(['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512']))
          .min(1)
          .default(['RS256']),
        clockToleranceSec: z.number().int().min(0).max(600).default(60),
      })
      .strict()
      .default({ enabled: false, algorithms: ['RS256'], clockToleranceSec: 60 }),
    trustedUpstream: z
      .object({
        enabled: z.boolean().default(false),
        /** App id header (EasyAuth); the seed's `ValidateAuthAppIDHeader`. */
        principalIdHeader: headerNameSchema.default('x-ms-client-principal-id'),
        /** Base64 JSON principal (EasyAuth format: `{ auth_typ, claims: [{ typ, val }] }`). */
        principalHeader: headerNameSchema.default('x-ms-client-principal'),
        /** Profile id header (the seed's `UserProfileHeader`). */
        profileHeader: headerNameSchema.default('x-userprofile'),
        /** User id header (the seed's `UniqueUserHeaders`). */
        userHeader: headerNameSchema.default('x-userid'),
        /** Profile for trusted callers that name neither a profile nor a listed app. */
        defaultProfile: idSchema.optional(),
      })
      .strict()
      .default({
        enabled: false,
        principalIdHeader: 'x-ms-client-principal-id',
        principalHeader: 'x-ms-client-principal',
        profileHeader: 'x-userprofile',
        userHeader: 'x-userid',
      }),
    anonymous: z
      .object({
        allowed: z.boolean().default(false),
        /**
         * Profile for anonymous callers; default a built-in open profile `anonymous` (every route and model, no quota).
         */
        profile: idSchema.optional(),
      })
      .strict()
      .default({ allowed: false }),
  })
  .strict();

export const adminSchema = z
  .object({
    /** SHA-256 hashes of admin keys, presented in `x-gateway-admin-key`. */
    keys: z.array(z.object({ id: idSchema, sha256: sha256HexSchema }).strict()).default([]),
    /** Entra app roles (`roles` claim) that grant admin access. */
    entraRoles: z.array(z.string().min(1)).default([]),
  })
  .strict();

export const priorityConfigSchema = z
  .object({
    /** Level for callers whose profile names neither a tier nor a default. */
    defaultLevel: levelSchema.default(2),
    /** Request headers carrying a priority key, tried in order. */
    headers: z.array(headerNameSchema).default(['x-gateway-priority', 'S7PPriorityKey']),
    /** Priority key → level (keys compared case-insensitively). */
    keys: z.record(z.string().min(1), levelSchema).default({}),
  })
  .strict();

export const quotaSettingsSchema = z
  .object({
    /** Output tokens reserved when the request names no `max_tokens`-like field. */
    defaultMaxOutputTokens: z.number().int().positive().default(4096),
    /** Characters per token for the prompt estimate made at admission. */
    promptCharsPerToken: z.number().positive().default(4),
  })
  .strict();

const governanceObject = z
  .object({
    identity: identitySchema.default(identitySchema.parse({})),
    profiles: z.array(profileSchema).default([]),
    /** Application allowlist: app id → profile. Unknown apps are refused (403). */
    apps: z.array(appSchema).default([]),
    /** Tier name → priority level. */
    tiers: z.record(z.string().min(1), levelSchema).default({ interactive: 1, standard: 2, batch: 3 }),
    priority: priorityConfigSchema.default(priorityConfigSchema.parse({})),
    /** User ids or app ids refused with 403 (compared case-insensitively). */
    suspendedUsers: z.array(z.string().min(1)).default([]),
    /** Rules applied to every caller before the profile's own. */
    rules: z
      .object({
        requiredHeaders: z.array(headerNameSchema).default([]),
        headerRules: z.array(headerRuleSchema).default([]),
      })
      .strict()
      .default({ requiredHeaders: [], headerRules: [] }),
    limits: z
      .object({
        /** Longest accepted request header value (400 beyond). */
        maxHeaderValueBytes: z.number().int().positive().default(8192),
      })
      .strict()
      .default({ maxHeaderValueBytes: 8192 }),
    quotas: quotaSettingsSchema.default(quotaSettingsSchema.parse({})),
    admin: adminSchema.default({ keys: [], entraRoles: [] }),
  })
  .strict();

/** The governance section with its cross-reference checks (profiles named by keys, apps, tiers exist). */
export const governanceSchema = governanceObject.superRefine((g, ctx) => {
  const profileIds = checkProfiles(g, ctx);
  const ref = (id: string | undefined, path: (string | number)[]): void => {
    if (id !== undefined && !profileIds.has(id))
      ctx.addIssue({ code: 'custom', path, message: `unknown profile "${id}"${didYouMean(id, profileIds)}` });
  };
  const hashes = new Set<string>();
  g.identity.apiKeys.keys.forEach((k, i) => {
    ref(k.profile, ['identity', 'apiKeys', 'keys', i, 'profile']);
    if (hashes.has(k.sha256))
      ctx.addIssue({
        code: 'custom',
        path: ['identity', 'apiKeys', 'keys', i, 'sha256'],
        message: 'duplicate key hash',
      });
    hashes.add(k.sha256);
  });
  const appIds = new Set<string>();
  g.apps.forEach((a, i) => {
    ref(a.profile, ['apps', i, 'profile']);
    if (appIds.has(a.appId.toLowerCase()))
      ctx.addIssue({ code: 'custom', path: ['apps', i, 'appId'], message: `duplicate app id "${a.appId}"` });
    appIds.add(a.appId.toLowerCase());
  });
  ref(g.identity.trustedUpstream.defaultProfile, ['identity', 'trustedUpstream', 'defaultProfile']);
  ref(g.identity.anonymous.profile, ['identity', 'anonymous', 'profile']);
  checkIdentityModes(g, ctx);
});

type GovernanceInput = z.output<typeof governanceObject>;

/** Profile ids unique, tiers known, priority bounds in order; answers the profile ids. */
function checkProfiles(g: GovernanceInput, ctx: z.RefinementCtx): Set<string> {
  const profileIds = new Set<string>();
  g.profiles.forEach((p, i) => {
    if (profileIds.has(p.id))
      ctx.addIssue({ code: 'custom', path: ['profiles', i, 'id'], message: `duplicate profile id "${p.id}"` });
    profileIds.add(p.id);
    if (p.tier !== undefined && g.tiers[p.tier] === undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['profiles', i, 'tier'],
        message:
          `unknown tier "${p.tier}"${didYouMean(p.tier, Object.keys(g.tiers))} ` +
          `(tiers: ${nameList(Object.keys(g.tiers))}; add it to governance.tiers)`,
      });
    if (p.priority.default !== undefined && p.priority.max !== undefined && p.priority.max > p.priority.default) {
      ctx.addIssue({
        code: 'custom',
        path: ['profiles', i, 'priority'],
        message: `max (${p.priority.max}) is less urgent than default (${p.priority.default}); 1 is the most urgent`,
      });
    }
  });
  return profileIds;
}

/** Entra mode has what it needs to verify tokens; API key mode has a key. */
function checkIdentityModes(g: GovernanceInput, ctx: z.RefinementCtx): void {
  const entra = g.identity.entra;
  if (entra.enabled) {
    if (entra.audience === undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['identity', 'entra', 'audience'],
        message: 'Entra mode needs an audience',
      });
    if (entra.tenantId === undefined && (entra.jwksUri === undefined || entra.issuers === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: ['identity', 'entra'],
        message: 'Entra mode needs tenantId, or both jwksUri and issuers',
      });
    }
  }
  if (g.identity.apiKeys.enabled && g.identity.apiKeys.keys.length === 0) {
    ctx.addIssue({
      code: 'custom',
      path: ['identity', 'apiKeys', 'keys'],
      message: 'API key mode is enabled but no key is configured',
    });
  }
}

/** The validated governance section (frozen inside the gateway config). */
export type GovernanceConfig = z.output<typeof governanceSchema>;
/** What a configuration file may contain under `governance`. */
export type GovernanceConfigInput = z.input<typeof governanceSchema>;
/** One caller profile. */
export type ProfileConfig = z.output<typeof profileSchema>;
/** One header value rule. */
export type HeaderRuleConfig = z.output<typeof headerRuleSchema>;
/** The admin access settings (`governance.admin`). */
export type AdminConfig = z.output<typeof adminSchema>;
