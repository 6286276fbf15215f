import { describe, expect, it } from 'vitest';
import type { AccessToken, TokenCredential } from '@azure/identity';
import { backendSchema, type BackendConfig } from '../../config/schema.js';
import { createAzureIdentityCredentialProvider } from './azure-identity-credential-provider.js';

const backend = (auth: unknown, id = 'b1'): BackendConfig =>
  backendSchema.parse({ id, url: 'https://example.invalid', auth });

/** A TokenCredential that issues numbered tokens valid for `lifetimeMs`, counting calls per scope. */
function fakeCredential(now: () => number, lifetimeMs = 3_600_000) {
  const calls: string[] = [];
  let pending: (() => void) | undefined;
  let gate = false;
  const credential: TokenCredential = {
    async getToken(scopes) {
      const scope = Array.isArray(scopes) ? scopes[0]! : (scopes as string);
      calls.push(scope);
      if (gate) await new Promise<void>((resolve) => (pending = resolve));
      return { token: `tok-${calls.length}-${scope}`, expiresOnTimestamp: now() + lifetimeMs } satisfies AccessToken;
    },
  };
  return {
    credential,
    calls,
    hold: () => {
      gate = true;
    },
    release: () => {
      gate = false;
      pending?.();
    },
  };
}

describe('AzureIdentityCredentialProvider', () => {
  it('caches a managed-identity token per audience and refreshes it 5 minutes before expiry', async () => {
    let t = 1_000_000;
    const fake = fakeCredential(() => t);
    const provider = createAzureIdentityCredentialProvider({
      env: {},
      now: () => t,
      credentialFor: () => fake.credential,
    });
    const aoai = backend({ type: 'managed-identity' });
    const other = backend({ type: 'managed-identity', audience: 'https://management.azure.com' }, 'b2');

    expect(await provider.headersFor(aoai)).toEqual({
      authorization: 'Bearer tok-1-https://cognitiveservices.azure.com/.default',
    });
    expect(await provider.headersFor(aoai)).toEqual({
      authorization: 'Bearer tok-1-https://cognitiveservices.azure.com/.default',
    });
    expect(await provider.headersFor(other)).toEqual({
      authorization: 'Bearer tok-2-https://management.azure.com/.default',
    });
    expect(fake.calls).toHaveLength(2);

    t += 3_600_000 - 5 * 60_000 - 1; // just outside the refresh window
    await provider.headersFor(aoai);
    expect(fake.calls).toHaveLength(2);

    t += 2; // inside it: the cached token is served while one refresh runs
    expect(await provider.headersFor(aoai)).toEqual({
      authorization: 'Bearer tok-1-https://cognitiveservices.azure.com/.default',
    });
    await Promise.resolve();
    expect(fake.calls).toHaveLength(3);
    expect(await provider.headersFor(aoai)).toEqual({
      authorization: 'Bearer tok-3-https://cognitiveservices.azure.com/.default',
    });
  });

  it('fetches once for many concurrent callers when nothing is cached (single flight)', async () => {
    const t = 0;
    const fake = fakeCredential(() => t);
    fake.hold();
    const provider = createAzureIdentityCredentialProvider({
      env: {},
      now: () => t,
      credentialFor: () => fake.credential,
    });
    const all = Promise.all(
      Array.from({ length: 20 }, () => provider.headersFor(backend({ type: 'managed-identity' }))),
    );
    await Promise.resolve();
    fake.release();
    const headers = await all;
    expect(new Set(headers.map((h) => h.authorization)).size).toBe(1);
    expect(fake.calls).toHaveLength(1);
  });

  it('waits for a new token once the cached one has expired, and reports failures naming the backend', async () => {
    let t = 0;
    const fake = fakeCredential(() => t, 1_000);
    const provider = createAzureIdentityCredentialProvider(
      { env: {}, now: () => t, credentialFor: () => fake.credential },
      { refreshBeforeExpiryMs: 0 },
    );
    await provider.headersFor(backend({ type: 'managed-identity' }));
    t = 1_000;
    expect((await provider.headersFor(backend({ type: 'managed-identity' }))).authorization).toMatch(/^Bearer tok-2-/);

    const failing = createAzureIdentityCredentialProvider({
      env: {},
      credentialFor: () => ({
        getToken: async () => {
          throw new Error('no identity endpoint');
        },
      }),
    });
    await expect(failing.headersFor(backend({ type: 'managed-identity' }, 'aoai-east'))).rejects.toThrow(
      /backend "aoai-east".*no identity endpoint/,
    );
  });

  it('uses one credential per user-assigned identity', async () => {
    const asked: (string | undefined)[] = [];
    const provider = createAzureIdentityCredentialProvider({
      env: {},
      credentialFor: (clientId) => {
        asked.push(clientId);
        return fakeCredential(() => 0).credential;
      },
    });
    await provider.headersFor(backend({ type: 'managed-identity', clientId: 'uami-1' }));
    await provider.headersFor(
      backend({ type: 'managed-identity', clientId: 'uami-1', audience: 'https://x/.default' }),
    );
    await provider.headersFor(backend({ type: 'managed-identity' }));
    expect(asked).toEqual(['uami-1', undefined]);
  });

  it('serves api-key and bearer secrets from config or environment like the static provider', async () => {
    const provider = createAzureIdentityCredentialProvider({
      env: { AOAI_KEY: 'k-1' },
      credentialFor: () => {
        throw new Error('not used');
      },
    });
    expect(
      await provider.headersFor(backend({ type: 'api-key', header: 'api-key', key: { env: 'AOAI_KEY' } })),
    ).toEqual({ 'api-key': 'k-1' });
    expect(await provider.headersFor(backend({ type: 'bearer', token: { value: 't' } }))).toEqual({
      authorization: 'Bearer t',
    });
    expect(await provider.headersFor(backend({ type: 'none' }))).toEqual({});
  });
});
