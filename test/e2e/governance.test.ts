import { connect } from 'node:net';
import OpenAI, { AzureOpenAI } from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { validateConfig } from '../../shared/config/load-config.js';
import type { GatewayConfigInput } from '../../shared/config/gateway-schema.js';
import { MemoryQuotaStore } from '../../shared/adapters/memory/memory-quota-store.js';
import { systemClock, type Clock } from '../../shared/core/clock.js';
import type { CallSummary } from '../../shared/core/pipeline/call-summary.js';
import { checkIdentityConfig } from '../../shared/core/governance/check-identity-config.js';
import { estimateRequestTokens } from '../../shared/core/governance/estimate-request-tokens.js';
import { hashApiKey } from '../../shared/core/governance/hash-api-key.js';
import type { UsageRecord } from '../../shared/core/usage/usage-record.js';
import type { QuotaReserveResult, QuotaStore } from '../../shared/ports/quota-store.js';
import { startEntraTestIssuer, type EntraTestIssuer } from '../support/entra-test-issuer.js';
import { defaultConfig, postJson, startHarness, type Harness } from '../support/gateway-harness.js';

/**
 * Governance end to end: caller identity (API keys, Entra ID tokens, trusted upstream), profile rules,
 * priority, token quotas and bad input, through the standalone host with the simulator behind it. Every
 * refusal is asserted twice: what the caller got (status, `error.code`, `x-gateway-error-code`) and that
 * nothing reached a backend.
 */

const KEYS = {
  std: 'sk-gw-standard-0123456789abcdef',
  batch: 'sk-gw-batch-0123456789abcdef',
  models: 'sk-gw-models-0123456789abcdef',
  chatOnly: 'sk-gw-chat-only-0123456789abcdef',
  azure: 'sk-gw-azure-0123456789abcdef',
  strict: 'sk-gw-strict-0123456789abcdef',
  suspendedKey: 'sk-gw-suspended-key-0123456789',
  suspendedProfile: 'sk-gw-suspended-profile-0123456789',
  departed: 'sk-gw-departed-user-0123456789',
  gated: 'sk-gw-app-gated-0123456789abcdef',
  pathLimited: 'sk-gw-path-limited-0123456789',
} as const;

const APP_OK = '11111111-2222-3333-4444-555555555555';
const APP_GATED = '22222222-3333-4444-5555-666666666666';
const APP_INTRUDER = '33333333-4444-5555-6666-777777777777';
const APP_SUSPENDED = '44444444-5555-6666-7777-888888888888';
const APP_UNKNOWN = '99999999-0000-0000-0000-000000000000';
const OID_ALICE = 'aaaaaaaa-0000-0000-0000-000000000001';
const OID_SUSPENDED = 'aaaaaaaa-0000-0000-0000-00000000dead';

const chat = (model = 'gpt-4o-mini') => ({ model, messages: [{ role: 'user' as const, content: 'Hello there' }] });

interface ErrorBody {
  error: { code: string; message: string; type: string; param: string | null };
}

/** Asserts a refusal in our envelope and returns its body. */
async function expectRefused(response: Response, status: number, code: string, message?: RegExp): Promise<ErrorBody> {
  const body = (await response.json()) as ErrorBody;
  expect({
    status: response.status,
    code: body.error.code,
    header: response.headers.get('x-gateway-error-code'),
  }).toEqual({ status, code, header: code });
  if (message !== undefined) expect(body.error.message).toMatch(message);
  return body;
}

/** Runs one call and resolves with the response, its body text and the gateway's call summary. */
async function observed(
  h: Harness,
  send: () => Promise<Response>,
): Promise<{ response: Response; text: string; summary: CallSummary }> {
  const ended = h.nextCall();
  const response = await send();
  const text = await response.text();
  return { response, text, summary: await ended };
}

function base64Json(value: unknown): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64');
}

/** Sends raw bytes on a fresh connection and resolves with everything the server wrote back. */
function rawRequest(url: string, request: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.write(request));
    let received = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (received += chunk));
    socket.on('end', () => resolve(received));
    socket.on('error', reject);
    socket.setTimeout(5_000, () => socket.destroy(new Error('no answer within 5 s')));
  });
}

function governanceFor(entra: EntraTestIssuer): GatewayConfigInput['governance'] {
  const key = (id: string, plain: string, profile: string, extra: Record<string, unknown> = {}) => ({
    id,
    sha256: hashApiKey(plain),
    profile,
    ...extra,
  });
  return {
    identity: {
      apiKeys: {
        enabled: true,
        keys: [
          key('std', KEYS.std, 'standard', { userId: 'alice' }),
          key('batch', KEYS.batch, 'batch'),
          key('models', KEYS.models, 'models-limited'),
          key('chat-only', KEYS.chatOnly, 'chat-only'),
          key('azure', KEYS.azure, 'azure-limited'),
          key('strict', KEYS.strict, 'strict-headers'),
          key('suspended-key', KEYS.suspendedKey, 'standard', { suspended: true }),
          key('suspended-profile', KEYS.suspendedProfile, 'on-hold'),
          key('departed', KEYS.departed, 'standard', { userId: 'departed-user' }),
          key('gated', KEYS.gated, 'app-gated'),
          key('path-limited', KEYS.pathLimited, 'path-limited'),
        ],
      },
      entra: { enabled: true, jwksUri: entra.jwksUri, issuers: [entra.issuer], audience: entra.audience },
      trustedUpstream: { enabled: true },
    },
    apps: [
      { appId: APP_OK, profile: 'standard', description: 'support bot' },
      { appId: APP_GATED, profile: 'app-gated' },
      { appId: APP_INTRUDER, profile: 'app-gated' },
      { appId: APP_SUSPENDED, profile: 'standard' },
    ],
    priority: { keys: { urgent: 1, normal: 2, background: 3 } },
    profiles: [
      { id: 'standard', tier: 'standard', priority: { max: 1 } },
      { id: 'batch', tier: 'batch', priority: { max: 2 } },
      { id: 'models-limited', allowedModels: ['gpt-4o-mini*'] },
      { id: 'chat-only', allowedRoutes: ['chat-*'] },
      { id: 'azure-limited', allowedModels: ['gpt-4o*'], allowedDeployments: ['gpt-4o-mini'] },
      {
        id: 'strict-headers',
        requiredHeaders: ['x-cost-center'],
        headerRules: [{ header: 'x-department', allowed: ['sales', 'eng-*'] }],
        stripHeaders: ['x-internal-trace'],
        injectHeaders: { 'x-cost-owner': 'search', 'x-tenant': 'contoso' },
      },
      { id: 'path-limited', headerRules: [{ header: ':path', allowed: ['/v1/chat/*'] }] },
      { id: 'on-hold', suspended: true },
      { id: 'app-gated', allowedAppIds: [APP_GATED] },
    ],
    suspendedUsers: ['departed-user', APP_SUSPENDED, OID_SUSPENDED, 'fired-bob'],
    limits: { maxHeaderValueBytes: 1024 },
  };
}

