import { describe, expect, it } from 'vitest';
import { governanceSchema, type GovernanceConfig, type GovernanceConfigInput } from '../../config/governance-schema.js';
import { MemoryQuotaStore } from '../../adapters/memory/memory-quota-store.js';
import { FakeClock } from '../test-support/fake-clock.js';
import { GatewayError } from '../errors/gateway-error.js';
import type { ErrorCode } from '../errors/error-registry.js';
import type { AccessTokenVerifier } from '../../ports/access-token-verifier.js';
import { createAdmission } from './admission.js';
import { hashApiKey } from './hash-api-key.js';

const KEY_A = 'sk-team-a-0123456789';
const KEY_B = 'sk-team-b-0123456789';
const ADMIN_KEY = 'admin-secret-key';

function governance(input: GovernanceConfigInput): GovernanceConfig {
  return Object.freeze(governanceSchema.parse(input));
}

const base: GovernanceConfigInput = {
  identity: {
    apiKeys: {
      enabled: true,
      keys: [
        { id: 'team-a', sha256: hashApiKey(KEY_A), profile: 'standard', userId: 'alice' },
        { id: 'team-b', sha256: hashApiKey(KEY_B), profile: 'batch' },
      ],
    },
  },
  profiles: [
    {
      id: 'standard',
      tier: 'standard',
      priority: { max: 2 },
      allowedModels: ['gpt-4o*'],
      allowedRoutes: ['chat-*'],
      injectHeaders: { 'x-team': 'a' },
      stripHeaders: ['X-Internal'],
      async: { allowed: true, resultRetentionMs: 3_600_000 },
    },
    { id: 'batch', tier: 'batch', priority: { max: 1 }, quotas: { tokensPerMinute: 1_000 } },
  ],
  priority: { keys: { urgent: 1, low: 3 } },
};

function setup(input: GovernanceConfigInput = base, verifier?: AccessTokenVerifier) {
  let current = governance(input);
  const clock = new FakeClock(1_700_000_000_000);
  const admission = createAdmission({ governance: () => current, quotas: new MemoryQuotaStore(), clock, verifier });
  return { admission, clock, swap: (next: GovernanceConfigInput) => (current = governance(next)) };
}

async function rejection(promise: Promise<unknown> | (() => unknown)): Promise<GatewayError> {
  try {
    await (typeof promise === 'function' ? promise() : promise);
  } catch (error) {
    expect(error).toBeInstanceOf(GatewayError);
    return error as GatewayError;
  }
  throw new Error('expected a rejection');
}

async function expectCode(
  promise: Promise<unknown> | (() => unknown),
  code: ErrorCode,
  status: number,
): Promise<GatewayError> {
  const error = await rejection(promise);
  expect({ code: error.code, status: error.status }).toEqual({ code, status });
  return error;
}

const req = (headers: Record<string, string>, path = '/v1/chat/completions') => ({
  method: 'POST',
  path,
  headers: new Headers(headers),
});

/** A Headers look-alike that can carry what `Headers` itself refuses (CR/LF), as a raw bridge might. */
function rawHeaders(entries: Record<string, string>): Headers {
  const map = new Map(Object.entries(entries).map(([k, v]) => [k.toLowerCase(), v]));
  return {
    get: (name: string) => map.get(name.toLowerCase()) ?? null,
    has: (name: string) => map.has(name.toLowerCase()),
    forEach: (fn: (value: string, name: string) => void) => map.forEach((v, k) => fn(v, k)),
  } as unknown as Headers;
}

