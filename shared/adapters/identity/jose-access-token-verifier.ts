import type { JWTVerifyGetKey } from 'jose';
import type { GovernanceConfig } from '../../config/governance-schema.js';
import type { Clock } from '../../core/clock.js';
import { GatewayError } from '../../core/errors/gateway-error.js';
import type { AccessTokenClaims, AccessTokenVerifier } from '../../ports/access-token-verifier.js';

/** Settings of {@link createJoseAccessTokenVerifier}. */
export interface JoseAccessTokenVerifierOptions {
  /** The tenant's signing keys, e.g. `https://login.microsoftonline.com/<tenant>/discovery/v2.0/keys`. */
  readonly jwksUri: string;
  /** Accepted `iss` values. */
  readonly issuers: readonly string[];
  /** Accepted `aud` values. */
  readonly audience: string | readonly string[];
  /** Accepted `alg` values; default RS256 (what Entra ID signs with). */
  readonly algorithms?: readonly string[];
  /** Allowed clock skew for `exp` / `nbf`; default 60 s. */
  readonly clockToleranceSec?: number;
  /** Time source for `exp` / `nbf`; default the system clock. */
  readonly clock?: Clock;
  /** Bound on one JWKS fetch; default 5 000 ms. */
  readonly jwksTimeoutMs?: number;
  /** Least time between two JWKS refetches triggered by an unknown `kid`; default 30 000 ms. */
  readonly jwksCooldownMs?: number;
}

/**
 * Verifies Entra ID access tokens with `jose`: signature against the tenant's JWKS (fetched on first use,
 * cached, and refetched when a token names an unknown `kid`, so key rotation needs no restart), issuer,
 * audience, `exp`/`nbf` with clock skew, and allowed algorithms. A token that fails any check rejects with
 * 401 `GW_ERR_AUTH_INVALID_TOKEN` naming the check; a JWKS that cannot be fetched rejects with 503
 * `GW_ERR_SERVICE_NOT_READY` (the caller is not at fault).
 *
 * The settings are read once: the composition root builds a new verifier when they change.
 *
 * @example
 * const verifier = createJoseAccessTokenVerifier(entraVerifierOptions(config.governance.identity.entra));
 * const claims = await verifier.verify(token);
 */
export function createJoseAccessTokenVerifier(options: JoseAccessTokenVerifierOptions): AccessTokenVerifier {
  const jwksUrl = new URL(options.jwksUri);
  let keys: JWTVerifyGetKey | undefined;
  return {
    async verify(token) {
      const { createRemoteJWKSet, errors, jwtVerify } = await loadJose();
      keys ??= createRemoteJWKSet(jwksUrl, {
        timeoutDuration: options.jwksTimeoutMs ?? 5_000,
        cooldownDuration: options.jwksCooldownMs ?? 30_000,
      });
      try {
        const { payload } = await jwtVerify(token, keys, {
          issuer: [...options.issuers],
          audience: typeof options.audience === 'string' ? options.audience : [...options.audience],
          algorithms: [...(options.algorithms ?? ['RS256'])],
          clockTolerance: options.clockToleranceSec ?? 60,
          requiredClaims: ['exp'],
          ...(options.clock === undefined ? {} : { currentDate: new Date(options.clock.now()) }),
        });
        return payload as AccessTokenClaims;
      } catch (error) {
        throw mapError(errors, error);
      }
    },
  };
}

type Jose = typeof import('jose');
let jose: Promise<Jose> | undefined;

/**
 * `jose` is loaded on the first token to verify, not at start: most deployments never configure Entra ID,
 * and the library with the Web Crypto code it pulls in costs ~10 MB of resident memory (docs/benchmarks.md).
 */
function loadJose(): Promise<Jose> {
  jose ??= import('jose');
  return jose;
}

/**
 * The verifier settings for a `governance.identity.entra` section: the tenant's v2 JWKS URI and both its
 * v1 (`https://sts.windows.net/<tenant>/`) and v2 (`https://login.microsoftonline.com/<tenant>/v2.0`)
 * issuers, unless given explicitly.
 */
export function entraVerifierOptions(
  entra: GovernanceConfig['identity']['entra'],
  extra: Partial<JoseAccessTokenVerifierOptions> = {},
): JoseAccessTokenVerifierOptions {
  const tenant = entra.tenantId;
  const jwksUri =
    entra.jwksUri ??
    (tenant === undefined ? undefined : `https://login.microsoftonline.com/${tenant}/discovery/v2.0/keys`);
  const issuers =
    entra.issuers ??
    (tenant === undefined
      ? undefined
      : [`https://login.microsoftonline.com/${tenant}/v2.0`, `https://sts.windows.net/${tenant}/`]);
  if (jwksUri === undefined || issuers === undefined || entra.audience === undefined) {
    throw new Error('governance.identity.entra needs an audience and a tenantId (or jwksUri and issuers).');
  }
  return {
    jwksUri,
    issuers,
    audience: entra.audience,
    algorithms: entra.algorithms,
    clockToleranceSec: entra.clockToleranceSec,
    ...extra,
  };
}

function mapError(errors: Jose['errors'], error: unknown): GatewayError {
  if (
    error instanceof errors.JWKSTimeout ||
    error instanceof errors.JWKSInvalid ||
    !(error instanceof errors.JOSEError) ||
    error.code === 'ERR_JOSE_GENERIC'
  ) {
    return new GatewayError('GW_ERR_SERVICE_NOT_READY', {
      message: 'The identity provider signing keys could not be fetched.',
      retryAfterMs: 5_000,
      cause: error,
    });
  }
  const reason =
    error instanceof errors.JWTExpired
      ? 'the token has expired'
      : error instanceof errors.JWTClaimValidationFailed
        ? `claim "${error.claim}" is not accepted (${error.reason})`
        : error instanceof errors.JWSSignatureVerificationFailed
          ? 'the signature does not verify'
          : error instanceof errors.JWKSNoMatchingKey
            ? 'no signing key matches the token'
            : error instanceof errors.JOSEAlgNotAllowed
              ? 'the signing algorithm is not allowed'
              : 'the token is malformed';
  return new GatewayError('GW_ERR_AUTH_INVALID_TOKEN', {
    message: `The access token is not valid: ${reason}.`,
    cause: error,
  });
}