describe('governance through the standalone host', () => {
  let h: Harness;
  let entra: EntraTestIssuer;

  beforeAll(async () => {
    entra = await startEntraTestIssuer();
    h = await startHarness({
      simulators: { a: {} },
      config: (urls) =>
        defaultConfig(urls, {
          routes: [
            { id: 'chat-main', match: { models: ['gpt-4o-mini', 'gpt-4o'] }, pool: 'main' },
            { id: 'embed', match: { models: ['text-embedding-3-small'] }, pool: 'main' },
          ],
          limits: { maxBodyBytes: 1024 * 1024, maxHeaderBytes: 16 * 1024 },
          governance: governanceFor(entra),
        }),
    });
  });
  afterAll(async () => {
    await h?.close();
    await entra?.close();
  });
  beforeEach(() => h.sims.a!.reset());

  const url = (path = '/v1/chat/completions') => `${h.url}${path}`;
  const backendCalls = () => h.sims.a!.attempts().length;

  describe('API keys', () => {
    it('accepts a hashed key from the Azure SDK header (api-key) and Authorization: Bearer; records who', async () => {
      const viaApiKey = await observed(h, () => postJson(url(), chat(), { 'api-key': KEYS.std }));
      expect(viaApiKey.response.status).toBe(200);
      expect(viaApiKey.summary.caller).toMatchObject({
        identity: 'api-key',
        keyId: 'std',
        userId: 'alice',
        profileId: 'standard',
        tier: 'standard',
      });
      const viaBearer = await observed(h, () => postJson(url(), chat(), { authorization: `Bearer ${KEYS.std}` }));
      expect(viaBearer.response.status).toBe(200);
      expect(viaBearer.summary.caller).toMatchObject({ identity: 'api-key', keyId: 'std' });
      expect(backendCalls()).toBe(2);
      for (const attempt of h.sims.a!.attempts()) {
        expect(attempt.headers['api-key']).toBeUndefined();
        expect(attempt.headers.authorization).toBeUndefined();
      }
    });

    it('serves the OpenAI (Bearer) and Azure OpenAI (api-key) clients; the key never reaches a backend', async () => {
      const openai = new OpenAI({ baseURL: `${h.url}/v1`, apiKey: KEYS.std, maxRetries: 0 });
      const a = await openai.chat.completions.create(chat());
      expect(a.choices[0]?.message.content).toContain('Hello from the simulator');
      const azure = new AzureOpenAI({
        endpoint: h.url,
        apiKey: KEYS.azure,
        apiVersion: '2024-10-21',
        deployment: 'gpt-4o-mini',
        maxRetries: 0,
      });
      const b = await azure.chat.completions.create(chat());
      expect(b.usage?.completion_tokens).toBe(16);
      const attempts = h.sims.a!.attempts();
      expect(attempts.map((x) => x.model)).toEqual(['gpt-4o-mini', 'gpt-4o-mini']);
      for (const attempt of attempts) {
        expect(attempt.headers['api-key']).toBeUndefined();
        expect(attempt.headers.authorization).toBeUndefined();
        expect(JSON.stringify(attempt.headers)).not.toContain(KEYS.std.slice(6));
        expect(JSON.stringify(attempt.headers)).not.toContain(KEYS.azure.slice(6));
      }
    });

    it('refuses a wrong key with 401 in our envelope, through both headers and through the SDK', async () => {
      await expectRefused(
        await postJson(url(), chat(), { 'api-key': 'sk-not-a-real-key' }),
        401,
        'GW_ERR_AUTH_INVALID_KEY',
      );
      await expectRefused(
        await postJson(url(), chat(), { authorization: 'Bearer sk-not-a-real-key' }),
        401,
        'GW_ERR_AUTH_INVALID_KEY',
      );
      const openai = new OpenAI({ baseURL: `${h.url}/v1`, apiKey: 'sk-wrong', maxRetries: 0 });
      const error = await openai.chat.completions.create(chat()).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(OpenAI.APIError);
      expect((error as InstanceType<typeof OpenAI.APIError>).status).toBe(401);
      expect((error as InstanceType<typeof OpenAI.APIError>).code).toBe('GW_ERR_AUTH_INVALID_KEY');
      expect(backendCalls()).toBe(0);
    });

    it('never lets a wrong api-key fall through to a valid bearer key or to trusted headers', async () => {
      await expectRefused(
        await postJson(url(), chat(), {
          'api-key': 'sk-wrong',
          authorization: `Bearer ${KEYS.std}`,
          'x-userprofile': 'standard',
        }),
        401,
        'GW_ERR_AUTH_INVALID_KEY',
      );
      expect(backendCalls()).toBe(0);
    });

    it('answers 401 GW_ERR_AUTH_MISSING, naming what it accepts, when no credential is presented', async () => {
      await expectRefused(
        await postJson(url(), chat()),
        401,
        'GW_ERR_AUTH_MISSING',
        /API key.*Entra ID.*trusted upstream/,
      );
      expect(backendCalls()).toBe(0);
    });
  });

  describe('Entra ID access tokens', () => {
    it('admits a v2 token (azp + oid) as the app and user, through the real OpenAI client', async () => {
      const token = await entra.token({ azp: APP_OK, oid: OID_ALICE, ver: '2.0' });
      const openai = new OpenAI({ baseURL: `${h.url}/v1`, apiKey: token, maxRetries: 0 });
      const ended = h.nextCall();
      const answer = await openai.chat.completions.create(chat());
      expect(answer.choices).toHaveLength(1);
      expect((await ended).caller).toMatchObject({
        identity: 'entra',
        appId: APP_OK,
        userId: OID_ALICE,
        profileId: 'standard',
      });
      const seen = h.sims.a!.attempts()[0]!.headers;
      expect(seen.authorization).toBeUndefined();
      expect(JSON.stringify(seen)).not.toContain(token.split('.')[2]!.slice(0, 20));
    });

    it('admits a v1 token that names its app in appid', async () => {
      const token = await entra.token({ appid: APP_OK, oid: OID_ALICE, ver: '1.0' });
      const { response, summary } = await observed(h, () =>
        postJson(url(), chat(), { authorization: `Bearer ${token}` }),
      );
      expect(response.status).toBe(200);
      expect(summary.caller).toMatchObject({ identity: 'entra', appId: APP_OK, userId: OID_ALICE });
    });

    it('refuses 403 GW_ERR_AUTH_APP_NOT_ALLOWED to an app off the allowlist, 401 to a token with no app', async () => {
      const unknown = await entra.token({ azp: APP_UNKNOWN, oid: OID_ALICE });
      await expectRefused(
        await postJson(url(), chat(), { authorization: `Bearer ${unknown}` }),
        403,
        'GW_ERR_AUTH_APP_NOT_ALLOWED',
        new RegExp(APP_UNKNOWN),
      );
      const anonymousApp = await entra.token({ oid: OID_ALICE });
      await expectRefused(
        await postJson(url(), chat(), { authorization: `Bearer ${anonymousApp}` }),
        401,
        'GW_ERR_AUTH_INVALID_TOKEN',
        /azp\/appid/,
      );
      expect(backendCalls()).toBe(0);
    });

    it.each([
      ['expired', { expSec: Math.floor(systemClock.now() / 1000) - 3600 }, /expired/],
      ['wrong audience', { audience: 'api://someone-else' }, /"aud"/],
      ['wrong issuer', { issuer: 'https://login.microsoftonline.com/another-tenant/v2.0' }, /"iss"/],
      ['badly signed', { foreignKey: true }, /signature/],
    ] as const)(
      'refuses a %s token with 401 GW_ERR_AUTH_INVALID_TOKEN naming the check',
      async (_name, options, reason) => {
        const token = await entra.token({ azp: APP_OK, oid: OID_ALICE }, options);
        await expectRefused(
          await postJson(url(), chat(), { authorization: `Bearer ${token}` }),
          401,
          'GW_ERR_AUTH_INVALID_TOKEN',
          reason,
        );
        expect(backendCalls()).toBe(0);
      },
    );

    it('refuses three-segment garbage (bad base64/JSON) and a token with its signature cut off: invalid', async () => {
      const good = await entra.token({ azp: APP_OK, oid: OID_ALICE });
      const [header, payload] = good.split('.');
      for (const bad of [
        'abc.def.ghi',
        `${header}.e30gdGhpcyBpcyBub3QgSlNPTg.sig`,
        `${header}.${payload}.`,
        `${header}.${payload}.AAAA`,
      ]) {
        await expectRefused(
          await postJson(url(), chat(), { authorization: `Bearer ${bad}` }),
          401,
          'GW_ERR_AUTH_INVALID_TOKEN',
        );
      }
      expect(backendCalls()).toBe(0);
    });

    it('treats a bearer that is not three segments as an API key when API key mode is on: a wrong key', async () => {
      await expectRefused(
        await postJson(url(), chat(), { authorization: 'Bearer only.two' }),
        401,
        'GW_ERR_AUTH_INVALID_KEY',
      );
      expect(backendCalls()).toBe(0);
    });

    it('refuses a suspended app or a suspended user (oid) with 403 GW_ERR_AUTH_SUSPENDED', async () => {
      const app = await entra.token({ azp: APP_SUSPENDED, oid: OID_ALICE });
      await expectRefused(
        await postJson(url(), chat(), { authorization: `Bearer ${app}` }),
        403,
        'GW_ERR_AUTH_SUSPENDED',
      );
      const user = await entra.token({ azp: APP_OK, oid: OID_SUSPENDED });
      await expectRefused(
        await postJson(url(), chat(), { authorization: `Bearer ${user}` }),
        403,
        'GW_ERR_AUTH_SUSPENDED',
      );
      expect(backendCalls()).toBe(0);
    });

    it('applies a profile app allowlist to token callers: a listed app not in allowedAppIds gets 403', async () => {
      const ok = await entra.token({ azp: APP_GATED, oid: OID_ALICE });
      expect(
        (await observed(h, () => postJson(url(), chat(), { authorization: `Bearer ${ok}` }))).response.status,
      ).toBe(200);
      const intruder = await entra.token({ azp: APP_INTRUDER, oid: OID_ALICE });
      await expectRefused(
        await postJson(url(), chat(), { authorization: `Bearer ${intruder}` }),
        403,
        'GW_ERR_AUTH_APP_NOT_ALLOWED',
        /app-gated/,
      );
      expect(backendCalls()).toBe(1);
    });
  });

  describe('trusted upstream', () => {
    it('identifies an app from X-MS-CLIENT-PRINCIPAL-ID and takes its profile from apps', async () => {
      const { response, summary } = await observed(h, () =>
        postJson(url(), chat(), { 'X-MS-CLIENT-PRINCIPAL-ID': APP_OK }),
      );
      expect(response.status).toBe(200);
      expect(summary.caller).toMatchObject({ identity: 'trusted-upstream', appId: APP_OK, profileId: 'standard' });
    });

    it('identifies app and user from an EasyAuth X-MS-CLIENT-PRINCIPAL document', async () => {
      const principal = base64Json({
        auth_typ: 'aad',
        claims: [
          { typ: 'appid', val: APP_OK },
          { typ: 'http://schemas.microsoft.com/identity/claims/objectidentifier', val: OID_ALICE },
        ],
      });
      const { response, summary } = await observed(h, () =>
        postJson(url(), chat(), { 'X-MS-CLIENT-PRINCIPAL': principal }),
      );
      expect(response.status).toBe(200);
      expect(summary.caller).toMatchObject({ identity: 'trusted-upstream', appId: APP_OK, userId: OID_ALICE });
    });

    it("accepts the seed's X-UserProfile / X-UserID and forwards none of the identity headers", async () => {
      const { response, summary } = await observed(h, () =>
        postJson(url(), chat(), { 'X-UserProfile': 'batch', 'X-UserID': 'bob', 'X-MS-CLIENT-PRINCIPAL-ID': APP_OK }),
      );
      expect(response.status).toBe(200);
      expect(summary.caller).toMatchObject({
        identity: 'trusted-upstream',
        userId: 'bob',
        profileId: 'batch',
        tier: 'batch',
      });
      const seen = h.sims.a!.attempts()[0]!.headers;
      for (const name of ['x-userprofile', 'x-userid', 'x-ms-client-principal-id', 'x-ms-client-principal'])
        expect(seen[name]).toBeUndefined();
    });

    it('refuses an unknown profile id with 403 GW_ERR_AUTH_PROFILE_NOT_FOUND', async () => {
      await expectRefused(
        await postJson(url(), chat(), { 'X-UserProfile': 'no-such-profile', 'X-UserID': 'bob' }),
        403,
        'GW_ERR_AUTH_PROFILE_NOT_FOUND',
        /no-such-profile/,
      );
      expect(backendCalls()).toBe(0);
    });

    it('refuses an app in neither apps nor the named profile allowedAppIds (403), and admits one that is', async () => {
      await expectRefused(
        await postJson(url(), chat(), { 'X-MS-CLIENT-PRINCIPAL-ID': APP_UNKNOWN }),
        403,
        'GW_ERR_AUTH_APP_NOT_ALLOWED',
      );
      await expectRefused(
        await postJson(url(), chat(), { 'X-MS-CLIENT-PRINCIPAL-ID': APP_UNKNOWN, 'X-UserProfile': 'app-gated' }),
        403,
        'GW_ERR_AUTH_APP_NOT_ALLOWED',
      );
      expect(backendCalls()).toBe(0);
      const { response } = await observed(h, () =>
        postJson(url(), chat(), { 'X-MS-CLIENT-PRINCIPAL-ID': APP_GATED, 'X-UserProfile': 'app-gated' }),
      );
      expect(response.status).toBe(200);
    });

    it('refuses a suspended X-UserID with 403 and an undecodable principal with 400', async () => {
      await expectRefused(
        await postJson(url(), chat(), { 'X-UserProfile': 'standard', 'X-UserID': 'fired-bob' }),
        403,
        'GW_ERR_AUTH_SUSPENDED',
      );
      const body = await expectRefused(
        await postJson(url(), chat(), { 'X-MS-CLIENT-PRINCIPAL': 'not base64 json!' }),
        400,
        'GW_ERR_REQUEST_INVALID_HEADER',
      );
      expect(body.error.param).toBe('x-ms-client-principal');
      expect(backendCalls()).toBe(0);
    });
  });

  describe('profile rules', () => {
    it('refuses a model outside allowedModels with 403 GW_ERR_POLICY_MODEL_NOT_ALLOWED naming the model', async () => {
      expect(
        (await observed(h, () => postJson(url(), chat('gpt-4o-mini'), { 'api-key': KEYS.models }))).response.status,
      ).toBe(200);
      await expectRefused(
        await postJson(url(), chat('gpt-4o'), { 'api-key': KEYS.models }),
        403,
        'GW_ERR_POLICY_MODEL_NOT_ALLOWED',
        /model "gpt-4o"/,
      );
      expect(backendCalls()).toBe(1);
    });

    it('refuses a route outside allowedRoutes with 403 naming the route', async () => {
      expect((await observed(h, () => postJson(url(), chat(), { 'api-key': KEYS.chatOnly }))).response.status).toBe(
        200,
      );
      await expectRefused(
        await postJson(
          url('/v1/embeddings'),
          { model: 'text-embedding-3-small', input: 'hi' },
          { 'api-key': KEYS.chatOnly },
        ),
        403,
        'GW_ERR_POLICY_MODEL_NOT_ALLOWED',
        /route "embed"/,
      );
      expect(backendCalls()).toBe(1);
    });

    it('refuses a deployment outside allowedDeployments with 403 naming it, via the Azure OpenAI client', async () => {
      const allowed = new AzureOpenAI({
        endpoint: h.url,
        apiKey: KEYS.azure,
        apiVersion: '2024-10-21',
        deployment: 'gpt-4o-mini',
        maxRetries: 0,
      });
      expect((await allowed.chat.completions.create(chat())).choices).toHaveLength(1);
      const refused = new AzureOpenAI({
        endpoint: h.url,
        apiKey: KEYS.azure,
        apiVersion: '2024-10-21',
        deployment: 'gpt-4o',
        maxRetries: 0,
      });
      const error = (await refused.chat.completions.create(chat('gpt-4o')).catch((e: unknown) => e)) as InstanceType<
        typeof OpenAI.APIError
      >;
      expect(error).toBeInstanceOf(OpenAI.APIError);
      expect(error.status).toBe(403);
      expect(error.code).toBe('GW_ERR_POLICY_MODEL_NOT_ALLOWED');
      expect(error.message).toMatch(/deployment "gpt-4o"/);
      // The OpenAI-shaped call of the same model passes: allowedModels covers gpt-4o*, only deployments are narrower.
      expect(
        (await observed(h, () => postJson(url(), chat('gpt-4o'), { 'api-key': KEYS.azure }))).response.status,
      ).toBe(200);
      expect(h.sims.a!.attempts().map((a) => a.model)).toEqual(['gpt-4o-mini', 'gpt-4o']);
    });

    it('refuses an API key caller of an app-gated profile (no app id): 403 GW_ERR_AUTH_APP_NOT_ALLOWED', async () => {
      await expectRefused(await postJson(url(), chat(), { 'api-key': KEYS.gated }), 403, 'GW_ERR_AUTH_APP_NOT_ALLOWED');
      expect(backendCalls()).toBe(0);
    });

    it('answers 417 GW_ERR_POLICY_REQUIRED_HEADER naming a missing or blank required header', async () => {
      const missing = await expectRefused(
        await postJson(url(), chat(), { 'api-key': KEYS.strict, 'x-department': 'sales' }),
        417,
        'GW_ERR_POLICY_REQUIRED_HEADER',
        /x-cost-center/,
      );
      expect(missing.error.param).toBe('x-cost-center');
      await expectRefused(
        await postJson(url(), chat(), { 'api-key': KEYS.strict, 'x-department': 'sales', 'x-cost-center': '   ' }),
        417,
        'GW_ERR_POLICY_REQUIRED_HEADER',
        /x-cost-center/,
      );
      // A header named by a value rule but absent fails as required.
      await expectRefused(
        await postJson(url(), chat(), { 'api-key': KEYS.strict, 'x-cost-center': 'cc-1' }),
        417,
        'GW_ERR_POLICY_REQUIRED_HEADER',
        /x-department/,
      );
      expect(backendCalls()).toBe(0);
    });

    it('checks header values: exact (any case) and * prefix matches pass, else 417 POLICY_HEADER_RULE', async () => {
      for (const value of ['sales', 'SALES', ' eng-platform ', 'eng-']) {
        const { response } = await observed(h, () =>
          postJson(url(), chat(), { 'api-key': KEYS.strict, 'x-cost-center': 'cc-1', 'x-department': value }),
        );
        expect(response.status, value).toBe(200);
      }
      for (const value of ['marketing', 'sales-eu', 'eng', 'xeng-platform']) {
        await expectRefused(
          await postJson(url(), chat(), { 'api-key': KEYS.strict, 'x-cost-center': 'cc-1', 'x-department': value }),
          417,
          'GW_ERR_POLICY_HEADER_RULE',
          /x-department/,
        );
      }
      expect(backendCalls()).toBe(4);
    });

    it('applies a :path rule (the seed S7Path) against the request path', async () => {
      expect((await observed(h, () => postJson(url(), chat(), { 'api-key': KEYS.pathLimited }))).response.status).toBe(
        200,
      );
      await expectRefused(
        await postJson(
          url('/v1/embeddings'),
          { model: 'text-embedding-3-small', input: 'hi' },
          { 'api-key': KEYS.pathLimited },
        ),
        417,
        'GW_ERR_POLICY_HEADER_RULE',
        /:path/,
      );
      expect(backendCalls()).toBe(1);
    });

    it('strips the profile stripHeaders and injects its injectHeaders (overwriting the caller) upstream', async () => {
      const { response } = await observed(h, () =>
        postJson(url(), chat(), {
          'api-key': KEYS.strict,
          'x-cost-center': 'cc-7',
          'x-department': 'eng-search',
          'x-internal-trace': 'secret-trace',
          'x-cost-owner': 'caller-says-me',
          'x-custom': 'kept',
        }),
      );
      expect(response.status).toBe(200);
      const seen = h.sims.a!.attempts()[0]!.headers;
      expect(seen['x-internal-trace']).toBeUndefined();
      expect(seen['x-cost-owner']).toBe('search');
      expect(seen['x-tenant']).toBe('contoso');
      expect(seen['x-cost-center']).toBe('cc-7');
      expect(seen['x-custom']).toBe('kept');
      expect(seen['api-key']).toBeUndefined();
    });

    it('refuses a suspended key or profile, or a key of a suspended user, with 403 GW_ERR_AUTH_SUSPENDED', async () => {
      await expectRefused(
        await postJson(url(), chat(), { 'api-key': KEYS.suspendedKey }),
        403,
        'GW_ERR_AUTH_SUSPENDED',
        /suspended-key/,
      );
      await expectRefused(
        await postJson(url(), chat(), { 'api-key': KEYS.suspendedProfile }),
        403,
        'GW_ERR_AUTH_SUSPENDED',
        /on-hold/,
      );
      await expectRefused(
        await postJson(url(), chat(), { authorization: `Bearer ${KEYS.departed}` }),
        403,
        'GW_ERR_AUTH_SUSPENDED',
        /departed-user/,
      );
      expect(backendCalls()).toBe(0);
    });
  });

  describe('priority', () => {
    const priorityOf = async (key: string, headers: Record<string, string> = {}): Promise<number | undefined> => {
      const { response, summary } = await observed(h, () => postJson(url(), chat(), { 'api-key': key, ...headers }));
      expect(response.status).toBe(200);
      return summary.priority;
    };

    it('starts from the tier of the profile', async () => {
      expect(await priorityOf(KEYS.std)).toBe(2);
      expect(await priorityOf(KEYS.batch)).toBe(3);
    });

    it('takes priority keys from x-gateway-priority or S7PPriorityKey, ignores unknown ones, clamps', async () => {
      expect(await priorityOf(KEYS.std, { 'x-gateway-priority': 'urgent' })).toBe(1);
      expect(await priorityOf(KEYS.std, { S7PPriorityKey: 'BACKGROUND' })).toBe(3);
      expect(await priorityOf(KEYS.std, { 'x-gateway-priority': 'whatever' })).toBe(2);
      expect(await priorityOf(KEYS.batch, { 'x-gateway-priority': 'urgent' })).toBe(2);
      expect(await priorityOf(KEYS.batch, { S7PPriorityKey: 'normal' })).toBe(2);
      for (const attempt of h.sims.a!.attempts()) {
        expect(attempt.headers['x-gateway-priority']).toBeUndefined();
        expect(attempt.headers.s7pprioritykey).toBeUndefined();
      }
    });

    it('writes the assigned priority, profile and tier into the usage record', async () => {
      const { response } = await observed(h, () =>
        postJson(url(), chat(), { 'api-key': KEYS.batch, 'x-gateway-priority': 'urgent' }),
      );
      const requestId = response.headers.get('x-gateway-request-id');
      await h.runtime.ledger.flush();
      const records: UsageRecord[] = [];
      for await (const r of h.runtime.ledger.query({ fromMs: 0, toMs: Number.MAX_SAFE_INTEGER })) records.push(r);
      expect(records.find((r) => r.requestId === requestId)).toMatchObject({
        priority: 2,
        caller: { profileId: 'batch', tier: 'batch', userId: 'key:batch' },
      });
    });
  });

  describe('bad input', () => {
    it('refuses a header value over governance.limits.maxHeaderValueBytes with 400 naming the header', async () => {
      const body = await expectRefused(
        await postJson(url(), chat(), { 'api-key': KEYS.std, 'x-note': 'n'.repeat(1025) }),
        400,
        'GW_ERR_REQUEST_INVALID_HEADER',
        /x-note/,
      );
      expect(body.error.param).toBe('x-note');
      // Even before identity: an oversized credential is refused as a header, not looked up.
      await expectRefused(
        await postJson(url(), chat(), { authorization: `Bearer ${'x'.repeat(2000)}` }),
        400,
        'GW_ERR_REQUEST_INVALID_HEADER',
        /authorization/,
      );
      expect(backendCalls()).toBe(0);
    });

    it('answers 431 from the Node host for a header block over limits.maxHeaderBytes, then keeps serving', async () => {
      const many: Record<string, string> = { 'api-key': KEYS.std };
      for (let i = 0; i < 24; i++) many[`x-filler-${i}`] = 'f'.repeat(1000);
      const response = await postJson(url(), chat(), many);
      await expectRefused(response, 431, 'GW_ERR_REQUEST_HEADERS_TOO_LARGE');
      expect(backendCalls()).toBe(0);
      expect((await observed(h, () => postJson(url(), chat(), { 'api-key': KEYS.std }))).response.status).toBe(200);
    });

    it.each([
      ['a bare CR', 'x-department: sales\rX-Injected: 1'],
      ['a bare LF', 'x-department: sales\nX-Injected: 1'],
      ['a NUL byte', 'x-department: sa\0les'],
      ['an obsolete line fold', 'x-department: sales\r\n X-Injected: 1'],
    ])(
      'closes a connection whose header carries %s with 400 in our envelope, and stays healthy',
      async (_name, line) => {
        const payload = JSON.stringify(chat());
        const { host } = new URL(h.url);
        const raw = await rawRequest(
          h.url,
          `POST /v1/chat/completions HTTP/1.1\r\nhost: ${host}\r\napi-key: ${KEYS.std}\r\ncontent-type: ` +
            `application/json\r\ncontent-length: ${payload.length}\r\n${line}\r\n\r\n${payload}`,
        );
        expect(raw).toMatch(/^HTTP\/1\.1 400 /);
        expect(raw.toLowerCase()).toContain('x-gateway-error-code: gw_err_request_invalid_header');
        const body = JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4)) as ErrorBody;
        expect(body.error.code).toBe('GW_ERR_REQUEST_INVALID_HEADER');
        expect(backendCalls()).toBe(0);
        expect((await observed(h, () => postJson(url(), chat(), { 'api-key': KEYS.std }))).response.status).toBe(200);
      },
    );

    it('cannot forward a header split: fetch refuses CR/LF values client-side; CR/LF injectHeaders never load', () => {
      expect(() => new Headers({ 'x-department': 'sales\r\nX-Injected: 1' })).toThrow();
      const result = validateConfig({
        ...defaultConfig({ a: 'http://127.0.0.1:1' }),
        governance: { profiles: [{ id: 'p', injectHeaders: { 'x-cost-owner': 'a\r\nx-evil: 1' } }] },
      });
      expect(result.ok).toBe(false);
      if (!result.ok)
        expect(result.issues.join('\n')).toMatch(
          /governance\.profiles\.0\.injectHeaders\.x-cost-owner: a header value may not contain CR, LF or NUL/,
        );
    });
  });
});

