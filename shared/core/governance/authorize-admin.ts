import type { GovernanceConfig } from '../../config/governance-schema.js';
import { GatewayError } from '../errors/gateway-error.js';
import type { AdminPrincipal } from './admission.js';
import { ADMIN_KEY_HEADER, bearerToken, claimString, JWT_SHAPE, nonEmpty } from './credential-headers.js';
import { findKeyByHash } from './find-key-by-hash.js';
import { governanceIndex } from './governance-index.js';
import type { VerifyToken } from './identify-caller.js';
import type { HeaderReader } from '../http/header-map.js';

/**
 * Admits an admin call: an admin key in `x-gateway-admin-key`, or an Entra token carrying one of the
 * configured admin roles. With neither configured the admin API is closed. Throws 401
 * `GW_ERR_AUTH_INVALID_KEY` / `_INVALID_TOKEN` or 403 `GW_ERR_AUTH_ADMIN_REQUIRED`.
 *
 * @example
 * const admin = await authorizeAdmin(deps.governance(), request.headers, verify); // { adminId, via }
 */
export async function authorizeAdmin(
  g: GovernanceConfig,
  headers: HeaderReader,
  verify: VerifyToken,
): Promise<AdminPrincipal> {
  const { admin } = g;
  if (admin.keys.length === 0 && admin.entraRoles.length === 0) {
    throw new GatewayError('GW_ERR_AUTH_ADMIN_REQUIRED', {
      message: 'The admin API is closed: configure governance.admin.keys or governance.admin.entraRoles.',
    });
  }
  const presented = nonEmpty(headers.get(ADMIN_KEY_HEADER));
  if (presented !== undefined && admin.keys.length > 0) {
    const key = findKeyByHash(governanceIndex(g).adminKeys, presented);
    if (key === undefined)
      throw new GatewayError('GW_ERR_AUTH_INVALID_KEY', { message: 'The admin key is not valid.' });
    return { adminId: key.id, via: 'admin-key' };
  }
  const bearer = bearerToken(headers);
  if (bearer !== undefined && admin.entraRoles.length > 0 && JWT_SHAPE.test(bearer)) {
    const claims = await verify(bearer);
    const roles = Array.isArray(claims.roles) ? claims.roles : [];
    if (roles.some((r) => admin.entraRoles.includes(r))) {
      const { oid, sub, azp, appid } = claims;
      const adminId = claimString(oid) ?? claimString(sub) ?? claimString(azp) ?? claimString(appid) ?? 'entra';
      return { adminId, via: 'entra-role' };
    }
    throw new GatewayError('GW_ERR_AUTH_ADMIN_REQUIRED', {
      message: `The access token carries none of the admin roles (${admin.entraRoles.join(', ')}).`,
    });
  }
  throw new GatewayError('GW_ERR_AUTH_ADMIN_REQUIRED');
}