describe('API keys', () => {
  it('admits a key from the api-key header (Azure OpenAI SDKs) and removes it upstream', async () => {
    const { admission } = setup();
    const a = await admission.admit(req({ 'api-key': KEY_A }));
    expect(a.caller).toEqual({
      userId: 'alice',
      keyId: 'team-a',
      profileId: 'standard',
      tier: 'standard',
      identity: 'api-key',
    });
    expect(a.upstreamHeaders.remove).toEqual(expect.arrayContaining(['api-key', 'authorization', 'x-internal']));
    expect(a.upstreamHeaders.set).toEqual({ 'x-team': 'a' });
    expect(a.asyncAllowed).toBe(true);
    expect(a.asyncResultRetentionMs).toBe(3_600_000);
  });

  it('admits a key from Authorization: Bearer (OpenAI SDKs)', async () => {
    const { admission } = setup();
    const a = await admission.admit(req({ authorization: `Bearer ${KEY_B}` }));
    expect(a.caller).toMatchObject({ userId: 'key:team-b', profileId: 'batch', identity: 'api-key' });
  });

  it('answers 401 GW_ERR_AUTH_INVALID_KEY for a wrong key, from either header', async () => {
    const { admission } = setup();
    await expectCode(admission.admit(req({ 'api-key': 'sk-wrong' })), 'GW_ERR_AUTH_INVALID_KEY', 401);
    await expectCode(admission.admit(req({ authorization: 'Bearer sk-wrong' })), 'GW_ERR_AUTH_INVALID_KEY', 401);
  });

  it('answers 401 GW_ERR_AUTH_MISSING without credentials when anonymous access is off', async () => {
    const { admission } = setup();
    const e = await expectCode(admission.admit(req({})), 'GW_ERR_AUTH_MISSING', 401);
    expect(e.message).toContain('API key');
  });

  it('refuses a bearer JWT as an unknown API key when Entra mode is off', async () => {
    const { admission } = setup();
    await expectCode(
      admission.admit(req({ authorization: 'Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln' })),
      'GW_ERR_AUTH_INVALID_KEY',
      401,
    );
  });

  it('answers 403 GW_ERR_AUTH_SUSPENDED for a suspended key', async () => {
    const input = structuredClone(base);
    input.identity!.apiKeys!.keys![0]!.suspended = true;
    const { admission } = setup(input);
    const e = await expectCode(admission.admit(req({ 'api-key': KEY_A })), 'GW_ERR_AUTH_SUSPENDED', 403);
    expect(e.message).toContain('team-a');
  });
});