describe('identity modes that are off', () => {
  let h: Harness;
  let entra: EntraTestIssuer;

  beforeAll(async () => {
    entra = await startEntraTestIssuer();
    h = await startHarness({
      simulators: { a: {} },
      config: (urls) =>
        defaultConfig(urls, {
          governance: {
            identity: {
              entra: { enabled: true, jwksUri: entra.jwksUri, issuers: [entra.issuer], audience: entra.audience },
            },
            apps: [{ appId: APP_OK, profile: 'standard' }],
            profiles: [
              { id: 'standard', tier: 'standard' },
              { id: 'wide-open', tier: 'interactive' },
              { id: 'on-hold', suspended: true },
            ],
          },
        }),
    });
  });
  afterAll(async () => {
    await h?.close();
    await entra?.close();
  });
  beforeEach(() => h.sims.a!.reset());

  it('ignores trusted-upstream headers for identity when that mode is off: 401 GW_ERR_AUTH_MISSING', async () => {
    const principal = base64Json({ auth_typ: 'aad', claims: [{ typ: 'appid', val: APP_OK }] });
    const attempts: Record<string, string>[] = [
      { 'X-MS-CLIENT-PRINCIPAL-ID': APP_OK },
      { 'X-MS-CLIENT-PRINCIPAL': principal },
      { 'X-UserProfile': 'wide-open', 'X-UserID': 'mallory' },
    ];
    for (const headers of attempts) {
      await expectRefused(
        await postJson(`${h.url}/v1/chat/completions`, chat(), headers),
        401,
        'GW_ERR_AUTH_MISSING',
        /Entra ID access token/,
      );
    }
    expect(h.sims.a!.attempts()).toHaveLength(0);
  });

  it('does not let X-UserProfile change the profile of a token caller, and does not forward it', async () => {
    const token = await entra.token({ azp: APP_OK, oid: OID_ALICE });
    const { response, summary } = await observed(h, () =>
      postJson(`${h.url}/v1/chat/completions`, chat(), {
        authorization: `Bearer ${token}`,
        'X-UserProfile': 'on-hold',
        'X-UserID': 'mallory',
      }),
    );
    expect(response.status).toBe(200);
    expect(summary.caller).toMatchObject({ identity: 'entra', profileId: 'standard', userId: OID_ALICE });
    expect(h.sims.a!.attempts()[0]!.headers['x-userprofile']).toBeUndefined();
  });

  it('refuses a bearer that is not a JWT with 401 GW_ERR_AUTH_INVALID_TOKEN when only Entra mode is on', async () => {
    for (const bearer of ['not-a-jwt', 'only.two', 'a.b.c.d', 'has+plus.and/slash.x']) {
      await expectRefused(
        await postJson(`${h.url}/v1/chat/completions`, chat(), { authorization: `Bearer ${bearer}` }),
        401,
        'GW_ERR_AUTH_INVALID_TOKEN',
      );
    }
    await expectRefused(
      await postJson(`${h.url}/v1/chat/completions`, chat(), { 'api-key': 'sk-anything' }),
      401,
      'GW_ERR_AUTH_MISSING',
    );
    expect(h.sims.a!.attempts()).toHaveLength(0);
  });
});

