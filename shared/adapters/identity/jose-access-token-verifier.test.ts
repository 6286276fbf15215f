import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { governanceSchema, type GovernanceConfigInput } from '../../config/governance-schema.js';
import { FakeClock } from '../../core/test-support/fake-clock.js';
import { GatewayError } from '../../core/errors/gateway-error.js';
import { createAdmission } from '../../core/governance/admission.js';
import { MemoryQuotaStore } from '../memory/memory-quota-store.js';
import { createJoseAccessTokenVerifier, entraVerifierOptions } from './jose-access-token-verifier.js';

const ISSUER = 'https://login.microsoftonline.com/tenant-1/v2.0';
const AUDIENCE = 'api://gateway';
const NOW_S = 1_700_000_000;

let server: Server;
let jwksUri: string;
let rsKey: CryptoKey;
let esKey: CryptoKey;
let otherKey: CryptoKey;
let jwksFetches = 0;
const published: JWK[] = [];

beforeAll(async () => {
  const rs = await generateKeyPair('RS256');
  const es = await generateKeyPair('ES256');
  const other = await generateKeyPair('RS256');
  rsKey = rs.privateKey;
  esKey = es.privateKey;
  otherKey = other.privateKey;
  published.push(
    { ...(await exportJWK(rs.publicKey)), kid: 'rs-1', alg: 'RS256', use: 'sig' },
    { ...(await exportJWK(es.publicKey)), kid: 'es-1', alg: 'ES256', use: 'sig' },
  );
  server = createServer((_req, res) => {
    jwksFetches++;
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: published }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  jwksUri = `http://127.0.0.1:${(server.address() as AddressInfo).port}/discovery/v2.0/keys`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

interface TokenOptions {
  claims?: Record<string, unknown>;
  alg?: 'RS256' | 'ES256';
  kid?: string;
  key?: CryptoKey;
  iss?: string;
  aud?: string;
  iatS?: number;
  expS?: number;
}

function token(o: TokenOptions = {}): Promise<string> {
  const alg = o.alg ?? 'RS256';
  return new SignJWT({ azp: 'app-1', oid: 'user-oid-1', tid: 'tenant-1', ...o.claims })
    .setProtectedHeader({ alg, kid: o.kid ?? (alg === 'RS256' ? 'rs-1' : 'es-1'), typ: 'JWT' })
    .setIssuer(o.iss ?? ISSUER)
    .setAudience(o.aud ?? AUDIENCE)
    .setIssuedAt(o.iatS ?? NOW_S - 60)
    .setExpirationTime(o.expS ?? NOW_S + 3600)
    .sign(o.key ?? (alg === 'RS256' ? rsKey : esKey));
}

function verifier(clock = new FakeClock(NOW_S * 1000), algorithms = ['RS256', 'ES256']) {
  return createJoseAccessTokenVerifier({
    jwksUri,
    issuers: [ISSUER],
    audience: AUDIENCE,
    algorithms,
    clockToleranceSec: 60,
    clock,
    jwksCooldownMs: 0,
  });
}

async function failure(promise: Promise<unknown>): Promise<GatewayError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(GatewayError);
  return error as GatewayError;
}

describe('JoseAccessTokenVerifier', () => {
  it('verifies RS256 and ES256 tokens against the JWKS served on loopback', async () => {
    const v = verifier();
    await expect(v.verify(await token())).resolves.toMatchObject({
      azp: 'app-1',
      oid: 'user-oid-1',
      aud: AUDIENCE,
      iss: ISSUER,
    });
    await expect(v.verify(await token({ alg: 'ES256' }))).resolves.toMatchObject({ azp: 'app-1' });
  });

  it.each<[string, TokenOptions | string, RegExp]>([
    ['expired beyond the skew', { expS: NOW_S - 61 }, /expired/],
    ['the wrong audience', { aud: 'api://someone-else' }, /"aud"/],
    ['the wrong issuer', { iss: 'https://login.microsoftonline.com/other/v2.0' }, /"iss"/],
    ['a signature by another key', { key: undefined, kid: 'rs-1' }, /signature/],
    ['an unknown key id', { kid: 'rotated-away' }, /no signing key/],
    ['a token whose header is not JSON', 'bm90LWpzb24.e30.c2ln', /malformed/],
    [
      'a token with a tampered payload',
      'eyJhbGciOiJSUzI1NiIsImtpZCI6InJzLTEifQ.bm90IGpzb24.c2ln',
      /signature|malformed/,
    ],
    ['garbage in three segments', 'a.b.c', /malformed/],
  ])('refuses %s with 401 GW_ERR_AUTH_INVALID_TOKEN', async (_name, spec, reason) => {
    const t =
      typeof spec === 'string'
        ? spec
        : await token(spec.key === undefined && spec.kid === 'rs-1' ? { key: otherKey } : spec);
    const e = await failure(verifier().verify(t));
    expect(e.code).toBe('GW_ERR_AUTH_INVALID_TOKEN');
    expect(e.status).toBe(401);
    expect(e.message).toMatch(reason);
  });

  it('accepts a token expired within the clock skew', async () => {
    await expect(verifier().verify(await token({ expS: NOW_S - 30 }))).resolves.toBeDefined();
  });

  it('refuses an algorithm that is not allowed', async () => {
    const e = await failure(verifier(undefined, ['RS256']).verify(await token({ alg: 'ES256' })));
    expect(e.code).toBe('GW_ERR_AUTH_INVALID_TOKEN');
  });

  it('caches the key set across verifications', async () => {
    const v = verifier();
    const before = jwksFetches;
    for (let i = 0; i < 5; i++) await v.verify(await token());
    expect(jwksFetches - before).toBe(1);
  });

  it('answers 503 GW_ERR_SERVICE_NOT_READY when the key set cannot be fetched', async () => {
    const dead = createServer();
    await new Promise<void>((resolve) => dead.listen(0, '127.0.0.1', resolve));
    const port = (dead.address() as AddressInfo).port;
    await new Promise((resolve) => dead.close(resolve));
    const v = createJoseAccessTokenVerifier({
      jwksUri: `http://127.0.0.1:${port}/keys`,
      issuers: [ISSUER],
      audience: AUDIENCE,
      clock: new FakeClock(NOW_S * 1000),
    });
    const e = await failure(v.verify(await token()));
    expect(e.code).toBe('GW_ERR_SERVICE_NOT_READY');
  });

  it('derives the Entra JWKS URI and both issuers from the tenant id', () => {
    const entra = governanceSchema.parse({
      identity: { entra: { enabled: true, tenantId: 'contoso.onmicrosoft.com', audience: AUDIENCE } },
    }).identity.entra;
    expect(entraVerifierOptions(entra)).toMatchObject({
      jwksUri: 'https://login.microsoftonline.com/contoso.onmicrosoft.com/discovery/v2.0/keys',
      issuers: [
        'https://login.microsoftonline.com/contoso.onmicrosoft.com/v2.0',
        'https://sts.windows.net/contoso.onmicrosoft.com/',
      ],
      audience: AUDIENCE,
    });
  });
});

describe('admission with Entra ID tokens', () => {
  const config: GovernanceConfigInput = {
    identity: {
      entra: { enabled: true, tenantId: 'tenant-1', audience: AUDIENCE },
      apiKeys: {
        enabled: true,
        keys: [
          { id: 'k', sha256: '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08', profile: 'apps' },
        ],
      },
    },
    apps: [{ appId: 'app-1', profile: 'apps' }],
    profiles: [{ id: 'apps', tier: 'interactive' }],
    admin: { entraRoles: ['Gateway.Admin'] },
  };
  const admission = () =>
    createAdmission({
      governance: () => governanceSchema.parse(config),
      verifier: verifier(),
      quotas: new MemoryQuotaStore(),
      clock: new FakeClock(NOW_S * 1000),
    });
  const bearer = (t: string) => ({
    method: 'POST',
    path: '/v1/chat/completions',
    headers: new Headers({ authorization: `Bearer ${t}` }),
  });

  it('identifies app (azp/appid), user (oid), maps the app to a profile, strips Authorization upstream', async () => {
    const a = await admission().admit(bearer(await token()));
    expect(a.caller).toEqual({
      identity: 'entra',
      appId: 'app-1',
      userId: 'user-oid-1',
      profileId: 'apps',
      tier: 'interactive',
    });
    expect(a.priority).toBe(1);
    expect(a.upstreamHeaders.remove).toContain('authorization');
    const v1 = await admission().admit(bearer(await token({ claims: { azp: undefined, appid: 'APP-1' } })));
    expect(v1.caller.appId).toBe('APP-1');
  });

  it('refuses an unknown app id with 403 GW_ERR_AUTH_APP_NOT_ALLOWED', async () => {
    const e = await failure(admission().admit(bearer(await token({ claims: { azp: 'app-x' } }))));
    expect(e).toMatchObject({ code: 'GW_ERR_AUTH_APP_NOT_ALLOWED', status: 403 });
    expect(e.message).toContain('app-x');
  });

  it('refuses expired and wrong-audience tokens with 401 instead of trying them as API keys', async () => {
    expect(await failure(admission().admit(bearer(await token({ expS: NOW_S - 3600 }))))).toMatchObject({
      code: 'GW_ERR_AUTH_INVALID_TOKEN',
      status: 401,
    });
    expect(await failure(admission().admit(bearer(await token({ aud: 'api://x' }))))).toMatchObject({
      code: 'GW_ERR_AUTH_INVALID_TOKEN',
    });
  });

  it('still accepts an API key in Authorization: Bearer when both modes are on', async () => {
    await expect(admission().admit(bearer('test'))).resolves.toMatchObject({
      caller: { identity: 'api-key', keyId: 'k' },
    });
  });

  it('admits an admin whose token carries a configured role, and refuses one without', async () => {
    const headers = async (roles: string[]) =>
      new Headers({ authorization: `Bearer ${await token({ claims: { roles } })}` });
    await expect(admission().authorizeAdmin(await headers(['Gateway.Admin']))).resolves.toEqual({
      adminId: 'user-oid-1',
      via: 'entra-role',
    });
    expect(await failure(admission().authorizeAdmin(await headers(['Reader'])))).toMatchObject({
      code: 'GW_ERR_AUTH_ADMIN_REQUIRED',
      status: 403,
    });
    expect(
      await failure(
        admission().authorizeAdmin(new Headers({ authorization: `Bearer ${await token({ expS: NOW_S - 3600 })}` })),
      ),
    ).toMatchObject({ code: 'GW_ERR_AUTH_INVALID_TOKEN' });
  });
});