describe('profiles and rules', () => {
  it('answers 403 GW_ERR_AUTH_PROFILE_NOT_FOUND naming the profile a trusted upstream sent', async () => {
    const { admission } = setup({ ...base, identity: { trustedUpstream: { enabled: true } } });
    const e = await expectCode(
      admission.admit(req({ 'x-userprofile': 'nobody' })),
      'GW_ERR_AUTH_PROFILE_NOT_FOUND',
      403,
    );
    expect(e.message).toContain('nobody');
  });

  it('answers 403 GW_ERR_AUTH_SUSPENDED for a suspended profile and for a suspended user', async () => {
    const suspendedProfile = structuredClone(base);
    suspendedProfile.profiles![0]!.suspended = true;
    await expectCode(setup(suspendedProfile).admission.admit(req({ 'api-key': KEY_A })), 'GW_ERR_AUTH_SUSPENDED', 403);
    const e = await expectCode(
      setup({ ...base, suspendedUsers: ['ALICE'] }).admission.admit(req({ 'api-key': KEY_A })),
      'GW_ERR_AUTH_SUSPENDED',
      403,
    );
    expect(e.message).toContain('alice');
  });

  it('applies a suspension on the next request after the configuration changes', async () => {
    const { admission, swap } = setup();
    await admission.admit(req({ 'api-key': KEY_A }));
    swap({ ...base, suspendedUsers: ['alice'] });
    await expectCode(admission.admit(req({ 'api-key': KEY_A })), 'GW_ERR_AUTH_SUSPENDED', 403);
  });

  it('allows only the models, deployments and routes of the profile (trailing * globs)', async () => {
    const { admission } = setup();
    const a = await admission.admit(req({ 'api-key': KEY_A }));
    expect(() => admission.authorizeTarget(a, { routeId: 'chat-main', model: 'GPT-4o-mini' })).not.toThrow();
    expect(() => admission.authorizeTarget(a, { routeId: 'chat-main', deployment: 'gpt-4o' })).not.toThrow();
    const model = await expectCode(
      () => admission.authorizeTarget(a, { routeId: 'chat-main', model: 'o3' }),
      'GW_ERR_POLICY_MODEL_NOT_ALLOWED',
      403,
    );
    expect(model.message).toContain('"o3"');
    const route = await expectCode(
      () => admission.authorizeTarget(a, { routeId: 'embeddings' }),
      'GW_ERR_POLICY_MODEL_NOT_ALLOWED',
      403,
    );
    expect(route.message).toContain('"embeddings"');
    const deployment = await expectCode(
      () => admission.authorizeTarget(a, { routeId: 'chat-x', deployment: 'gpt-35' }),
      'GW_ERR_POLICY_MODEL_NOT_ALLOWED',
      403,
    );
    expect(deployment.message).toContain('"gpt-35"');
  });

  it('enforces required headers and header value rules with 417, naming the header', async () => {
    const input = structuredClone(base);
    input.rules = { requiredHeaders: ['x-cost-center'] };
    input.profiles![0]!.headerRules = [
      { header: 'x-department', allowed: ['sales', 'eng-*'] },
      { header: ':path', allowed: ['/v1/chat/*'] },
    ];
    const { admission } = setup(input);
    const ok = { 'api-key': KEY_A, 'x-cost-center': 'cc1', 'x-department': ' ENG-platform ' };
    await expect(admission.admit(req(ok))).resolves.toBeDefined();
    const missing = await expectCode(
      admission.admit(req({ 'api-key': KEY_A, 'x-department': 'sales' })),
      'GW_ERR_POLICY_REQUIRED_HEADER',
      417,
    );
    expect(missing.message).toContain('x-cost-center');
    const ruleMissing = await expectCode(
      admission.admit(req({ 'api-key': KEY_A, 'x-cost-center': 'cc1' })),
      'GW_ERR_POLICY_REQUIRED_HEADER',
      417,
    );
    expect(ruleMissing.message).toContain('x-department');
    const bad = await expectCode(
      admission.admit(req({ ...ok, 'x-department': 'marketing' })),
      'GW_ERR_POLICY_HEADER_RULE',
      417,
    );
    expect(bad.message).toContain('x-department');
    expect(bad.message).toContain('marketing');
    const path = await expectCode(admission.admit(req(ok, '/v1/embeddings')), 'GW_ERR_POLICY_HEADER_RULE', 417);
    expect(path.message).toContain(':path');
  });
});

describe('priority', () => {
  it('takes the tier level, honours a less urgent key, and clamps a more urgent one to the profile max', async () => {
    const { admission } = setup({ ...base, tiers: { standard: 3, batch: 4 } });
    expect((await admission.admit(req({ 'api-key': KEY_A }))).priority).toBe(3);
    expect((await admission.admit(req({ 'api-key': KEY_A, 'x-gateway-priority': 'LOW' }))).priority).toBe(3);
    expect((await admission.admit(req({ 'api-key': KEY_A, 'x-gateway-priority': 'urgent' }))).priority).toBe(2);
    expect((await admission.admit(req({ 'api-key': KEY_B, S7PPriorityKey: 'urgent' }))).priority).toBe(1);
    expect((await admission.admit(req({ 'api-key': KEY_B, S7PPriorityKey: 'nonsense' }))).priority).toBe(4);
  });

  it('uses the default level for a profile without tier or default, and never lets it rise', async () => {
    const { admission } = setup({
      identity: { anonymous: { allowed: true } },
      priority: { defaultLevel: 2, keys: { urgent: 1 } },
    });
    expect((await admission.admit(req({ 'x-gateway-priority': 'urgent' }))).priority).toBe(2);
  });
});