describe('Entra ID when the signing keys cannot be fetched', () => {
  it('answers 503 GW_ERR_SERVICE_NOT_READY + retry-after (not a caller fault); nothing reaches a backend', async () => {
    const gone = await startEntraTestIssuer();
    const token = await gone.token({ azp: APP_OK, oid: OID_ALICE });
    await gone.close();
    const h = await startHarness({
      simulators: { a: {} },
      config: (urls) =>
        defaultConfig(urls, {
          governance: {
            identity: {
              entra: { enabled: true, jwksUri: gone.jwksUri, issuers: [gone.issuer], audience: gone.audience },
            },
            apps: [{ appId: APP_OK, profile: 'standard' }],
            profiles: [{ id: 'standard' }],
          },
        }),
    });
    try {
      const response = await postJson(`${h.url}/v1/chat/completions`, chat(), { authorization: `Bearer ${token}` });
      expect(Number(response.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      await expectRefused(response, 503, 'GW_ERR_SERVICE_NOT_READY');
      expect(h.sims.a!.attempts()).toHaveLength(0);
    } finally {
      await h.close();
    }
  });
});

describe('production mode without identity', () => {
  const production = (governance: GatewayConfigInput['governance']) => {
    const result = validateConfig({
      ...defaultConfig({ a: 'http://127.0.0.1:1' }),
      server: { mode: 'production' },
      governance,
    });
    if (!result.ok) throw new Error(result.issues.join('\n'));
    return result.config;
  };

  it('checkIdentityConfig refuses production with no identity mode unless anonymous access is allowed', () => {
    expect(checkIdentityConfig(production({}).governance, 'production')).toMatch(/no caller identity is configured/);
    expect(
      checkIdentityConfig(production({ identity: { anonymous: { allowed: false } } }).governance, 'production'),
    ).toMatch(/anonymous\.allowed/);
    expect(checkIdentityConfig(production({}).governance, 'development')).toBeUndefined();
    expect(
      checkIdentityConfig(production({ identity: { anonymous: { allowed: true } } }).governance, 'production'),
    ).toBeUndefined();
    expect(
      checkIdentityConfig(
        production({
          identity: { apiKeys: { enabled: true, keys: [{ id: 'k', sha256: hashApiKey('k'), profile: 'p' }] } },
          profiles: [{ id: 'p' }],
        }).governance,
        'production',
      ),
    ).toBeUndefined();
    expect(
      checkIdentityConfig(production({ identity: { trustedUpstream: { enabled: true } } }).governance, 'production'),
    ).toBeUndefined();
  });

  it('fails closed if such a gateway is started anyway: every call is 401 and nothing reaches a backend', async () => {
    const h = await startHarness({
      simulators: { a: {} },
      config: (urls) => ({ ...defaultConfig(urls), server: { mode: 'production' }, governance: {} }),
    });
    try {
      await expectRefused(
        await postJson(`${h.url}/v1/chat/completions`, chat()),
        401,
        'GW_ERR_AUTH_MISSING',
        /No caller identity is configured/,
      );
      await expectRefused(
        await postJson(`${h.url}/v1/chat/completions`, chat(), { 'X-UserProfile': 'anything', 'api-key': 'k' }),
        401,
        'GW_ERR_AUTH_MISSING',
      );
      expect(h.sims.a!.attempts()).toHaveLength(0);
    } finally {
      await h.close();
    }
  });
});

/** A quota store that reports every settlement, so the test can await them instead of sleeping. */
class ObservedQuotaStore implements QuotaStore {
  readonly inner = new MemoryQuotaStore();
  private adjusts = 0;
  private waiters: { count: number; resolve: () => void }[] = [];
  maxUsed = 0;

  async reserve(key: string, windowStartMs: number, amount: number, limit: number): Promise<QuotaReserveResult> {
    const result = await this.inner.reserve(key, windowStartMs, amount, limit);
    this.maxUsed = Math.max(this.maxUsed, result.used);
    return result;
  }
  async adjust(key: string, windowStartMs: number, delta: number): Promise<number> {
    const used = await this.inner.adjust(key, windowStartMs, delta);
    this.adjusts++;
    this.waiters = this.waiters.filter((w) => (w.count <= this.adjusts ? (w.resolve(), false) : true));
    return used;
  }
  used(key: string, windowStartMs: number): Promise<number> {
    return this.inner.used(key, windowStartMs);
  }
  /** Resolves once `count` adjustments have been made. */
  adjusted(count: number): Promise<void> {
    if (this.adjusts >= count) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ count, resolve }));
  }
}

