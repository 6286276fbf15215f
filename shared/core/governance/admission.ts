import type { GovernanceConfig, ProfileConfig } from '../../config/governance-schema.js';
import type { AccessTokenClaims, AccessTokenVerifier } from '../../ports/access-token-verifier.js';
import type { JobOwner } from '../../ports/job-store.js';
import type { QuotaStore } from '../../ports/quota-store.js';
import type { Clock } from '../clock.js';
import { GatewayError } from '../errors/gateway-error.js';
import { checkHeaderRules } from './check-header-rules.js';
import { estimateRequestTokens, requestCost } from './estimate-request-tokens.js';
import { findKeyByHash } from './find-key-by-hash.js';
import { governanceIndex, type GovernanceIndex } from './governance-index.js';
import { matchNamePattern } from './match-name-pattern.js';
import { parseClientPrincipal } from './parse-client-principal.js';
import { createQuotaGuard, type QuotaReservation } from './quota-guard.js';
import { resolvePriority } from './resolve-priority.js';

/** How the caller was identified. */
export type CallerIdentity = 'api-key' | 'entra' | 'trusted-upstream' | 'anonymous';

/** Who is calling, as recorded with usage and used for fair share and quotas. */
export interface Caller {
  /** The user: the key's `userId` (default `key:<id>`), the token's `oid`, `X-UserID`, or `anonymous`. */
  readonly userId: string;
  /** Entra application id (token `azp`/`appid`, or `X-MS-CLIENT-PRINCIPAL-ID`). */
  readonly appId?: string;
  /** The API key's configured id (never the key). */
  readonly keyId?: string;
  readonly profileId: string;
  readonly tier?: string;
  readonly identity: CallerIdentity;
}

/** The outcome of a successful {@link GatewayAdmission.admit}. */
export interface Admission {
  readonly caller: Caller;
  readonly profile: ProfileConfig;
  /** Priority level, 1 = most urgent, already clamped to what the profile allows. */
  readonly priority: number;
  /**
   * Changes to the request headers before it goes upstream: first remove every name in `remove`
   * (lower-case; includes the credential headers the gateway consumed), then set `set`.
   */
  readonly upstreamHeaders: { readonly set: Readonly<Record<string, string>>; readonly remove: readonly string[] };
  readonly asyncAllowed: boolean;
  /** A queued call that did not opt in becomes a job at the sync wait (`profiles[].async.upgradeWhenQueued`). */
  readonly asyncUpgradeWhenQueued: boolean;
  /** How long this caller's async results are kept. */
  readonly asyncResultRetentionMs: number;
  /** The governance snapshot this request was admitted under (later checks of the request use it too). */
  readonly governance: GovernanceConfig;
}

/** The target a request resolved to, checked against the profile's allowlists. */
export interface AdmissionTarget {
  readonly routeId: string;
  /** OpenAI `model` (or the model the caller asked for). */
  readonly model?: string | undefined;
  /** Azure OpenAI deployment name from the path. */
  readonly deployment?: string | undefined;
}

/** Who passed {@link GatewayAdmission.authorizeAdmin}. */
export interface AdminPrincipal {
  readonly adminId: string;
  readonly via: 'admin-key' | 'entra-role';
}