describe('trusted upstream', () => {
  const principal = (claims: { typ: string; val: string }[]) =>
    Buffer.from(JSON.stringify({ auth_typ: 'aad', claims })).toString('base64');
  const trusted: GovernanceConfigInput = {
    ...base,
    identity: { trustedUpstream: { enabled: true } },
    apps: [{ appId: 'app-1', profile: 'standard' }],
    profiles: [...base.profiles!, { id: 'partner', allowedAppIds: ['app-2'] }],
  };

  it('ignores the headers for identity when the mode is off', async () => {
    const { admission } = setup();
    await expectCode(
      admission.admit(req({ 'x-userprofile': 'standard', 'x-userid': 'eve' })),
      'GW_ERR_AUTH_MISSING',
      401,
    );
  });

  it('maps X-MS-CLIENT-PRINCIPAL-ID through the app allowlist and takes X-UserID as the user', async () => {
    const { admission } = setup(trusted);
    const a = await admission.admit(req({ 'X-MS-CLIENT-PRINCIPAL-ID': 'APP-1', 'X-UserID': 'bob' }));
    expect(a.caller).toMatchObject({
      identity: 'trusted-upstream',
      appId: 'APP-1',
      userId: 'bob',
      profileId: 'standard',
    });
    expect(a.upstreamHeaders.remove).toEqual(
      expect.arrayContaining(['x-ms-client-principal-id', 'x-userid', 'x-userprofile']),
    );
  });

  it('reads the EasyAuth X-MS-CLIENT-PRINCIPAL document', async () => {
    const { admission } = setup(trusted);
    const a = await admission.admit(
      req({
        'x-ms-client-principal': principal([
          { typ: 'appid', val: 'app-1' },
          { typ: 'http://schemas.microsoft.com/identity/claims/objectidentifier', val: 'oid-9' },
        ]),
      }),
    );
    expect(a.caller).toMatchObject({ appId: 'app-1', userId: 'oid-9', profileId: 'standard' });
  });

  it('answers 400 for a principal header that is not base64 JSON', async () => {
    const { admission } = setup(trusted);
    await expectCode(
      admission.admit(req({ 'x-ms-client-principal': '%%%not-base64' })),
      'GW_ERR_REQUEST_INVALID_HEADER',
      400,
    );
  });

  it('refuses an unlisted app id with 403 GW_ERR_AUTH_APP_NOT_ALLOWED, even with a profile header', async () => {
    const { admission } = setup(trusted);
    const e = await expectCode(
      admission.admit(req({ 'x-ms-client-principal-id': 'app-9', 'x-userprofile': 'standard' })),
      'GW_ERR_AUTH_APP_NOT_ALLOWED',
      403,
    );
    expect(e.message).toContain('app-9');
  });

  it('accepts an app listed in the named profile allowedAppIds and refuses that profile to other callers', async () => {
    const { admission } = setup(trusted);
    await expect(
      admission.admit(req({ 'x-ms-client-principal-id': 'app-2', 'x-userprofile': 'partner' })),
    ).resolves.toMatchObject({ caller: { profileId: 'partner', appId: 'app-2' } });
    await expectCode(admission.admit(req({ 'x-userprofile': 'partner' })), 'GW_ERR_AUTH_APP_NOT_ALLOWED', 403);
  });

  it('uses the seed X-UserProfile header as the profile id', async () => {
    const { admission } = setup(trusted);
    const a = await admission.admit(req({ 'x-userprofile': 'batch', 'x-userid': 'carol' }));
    expect(a.caller).toMatchObject({ profileId: 'batch', userId: 'carol', identity: 'trusted-upstream' });
  });
});

describe('anonymous', () => {
  it('admits anonymous callers only when allowed, with the configured profile', async () => {
    const { admission } = setup({
      identity: { anonymous: { allowed: true, profile: 'open' } },
      profiles: [{ id: 'open', tier: 'batch' }],
    });
    const a = await admission.admit(req({ 'api-key': 'whatever' }));
    expect(a.caller).toEqual({ userId: 'anonymous', profileId: 'open', tier: 'batch', identity: 'anonymous' });
    expect(a.upstreamHeaders.remove).not.toContain('api-key');
    await expectCode(setup({}).admission.admit(req({})), 'GW_ERR_AUTH_MISSING', 401);
  });
});

