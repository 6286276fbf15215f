import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT, exportJWK, generateKeyPair, type JWK, type JWTPayload } from 'jose';
import { systemClock } from '../../shared/core/clock.js';

/** How a test token deviates from a good one. */
export interface TestTokenOptions {
  readonly issuer?: string;
  readonly audience?: string;
  /** Expiry in seconds since the epoch; default ten minutes from now. */
  readonly expSec?: number;
  /** Sign with a key the JWKS does not publish (under the published `kid`): a bad signature. */
  readonly foreignKey?: boolean;
  readonly kid?: string;
}

/** A fake Entra ID tenant on loopback: a JWKS endpoint and a token signer. */
export interface EntraTestIssuer {
  readonly jwksUri: string;
  readonly issuer: string;
  readonly audience: string;
  /** How many times the JWKS was fetched. */
  jwksFetches(): number;
  /** Signs an RS256 access token with the given claims (plus iss, aud, iat, exp). */
  token(claims: JWTPayload, options?: TestTokenOptions): Promise<string>;
  close(): Promise<void>;
}

/**
 * Starts a JWKS server on 127.0.0.1, port 0, publishing one RS256 key, and signs tokens with it.
 *
 * @example
 * const entra = await startEntraTestIssuer();
 * const jwt = await entra.token({ azp: appId, oid: userOid });
 */
export async function startEntraTestIssuer(): Promise<EntraTestIssuer> {
  const { publicKey, privateKey } = await generateKeyPair('RS256');
  const foreign = await generateKeyPair('RS256');
  const kid = 'test-key-1';
  const jwk: JWK = { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' };
  let fetches = 0;
  const server = createServer((req, res) => {
    if (req.url === '/discovery/v2.0/keys') {
      fetches++;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ keys: [jwk] }));
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  const base = `http://127.0.0.1:${port}`;
  const issuer = `${base}/tenant-under-test/v2.0`;
  const audience = 'api://ai-gateway-test';
  return {
    jwksUri: `${base}/discovery/v2.0/keys`,
    issuer,
    audience,
    jwksFetches: () => fetches,
    token: (claims, options = {}) => {
      const nowSec = Math.floor(systemClock.now() / 1000);
      return new SignJWT(claims)
        .setProtectedHeader({ alg: 'RS256', kid: options.kid ?? kid, typ: 'JWT' })
        .setIssuer(options.issuer ?? issuer)
        .setAudience(options.audience ?? audience)
        .setIssuedAt(nowSec - 5)
        .setExpirationTime(options.expSec ?? nowSec + 600)
        .sign(options.foreignKey === true ? foreign.privateKey : privateKey);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