describe('token quotas under concurrency', () => {
  const KEY = 'sk-gw-metered-0123456789abcdef';
  const body = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'count to ten' }], max_tokens: 50 };
  const reservation = estimateRequestTokens(body, { defaultMaxOutputTokens: 4096, charsPerToken: 4 });
  const limit = reservation * 10;
  // The wall clock is moved to one second into a minute, so that the whole test runs inside one
  // minute window whatever the real time: the window under test is then known exactly.
  const realNow = systemClock.now();
  const windowStartMs = Math.ceil(realNow / 60_000) * 60_000;
  const offsetMs = windowStartMs + 1_000 - realNow;
  const clock: Clock = { now: () => systemClock.now() + offsetMs, monotonicMs: () => systemClock.monotonicMs() };
  const store = new ObservedQuotaStore();
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness({
      simulators: { a: {} },
      runtime: { clock, quotaStore: store },
      config: (urls) =>
        defaultConfig(urls, {
          governance: {
            identity: {
              apiKeys: {
                enabled: true,
                keys: [{ id: 'metered', sha256: hashApiKey(KEY), profile: 'metered', userId: 'carol' }],
              },
            },
            profiles: [{ id: 'metered', tier: 'standard', quotas: { tokensPerMinute: limit } }],
          },
        }),
    });
  });
  afterAll(async () => h?.close());

  it('grants 50 concurrent calls up to the minute budget (overshoot ≤ 1), 429s the rest, settles usage', async () => {
    const ended = Array.from({ length: 50 }, () => h.nextCall());
    const responses = await Promise.all(
      Array.from({ length: 50 }, () => postJson(`${h.url}/v1/chat/completions`, body, { 'api-key': KEY })),
    );
    const texts = await Promise.all(responses.map((r) => r.text()));
    const summaries = await Promise.all(ended);

    const granted = responses.filter((r) => r.status === 200);
    const refused = responses.map((r, i) => ({ r, text: texts[i]! })).filter(({ r }) => r.status !== 200);
    expect(granted.length).toBeGreaterThanOrEqual(Math.floor(limit / reservation));
    expect(granted.length).toBeLessThan(50);
    for (const { r, text } of refused) {
      expect(r.status).toBe(429);
      expect(r.headers.get('x-gateway-error-code')).toBe('GW_ERR_QUOTA_EXCEEDED');
      expect((JSON.parse(text) as ErrorBody).error.code).toBe('GW_ERR_QUOTA_EXCEEDED');
      const retryAfter = Number(r.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(60);
    }
    // Nothing refused reached the backend.
    expect(h.sims.a!.attempts()).toHaveLength(granted.length);

    const metered = summaries.filter((s) => s.status === 200).map((s) => s.usage?.totalTokens ?? NaN);
    expect(metered).toHaveLength(granted.length);
    const meteredTotal = metered.reduce((a, b) => a + b, 0);
    expect(meteredTotal).toBeLessThanOrEqual(limit + reservation);
    expect(store.maxUsed).toBeLessThanOrEqual(limit + reservation);

    // Every granted call settles its reservation to its metered usage (each differs from the reservation).
    expect(metered.every((m) => m !== reservation)).toBe(true);
    await store.adjusted(granted.length);
    expect(await store.used('caller:metered:carol:minute', windowStartMs)).toBe(meteredTotal);
  });

  it('refuses at once while the window is spent, before anything is queued or sent', async () => {
    h.sims.a!.reset();
    // The previous test left the minute window holding its metered usage; fill what remains.
    let refusedAt = -1;
    for (let i = 0; i < 20 && refusedAt < 0; i++) {
      const response = await postJson(`${h.url}/v1/chat/completions`, body, { 'api-key': KEY });
      await response.text();
      if (response.status === 429) refusedAt = i;
    }
    expect(refusedAt).toBeGreaterThanOrEqual(0);
    expect(h.sims.a!.attempts()).toHaveLength(refusedAt);
    const again = await postJson(`${h.url}/v1/chat/completions`, body, { 'api-key': KEY });
    await expectRefused(again, 429, 'GW_ERR_QUOTA_EXCEEDED', /per-minute token quota/);
    expect(Number(again.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(h.sims.a!.attempts()).toHaveLength(refusedAt);
  });
});