describe('bad input', () => {
  it('answers 400 GW_ERR_REQUEST_INVALID_HEADER for CR/LF in a header value, naming the header', async () => {
    const { admission } = setup();
    const e = await expectCode(
      admission.admit({
        method: 'POST',
        path: '/',
        headers: rawHeaders({ 'api-key': KEY_A, 'x-evil': 'a\r\nx-injected: 1' }),
      }),
      'GW_ERR_REQUEST_INVALID_HEADER',
      400,
    );
    expect(e.message).toContain('x-evil');
  });

  it('answers 400 GW_ERR_REQUEST_INVALID_HEADER for an oversized header value', async () => {
    const { admission } = setup({ ...base, limits: { maxHeaderValueBytes: 1024 } });
    const e = await expectCode(
      admission.admit(req({ 'api-key': KEY_A, 'x-big': 'x'.repeat(1025) })),
      'GW_ERR_REQUEST_INVALID_HEADER',
      400,
    );
    expect(e.message).toContain('x-big');
  });

  it('answers 401 GW_ERR_AUTH_INVALID_TOKEN for a bearer that is not a JWT when only Entra is on', async () => {
    const verifier: AccessTokenVerifier = { verify: () => Promise.reject(new Error('unreachable')) };
    const { admission } = setup(
      { identity: { entra: { enabled: true, tenantId: 't', audience: 'api://gw' } } },
      verifier,
    );
    await expectCode(admission.admit(req({ authorization: 'Bearer not-a-jwt' })), 'GW_ERR_AUTH_INVALID_TOKEN', 401);
    await expectCode(admission.admit(req({ authorization: 'Bearer a.b.c' })), 'GW_ERR_AUTH_INVALID_TOKEN', 401);
  });
});

describe('token quotas', () => {
  it('reserves at admission, answers 429 with retry-after to the next minute, and settles', async () => {
    const { admission, clock } = setup();
    clock.set(1_700_000_040_000 + 15_000);
    const a = await admission.admit(req({ 'api-key': KEY_B }));
    const body = { model: 'gpt-4o', max_tokens: 600, messages: [{ role: 'user', content: 'x'.repeat(396) }] };
    const held = await admission.reserveTokens(a, body);
    expect(held?.reservedTokens).toBe(700);
    const e = await expectCode(admission.reserveTokens(a, body), 'GW_ERR_QUOTA_EXCEEDED', 429);
    expect(e.retryAfterMs).toBe(45_000);
    expect(await held!.settle(200)).toBe(-500);
    await expect(admission.reserveTokens(a, body)).resolves.toBeDefined();
  });

  it('reserves nothing for a profile without quotas', async () => {
    const { admission } = setup();
    const a = await admission.admit(req({ 'api-key': KEY_A }));
    await expect(admission.reserveTokens(a, { max_tokens: 10 })).resolves.toBeUndefined();
  });
});

describe('admin', () => {
  it('is closed by default', async () => {
    const { admission } = setup();
    await expectCode(
      admission.authorizeAdmin(new Headers({ 'x-gateway-admin-key': ADMIN_KEY })),
      'GW_ERR_AUTH_ADMIN_REQUIRED',
      403,
    );
  });

  it('accepts the configured admin key, refuses a wrong one with 401 and none with 403', async () => {
    const { admission } = setup({ ...base, admin: { keys: [{ id: 'ops', sha256: hashApiKey(ADMIN_KEY) }] } });
    await expect(admission.authorizeAdmin(new Headers({ 'x-gateway-admin-key': ADMIN_KEY }))).resolves.toEqual({
      adminId: 'ops',
      via: 'admin-key',
    });
    await expectCode(
      admission.authorizeAdmin(new Headers({ 'x-gateway-admin-key': 'nope' })),
      'GW_ERR_AUTH_INVALID_KEY',
      401,
    );
    await expectCode(admission.authorizeAdmin(new Headers({ 'api-key': KEY_A })), 'GW_ERR_AUTH_ADMIN_REQUIRED', 403);
  });

  it('never forwards the admin key upstream', async () => {
    const { admission } = setup();
    const a = await admission.admit(req({ 'api-key': KEY_A }));
    expect(a.upstreamHeaders.remove).toContain('x-gateway-admin-key');
  });
});

