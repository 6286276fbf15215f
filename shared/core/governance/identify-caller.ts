import type { GovernanceConfig } from '../../config/governance-schema.js';
import type { AccessTokenClaims } from '../../ports/access-token-verifier.js';
import { GatewayError } from '../errors/gateway-error.js';
import type { CallerIdentity } from './admission.js';
import { bearerToken, claimString, JWT_SHAPE, nonEmpty } from './credential-headers.js';
import { findKeyByHash } from './find-key-by-hash.js';
import type { GovernanceIndex } from './governance-index.js';
import { parseClientPrincipal } from './parse-client-principal.js';
import type { HeaderReader } from '../http/header-map.js';

/** Who the credentials say is calling, before the profile is looked up. */
export interface Identified {
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

/** Verifies an Entra access token (`verifyAccessToken` with the configured verifier). */
export type VerifyToken = (token: string) => Promise<AccessTokenClaims>;

/**
 * Identifies the caller. Identity modes are tried in a fixed order, and a credential that is presented but
 * wrong is refused — never passed on to the next mode:
 *
 * 1. `api-key` header (API key mode);
 * 2. `Authorization: Bearer <t>` — a JWT (three base64url segments) when Entra mode is on, else an API key
 *    when API key mode is on;
 * 3. trusted upstream headers (`X-MS-CLIENT-PRINCIPAL-ID`, `X-MS-CLIENT-PRINCIPAL`, `X-UserProfile`,
 *    `X-UserID`) when that mode is on — ignored otherwise;
 * 4. anonymous, when allowed; else 401 `GW_ERR_AUTH_MISSING`.
 *
 * @example
 * const who = await identifyCaller(g, governanceIndex(g), request.headers, verify);
 */
export async function identifyCaller(
  g: GovernanceConfig,
  ix: GovernanceIndex,
  headers: HeaderReader,
  verify: VerifyToken,
): Promise<Identified> {
  const id = g.identity;
  const consumed = ['api-key', 'authorization'];
  const apiKey = nonEmpty(headers.get('api-key'));
  if (id.apiKeys.enabled && apiKey !== undefined) return byApiKey(ix, apiKey, consumed);
  const bearer = bearerToken(headers);
  if (bearer !== undefined) {
    if (id.entra.enabled && JWT_SHAPE.test(bearer)) return byToken(ix, await verify(bearer), consumed);
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
  throw noCredentials(g);
}

function noCredentials(g: GovernanceConfig): GatewayError {
  const id = g.identity;
  const accepted = [
    id.apiKeys.enabled && 'an API key (api-key or Authorization: Bearer)',
    id.entra.enabled && 'an Entra ID access token (Authorization: Bearer)',
    id.trustedUpstream.enabled && 'a trusted upstream identity',
  ].filter(Boolean);
  return new GatewayError('GW_ERR_AUTH_MISSING', {
    message:
      accepted.length === 0
        ? 'No caller identity is configured on this gateway and anonymous access is off.'
        : `No credentials were presented: send ${accepted.join(', or ')}.`,
  });
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

function byToken(ix: GovernanceIndex, claims: AccessTokenClaims, consumed: string[]): Identified {
  const appId = claimString(claims.azp) ?? claimString(claims.appid);
  if (appId === undefined)
    throw new GatewayError('GW_ERR_AUTH_INVALID_TOKEN', {
      message: 'The access token names no client application (azp/appid).',
    });
  const profileId = ix.apps.get(appId.toLowerCase());
  if (profileId === undefined)
    throw new GatewayError('GW_ERR_AUTH_APP_NOT_ALLOWED', {
      message: `Application ${appId} is not allowed to call this gateway.`,
    });
  const userId = claimString(claims.oid) ?? claimString(claims.sub) ?? appId;
  return { identity: 'entra', userId, appId, profileId, consumed };
}

function byTrustedUpstream(
  g: GovernanceConfig,
  ix: GovernanceIndex,
  headers: HeaderReader,
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
  if (appId !== undefined && appProfile === undefined) checkUpstreamApp(ix, appId, profileHeader);
  const profileId = profileHeader ?? appProfile ?? tu.defaultProfile;
  if (profileId === undefined) {
    throw new GatewayError('GW_ERR_AUTH_PROFILE_NOT_FOUND', {
      message:
        `No caller profile: send ${tu.profileHeader} or configure ` +
        'governance.identity.trustedUpstream.defaultProfile.',
    });
  }
  return {
    identity: 'trusted-upstream',
    userId: userHeader ?? principal?.userId ?? appId ?? 'anonymous',
    appId,
    profileId: profileId.trim(),
    profileFromHeader: profileHeader !== undefined,
    consumed,
  };
}

/**
 * The seed's App-ID gate, without its dependence on other settings: an app id is admitted only when
 * configured — in `apps`, or in the allowedAppIds of the profile the upstream named.
 */
function checkUpstreamApp(ix: GovernanceIndex, appId: string, profileHeader: string | undefined): void {
  const named = profileHeader === undefined ? undefined : ix.profiles.get(profileHeader);
  if (!named?.allowedAppIds?.some((a) => a.toLowerCase() === appId.toLowerCase())) {
    throw new GatewayError('GW_ERR_AUTH_APP_NOT_ALLOWED', {
      message: `Application ${appId} is not allowed to call this gateway.`,
    });
  }
}
