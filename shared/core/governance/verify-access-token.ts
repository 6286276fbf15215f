import type { AccessTokenClaims, AccessTokenVerifier } from '../../ports/access-token-verifier.js';
import { GatewayError } from '../errors/gateway-error.js';

/**
 * Verifies an Entra access token: its claims, or 401 `GW_ERR_AUTH_INVALID_TOKEN` (a verifier's own
 * `GatewayError` passes as it is). Without a verifier the configuration is wrong: 500 `GW_ERR_INTERNAL`.
 *
 * @example
 * const claims = await verifyAccessToken(deps.verifier, bearer);
 */
export async function verifyAccessToken(
  verifier: AccessTokenVerifier | undefined,
  token: string,
): Promise<AccessTokenClaims> {
  if (verifier === undefined) {
    throw new GatewayError('GW_ERR_INTERNAL', {
      message: 'Entra ID validation is configured but no access token verifier was provided.',
    });
  }
  try {
    return await verifier.verify(token);
  } catch (error) {
    if (error instanceof GatewayError) throw error;
    throw new GatewayError('GW_ERR_AUTH_INVALID_TOKEN', {
      message: 'The access token could not be verified.',
      cause: error,
    });
  }
}