describe("admitOwner: a job owner's standing under today's governance", () => {
  const owner = { userId: 'alice', profileId: 'standard', keyId: 'team-a' };

  it('re-admits an owner in good standing, with the current profile, tier and header changes', () => {
    const { admission } = setup();
    const a = admission.admitOwner(owner, 3);
    expect(a.caller).toEqual({
      userId: 'alice',
      profileId: 'standard',
      keyId: 'team-a',
      identity: 'api-key',
      tier: 'standard',
    });
    expect(a.profile.id).toBe('standard');
    expect(a.upstreamHeaders.set).toEqual({ 'x-team': 'a' });
    expect(a.upstreamHeaders.remove).toContain('x-internal');
  });

  it('clamps the stored priority to what the profile allows now', () => {
    const { admission } = setup();
    expect(admission.admitOwner(owner, 1).priority).toBe(2);
    expect(admission.admitOwner(owner, 4).priority).toBe(4);
  });

  it.each<[string, GovernanceConfigInput, ErrorCode, number]>([
    ['a suspended user', { ...base, suspendedUsers: ['ALICE'] }, 'GW_ERR_AUTH_SUSPENDED', 403],
    [
      'a suspended key',
      {
        ...base,
        identity: {
          apiKeys: {
            enabled: true,
            keys: [{ id: 'team-a', sha256: hashApiKey(KEY_A), profile: 'standard', userId: 'alice', suspended: true }],
          },
        },
      },
      'GW_ERR_AUTH_SUSPENDED',
      403,
    ],
    [
      'a removed key',
      {
        ...base,
        identity: { apiKeys: { enabled: true, keys: [{ id: 'other', sha256: hashApiKey(KEY_B), profile: 'batch' }] } },
      },
      'GW_ERR_AUTH_INVALID_KEY',
      401,
    ],
    [
      'a removed profile',
      { ...base, profiles: [base.profiles![1]!], identity: { apiKeys: { enabled: false } } },
      'GW_ERR_AUTH_PROFILE_NOT_FOUND',
      403,
    ],
    [
      'a suspended profile',
      { ...base, profiles: [{ ...base.profiles![0]!, suspended: true }, base.profiles![1]!] },
      'GW_ERR_AUTH_SUSPENDED',
      403,
    ],
    [
      'async mode revoked',
      { ...base, profiles: [{ ...base.profiles![0]!, async: { allowed: false } }, base.profiles![1]!] },
      'GW_ERR_POLICY_ASYNC_NOT_ALLOWED',
      403,
    ],
  ])('refuses %s', async (_name, next, code, status) => {
    const { admission, swap } = setup();
    expect(admission.admitOwner(owner, 3)).toBeDefined();
    swap(next);
    await expectCode(() => admission.admitOwner(owner, 3), code, status);
  });
});

describe("a profile's upstream header changes", () => {
  it('are built once per snapshot, shared read-only by its calls, and rebuilt after a reload', async () => {
    const { admission, swap } = setup();
    const first = await admission.admit(req({ 'api-key': KEY_A }));
    const second = await admission.admit(req({ 'api-key': KEY_A }));
    expect(second.upstreamHeaders).toBe(first.upstreamHeaders);
    expect(Object.isFrozen(first.upstreamHeaders.remove) && Object.isFrozen(first.upstreamHeaders.set)).toBe(true);
    const other = await admission.admit(req({ 'x-ms-client-principal-id': 'ignored', 'api-key': KEY_B }));
    expect(other.upstreamHeaders.remove).not.toContain('x-internal');
    const profiles = (base.profiles ?? []).map((p) =>
      p.id === 'standard' ? { ...p, stripHeaders: ['X-Secret'], injectHeaders: { 'X-Team': 'b' } } : p,
    );
    swap({ ...base, profiles });
    const reloaded = await admission.admit(req({ 'api-key': KEY_A }));
    expect(reloaded.upstreamHeaders.remove).toEqual(expect.arrayContaining(['x-secret']));
    expect(reloaded.upstreamHeaders.remove).not.toContain('x-internal');
    expect(reloaded.upstreamHeaders.set).toEqual({ 'x-team': 'b' });
  });
});