/** The governance step of the request pipeline. */
export interface GatewayAdmission {
  /**
   * Identifies the caller, finds its profile, enforces suspension, app allowlist and header rules, and
   * assigns the priority. Reads headers only (never the body). Throws {@link GatewayError}: 400
   * `GW_ERR_REQUEST_INVALID_HEADER`, 401 `GW_ERR_AUTH_MISSING` / `_INVALID_KEY` / `_INVALID_TOKEN`, 403
   * `GW_ERR_AUTH_APP_NOT_ALLOWED` / `_PROFILE_NOT_FOUND` / `_SUSPENDED`, 417 `GW_ERR_POLICY_REQUIRED_HEADER`
   * / `_HEADER_RULE`.
   */
  admit(input: { method: string; path: string; headers: Headers }): Promise<Admission>;
  /**
   * Re-checks the standing of an async job's owner under the governance in force now — when the job starts
   * and on every retry — instead of a credential: the owner's profile must still exist, allow async mode
   * and admit its app; neither the profile, the API key that submitted the job, the user nor the app may
   * be suspended (or the key removed). Throws the same 401/403 errors as {@link admit}
   * (`GW_ERR_AUTH_SUSPENDED`, `_PROFILE_NOT_FOUND`, `_APP_NOT_ALLOWED`, `_INVALID_KEY`,
   * `GW_ERR_POLICY_ASYNC_NOT_ALLOWED`). The answer's profile then checks the route and model allowlists.
   */
  admitOwner(owner: JobOwner, priority: number): Admission;
  /** Throws 403 `GW_ERR_POLICY_MODEL_NOT_ALLOWED` when the profile may not use this route, model or deployment. */
  authorizeTarget(admission: Admission, target: AdmissionTarget): void;
  /**
   * Reserves the request's estimated tokens (output cap × answers asked for, plus the prompt) against the
   * profile's minute and day quotas. Resolves to `undefined` when the profile has no quota; throws 429
   * `GW_ERR_QUOTA_EXCEEDED` with `retryAfterMs`, or 400 `GW_ERR_REQUEST_INVALID_PARAMETER` for an output
   * cap or answer count that is not a bounded integer (checked with or without a quota).
   */
  reserveTokens(admission: Admission, body: unknown): Promise<QuotaReservation | undefined>;
  /**
   * Admits an admin call: an admin key in `x-gateway-admin-key`, or an Entra token carrying one of the
   * configured admin roles. With neither configured the admin API is closed. Throws 401
   * `GW_ERR_AUTH_INVALID_KEY` / `_INVALID_TOKEN` or 403 `GW_ERR_AUTH_ADMIN_REQUIRED`.
   */
  authorizeAdmin(headers: Headers): Promise<AdminPrincipal>;
}

/** Dependencies of {@link createAdmission}. */
export interface AdmissionDeps {
  /** The current governance snapshot; read once per call, so a reload applies from the next request. */
  readonly governance: () => GovernanceConfig;
  /** Required when Entra mode or admin roles are configured. */
  readonly verifier?: AccessTokenVerifier | undefined;
  readonly quotas: QuotaStore;
  readonly clock: Clock;
}

