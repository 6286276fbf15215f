/**
 * Verifies a bearer access token (an Entra ID JWT): signature against the issuer's current signing keys,
 * issuer, audience, expiry and not-before (with a small clock skew), allowed algorithms.
 *
 * Contract for implementations: resolve with the token's claims when every check passes; reject with a
 * `GatewayError('GW_ERR_AUTH_INVALID_TOKEN', { message })` naming the failed check when the token is not
 * acceptable (malformed, expired, wrong audience or issuer, bad signature, unknown key); reject with
 * another `GatewayError` (e.g. `GW_ERR_SERVICE_NOT_READY`) when the check could not be made (the key set
 * could not be fetched). Callers map any other rejection to `GW_ERR_AUTH_INVALID_TOKEN`, so a failure
 * never admits.
 *
 * @example
 * const claims = await verifier.verify(token);
 * const appId = claims.azp ?? claims.appid;
 */
export interface AccessTokenVerifier {
  verify(token: string): Promise<AccessTokenClaims>;
}

/** The claims of a verified access token that the gateway reads; every other claim is kept as is. */
export interface AccessTokenClaims {
  readonly [claim: string]: unknown;
  readonly iss?: string;
  readonly aud?: string | string[];
  readonly sub?: string;
  /** Object id of the user (or of the service principal for app-only tokens). */
  readonly oid?: string;
  /** Tenant id. */
  readonly tid?: string;
  /** Client application id (v2 tokens). */
  readonly azp?: string;
  /** Client application id (v1 tokens). */
  readonly appid?: string;
  /** App roles granted to the caller. */
  readonly roles?: readonly string[];
  readonly exp?: number;
}