const ADMIN_KEY_HEADER = 'x-gateway-admin-key';
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/** The built-in profile of anonymous callers when `identity.anonymous.profile` names none. */
const ANONYMOUS_PROFILE: ProfileConfig = Object.freeze({
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

interface Identified {
  readonly identity: CallerIdentity;
  readonly userId: string;
  readonly appId?: string | undefined;
  readonly keyId?: string | undefined;
  readonly keySuspended?: boolean;
  readonly profileId: string | undefined;
  /** True when the profile was named by the caller side (X-UserProfile) rather than by configuration. */
  readonly profileFromHeader?: boolean;
  /** Credential headers consumed (never forwarded). */
  readonly consumed: readonly string[];
}

/**
 * Creates the governance step the pipeline calls for every request. Identity modes are tried in a fixed
 * order, and a credential that is presented but wrong is refused — never passed on to the next mode:
 *
 * 1. `api-key` header (API key mode);
 * 2. `Authorization: Bearer <t>` — a JWT (three base64url segments) when Entra mode is on, else an API key
 *    when API key mode is on;
 * 3. trusted upstream headers (`X-MS-CLIENT-PRINCIPAL-ID`, `X-MS-CLIENT-PRINCIPAL`, `X-UserProfile`,
 *    `X-UserID`) when that mode is on — ignored otherwise;
 * 4. anonymous, when allowed; else 401 `GW_ERR_AUTH_MISSING`.
 *
 * @example
 * const admission = createAdmission({
 *   governance: () => store.current().governance,
 *   verifier,
 *   quotas: new MemoryQuotaStore(),
 *   clock: systemClock,
 * });
 * const path = url.pathname + url.search;
 * const admitted = await admission.admit({ method: request.method, path, headers: request.headers });
 * admission.authorizeTarget(admitted, { routeId: route.id, model });
 * const held = await admission.reserveTokens(admitted, body);
 */
export function createAdmission(deps: AdmissionDeps): GatewayAdmission {
  const guard = createQuotaGuard({ store: deps.quotas, clock: deps.clock });

  async function verify(token: string): Promise<AccessTokenClaims> {
    if (deps.verifier === undefined) {
      throw new GatewayError('GW_ERR_INTERNAL', {
        message: 'Entra ID validation is configured but no access token verifier was provided.',
      });
    }
    try {
      return await deps.verifier.verify(token);
    } catch (error) {
      if (error instanceof GatewayError) throw error;
      throw new GatewayError('GW_ERR_AUTH_INVALID_TOKEN', {
        message: 'The access token could not be verified.',
        cause: error,
      });
    }
  }

  function byApiKey(ix: GovernanceIndex, presented: string, consumed: string[]): Identified {
    const key = findKeyByHash(ix.apiKeys, presented.trim());
    if (key === undefined) throw new GatewayError('GW_ERR_AUTH_INVALID_KEY');
    return {
      identity: 'api-key',
      userId: key.userId,
      keyId: key.id,
      keySuspended: key.suspended,
      profileId: key.profile,
      consumed,
    };
  }

  async function byToken(ix: GovernanceIndex, token: string, consumed: string[]): Promise<Identified> {
    const claims = await verify(token);
    const appId = str(claims.azp) ?? str(claims.appid);
    if (appId === undefined)
      throw new GatewayError('GW_ERR_AUTH_INVALID_TOKEN', {
        message: 'The access token names no client application (azp/appid).',
      });
    const profileId = ix.apps.get(appId.toLowerCase());
    if (profileId === undefined)
      throw new GatewayError('GW_ERR_AUTH_APP_NOT_ALLOWED', {
        message: `Application ${appId} is not allowed to call this gateway.`,
      });
    return { identity: 'entra', userId: str(claims.oid) ?? str(claims.sub) ?? appId, appId, profileId, consumed };
  }

  function byTrustedUpstream(
    g: GovernanceConfig,
    ix: GovernanceIndex,
    headers: Headers,
    consumed: string[],
  ): Identified | undefined {
    const tu = g.identity.trustedUpstream;
    const principalId = nonEmpty(headers.get(tu.principalIdHeader));
    const principalRaw = nonEmpty(headers.get(tu.principalHeader));
    const profileHeader = nonEmpty(headers.get(tu.profileHeader));
    const userHeader = nonEmpty(headers.get(tu.userHeader));
    if (
      principalId === undefined &&
      principalRaw === undefined &&
      profileHeader === undefined &&
      userHeader === undefined
    )
      return undefined;
    const principal = principalRaw === undefined ? undefined : parseClientPrincipal(principalRaw);
    if (principalRaw !== undefined && principal === undefined) {
      throw new GatewayError('GW_ERR_REQUEST_INVALID_HEADER', {
        message: `Header ${tu.principalHeader} is not a base64 JSON client principal.`,
        param: tu.principalHeader,
      });
    }
    const appId = principalId ?? principal?.appId;
    const appProfile = appId === undefined ? undefined : ix.apps.get(appId.toLowerCase());
    let profileId = profileHeader ?? appProfile ?? tu.defaultProfile;
    if (appId !== undefined && appProfile === undefined) {
      // The seed's App-ID gate, without its dependence on other settings: an app id is admitted only when
      // configured — in `apps`, or in the allowedAppIds of the profile the upstream named.
      const named = profileHeader === undefined ? undefined : ix.profiles.get(profileHeader);
      if (!named?.allowedAppIds?.some((a) => a.toLowerCase() === appId.toLowerCase())) {
        throw new GatewayError('GW_ERR_AUTH_APP_NOT_ALLOWED', {
          message: `Application ${appId} is not allowed to call this gateway.`,
        });
      }
    }
    if (profileId === undefined) {
      throw new GatewayError('GW_ERR_AUTH_PROFILE_NOT_FOUND', {
        message:
          `No caller profile: send ${tu.profileHeader} or configure ` +
          `governance.identity.trustedUpstream.defaultProfile.`,
      });
    }
    profileId = profileId.trim();
    return {
      identity: 'trusted-upstream',
      userId: userHeader ?? principal?.userId ?? appId ?? 'anonymous',
      appId,
      profileId,
      profileFromHeader: profileHeader !== undefined,
      consumed,
    };
  }

  async function identify(g: GovernanceConfig, ix: GovernanceIndex, headers: Headers): Promise<Identified> {
    const id = g.identity;
    const consumed = ['api-key', 'authorization'];
    const apiKey = nonEmpty(headers.get('api-key'));
    if (id.apiKeys.enabled && apiKey !== undefined) return byApiKey(ix, apiKey, consumed);
    const bearer = bearerToken(headers);
    if (bearer !== undefined) {
      if (id.entra.enabled && JWT_SHAPE.test(bearer)) return byToken(ix, bearer, consumed);
      if (id.apiKeys.enabled) return byApiKey(ix, bearer, consumed);
      if (id.entra.enabled)
        throw new GatewayError('GW_ERR_AUTH_INVALID_TOKEN', { message: 'The bearer token is not a JWT.' });
    }
    if (id.trustedUpstream.enabled) {
      const trusted = byTrustedUpstream(g, ix, headers, consumed);
      if (trusted !== undefined) return trusted;
    }
    if (id.anonymous.allowed)
      return { identity: 'anonymous', userId: 'anonymous', profileId: id.anonymous.profile, consumed: [] };
    const accepted = [
      id.apiKeys.enabled && 'an API key (api-key or Authorization: Bearer)',
      id.entra.enabled && 'an Entra ID access token (Authorization: Bearer)',
      id.trustedUpstream.enabled && 'a trusted upstream identity',
    ].filter(Boolean);
    throw new GatewayError('GW_ERR_AUTH_MISSING', {
      message:
        accepted.length === 0
          ? 'No caller identity is configured on this gateway and anonymous access is off.'
          : `No credentials were presented: send ${accepted.join(', or ')}.`,
    });
  }

  return {
    async admit({ path, headers }) {
      const g = deps.governance();
      const ix = governanceIndex(g);
      checkHeaderValues(headers, g.limits.maxHeaderValueBytes);
      const who = await identify(g, ix, headers);
      const profile = who.profileId === undefined ? ANONYMOUS_PROFILE : ix.profiles.get(who.profileId);
      if (profile === undefined) {
        throw new GatewayError('GW_ERR_AUTH_PROFILE_NOT_FOUND', {
          message: `User profile not found: ${who.profileId ?? ''}`,
        });
      }
      checkStanding(ix, profile, who);
      checkHeaderRules(
        headers,
        path,
        [...g.rules.requiredHeaders, ...profile.requiredHeaders],
        [...g.rules.headerRules, ...profile.headerRules],
      );

      const caller: Caller = {
        userId: who.userId,
        profileId: profile.id,
        identity: who.identity,
        ...(who.appId === undefined ? {} : { appId: who.appId }),
        ...(who.keyId === undefined ? {} : { keyId: who.keyId }),
        ...(profile.tier === undefined ? {} : { tier: profile.tier }),
      };
      return admissionOf(g, profile, caller, resolvePriority(g, profile, headers), who.consumed);
    },

    admitOwner(owner, priority) {
      const g = deps.governance();
      const ix = governanceIndex(g);
      const profileId = owner.profileId ?? ANONYMOUS_PROFILE.id;
      const profile =
        ix.profiles.get(profileId) ?? (profileId === ANONYMOUS_PROFILE.id ? ANONYMOUS_PROFILE : undefined);
      if (profile === undefined)
        throw new GatewayError('GW_ERR_AUTH_PROFILE_NOT_FOUND', {
          message: `The job owner's profile ${profileId} no longer exists.`,
        });
      const key = owner.keyId === undefined ? undefined : ix.apiKeys.find((k) => k.id === owner.keyId);
      if (owner.keyId !== undefined && (key === undefined || !g.identity.apiKeys.enabled))
        throw new GatewayError('GW_ERR_AUTH_INVALID_KEY', {
          message: `The API key ${owner.keyId} that submitted the job is no longer configured.`,
        });
      checkStanding(ix, profile, { ...owner, keySuspended: key?.suspended });
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
      // Never more urgent than the profile allows now.
      return admissionOf(g, profile, caller, Math.max(priority, profile.priority.max ?? 1), []);
    },

    authorizeTarget(admission, target) {
      const p = admission.profile;
      const refuse = (what: string): never => {
        throw new GatewayError('GW_ERR_POLICY_MODEL_NOT_ALLOWED', { message: `Profile ${p.id} may not use ${what}.` });
      };
      if (p.allowedRoutes !== undefined && !matchNamePattern(p.allowedRoutes, target.routeId))
        refuse(`route "${target.routeId}"`);
      if (
        target.model !== undefined &&
        p.allowedModels !== undefined &&
        !matchNamePattern(p.allowedModels, target.model)
      )
        refuse(`model "${target.model}"`);
      const deployments = p.allowedDeployments ?? p.allowedModels;
      if (
        target.deployment !== undefined &&
        deployments !== undefined &&
        !matchNamePattern(deployments, target.deployment)
      )
        refuse(`deployment "${target.deployment}"`);
    },

    async reserveTokens(admission, body) {
      const q = admission.profile.quotas;
      // An absurd output cap or answer count is the caller's error with or without a quota.
      requestCost(body);
      if (q.tokensPerMinute === undefined && q.tokensPerDay === undefined) return undefined;
      const settings = admission.governance.quotas;
      const amount = estimateRequestTokens(body, {
        defaultMaxOutputTokens: settings.defaultMaxOutputTokens,
        charsPerToken: settings.promptCharsPerToken,
      });
      const subject =
        q.scope === 'profile'
          ? `profile:${admission.profile.id}`
          : `caller:${admission.profile.id}:${admission.caller.userId}`;
      return guard.reserve(subject, q, amount);
    },

    async authorizeAdmin(headers) {
      const admin = deps.governance().admin;
      const ix = governanceIndex(deps.governance());
      if (admin.keys.length === 0 && admin.entraRoles.length === 0) {
        throw new GatewayError('GW_ERR_AUTH_ADMIN_REQUIRED', {
          message: 'The admin API is closed: configure governance.admin.keys or governance.admin.entraRoles.',
        });
      }
      const presented = nonEmpty(headers.get(ADMIN_KEY_HEADER));
      if (presented !== undefined && admin.keys.length > 0) {
        const key = findKeyByHash(ix.adminKeys, presented);
        if (key === undefined)
          throw new GatewayError('GW_ERR_AUTH_INVALID_KEY', { message: 'The admin key is not valid.' });
        return { adminId: key.id, via: 'admin-key' };
      }
      const bearer = bearerToken(headers);
      if (bearer !== undefined && admin.entraRoles.length > 0 && JWT_SHAPE.test(bearer)) {
        const claims = await verify(bearer);
        const roles = Array.isArray(claims.roles) ? claims.roles : [];
        if (roles.some((r) => admin.entraRoles.includes(r))) {
          return {
            adminId: str(claims.oid) ?? str(claims.sub) ?? str(claims.azp) ?? str(claims.appid) ?? 'entra',
            via: 'entra-role',
          };
        }
        throw new GatewayError('GW_ERR_AUTH_ADMIN_REQUIRED', {
          message: `The access token carries none of the admin roles (${admin.entraRoles.join(', ')}).`,
        });
      }
      throw new GatewayError('GW_ERR_AUTH_ADMIN_REQUIRED');
    },
  };
}

/**
 * The standing a caller must have under the governance in force: its profile, API key, user and app not
 * suspended, and its app admitted by the profile's `allowedAppIds`.
 */
function checkStanding(
  ix: GovernanceIndex,
  profile: ProfileConfig,
  who: {
    readonly userId: string;
    readonly appId?: string | undefined;
    readonly keyId?: string | undefined;
    readonly keySuspended?: boolean | undefined;
  },
): void {
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

/** An admission of `caller` under `profile`: the header changes before the call goes upstream, async settings. */
function admissionOf(
  g: GovernanceConfig,
  profile: ProfileConfig,
  caller: Caller,
  priority: number,
  consumed: readonly string[],
): Admission {
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
  return {
    caller,
    profile,
    priority,
    upstreamHeaders: { set, remove: [...remove] },
    asyncAllowed: profile.async.allowed,
    asyncUpgradeWhenQueued: profile.async.allowed && profile.async.upgradeWhenQueued,
    asyncResultRetentionMs: profile.async.resultRetentionMs,
    governance: g,
  };
}

/** Refuses header values that could split a header (CR, LF, NUL) or exceed the configured bound. */
function checkHeaderValues(headers: Headers, maxValueBytes: number): void {
  headers.forEach((value, name) => {
    if (/[\r\n\0]/.test(value)) {
      throw new GatewayError('GW_ERR_REQUEST_INVALID_HEADER', {
        message: `Header ${name} contains CR, LF or NUL.`,
        param: name,
      });
    }
    if (Buffer.byteLength(value, 'utf8') > maxValueBytes) {
      throw new GatewayError('GW_ERR_REQUEST_INVALID_HEADER', {
        message: `Header ${name} is longer than ${maxValueBytes} bytes.`,
        param: name,
      });
    }
  });
}

function bearerToken(headers: Headers): string | undefined {
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(headers.get('authorization') ?? '');
  return match?.[1];
}

function nonEmpty(value: string | null): string | undefined {
  const trimmed = value?.trim();
  return trimmed === undefined || trimmed === '' ? undefined : trimmed;
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}
