import {
  DefaultAzureCredential,
  ManagedIdentityCredential,
  type AccessToken,
  type TokenCredential,
} from '@azure/identity';
import type { BackendConfig } from '../../config/schema.js';
import type { CredentialProvider } from '../../ports/credential-provider.js';
import { createStaticCredentialProvider } from '../memory/static-credential-provider.js';

/** Dependencies of {@link createAzureIdentityCredentialProvider}. */
export interface AzureIdentityCredentialProviderDeps {
  /** Where `api-key` and `bearer` secrets named by `env` are read (usually `process.env`). */
  readonly env: Readonly<Record<string, string | undefined>>;
  /**
   * The credential for a managed-identity backend. Default: `ManagedIdentityCredential({ clientId })`
   * when the backend names a user-assigned identity, else `DefaultAzureCredential` (managed identity on
   * Azure, developer sign-in locally). Called once per distinct `clientId`.
   */
  readonly credentialFor?: (clientId: string | undefined) => TokenCredential;
  /** Wall clock (default `Date.now`). */
  readonly now?: () => number;
}

/** Options of {@link createAzureIdentityCredentialProvider}. */
export interface AzureIdentityCredentialProviderOptions {
  /** A cached token is refreshed this long before it expires (default 5 minutes). */
  readonly refreshBeforeExpiryMs?: number;
  /** Receives background refresh errors (the cached token is used until it expires). */
  readonly onRefreshError?: (error: unknown) => void;
}

interface CacheEntry {
  token: AccessToken | undefined;
  inflight: Promise<AccessToken> | undefined;
}

/**
 * Creates the {@link CredentialProvider} for Azure: `managed-identity` backends get
 * `authorization: Bearer {token}` from `@azure/identity`, with one token cache per (identity, audience).
 * A token is served from the cache until `refreshBeforeExpiryMs` before `expiresOnTimestamp`; inside that
 * window the cached token is still served while one background refresh runs (single flight); past expiry
 * callers wait for one shared fetch. `api-key`, `bearer`, `none` and `passthrough` behave exactly as the
 * static provider.
 *
 * @example
 * const credentials = createAzureIdentityCredentialProvider({ env: process.env });
 * const headers = await credentials.headersFor(backend); // { authorization: 'Bearer eyJ…' }
 */
export function createAzureIdentityCredentialProvider(
  deps: AzureIdentityCredentialProviderDeps,
  options: AzureIdentityCredentialProviderOptions = {},
): CredentialProvider {
  const fallback = createStaticCredentialProvider(deps.env);
  const now = deps.now ?? (() => Date.now());
  const refreshBeforeMs = options.refreshBeforeExpiryMs ?? 5 * 60_000;
  const credentialFor =
    deps.credentialFor ??
    ((clientId) =>
      clientId === undefined ? new DefaultAzureCredential() : new ManagedIdentityCredential({ clientId }));
  const credentials = new Map<string, TokenCredential>();
  const cache = new Map<string, CacheEntry>();

  const credentialOf = (clientId: string | undefined): TokenCredential => {
    let credential = credentials.get(clientId ?? '');
    if (credential === undefined) credentials.set(clientId ?? '', (credential = credentialFor(clientId)));
    return credential;
  };
  const fetchToken = (entry: CacheEntry, clientId: string | undefined, scope: string, signal?: AbortSignal) =>
    fetchOnce(entry, () => credentialOf(clientId), scope, signal);

  return {
    async headersFor(backend: BackendConfig, signal?: AbortSignal) {
      const auth = backend.auth;
      if (auth.type !== 'managed-identity') return fallback.headersFor(backend);
      const scope = toScope(auth.audience);
      const cacheKey = `${auth.clientId ?? ''}\n${scope}`;
      let entry = cache.get(cacheKey);
      if (entry === undefined) cache.set(cacheKey, (entry = { token: undefined, inflight: undefined }));
      const at = now();
      const cached = entry.token;
      if (cached !== undefined && at < cached.expiresOnTimestamp) {
        if (at >= cached.expiresOnTimestamp - refreshBeforeMs && entry.inflight === undefined) {
          // Refresh early in the background; requests keep the still-valid token meanwhile.
          fetchToken(entry, auth.clientId, scope).catch((error: unknown) => options.onRefreshError?.(error));
        }
        return { authorization: `Bearer ${cached.token}` };
      }
      try {
        const token = await fetchToken(entry, auth.clientId, scope, signal);
        return { authorization: `Bearer ${token.token}` };
      } catch (error) {
        throw new Error(
          `backend "${backend.id}": could not get a managed-identity token for ` +
            `${scope}: ${error instanceof Error ? error.message : String(error)}`,
          { cause: error },
        );
      }
    },
  };
}

/** An audience (`https://cognitiveservices.azure.com`) as a token scope (`…/.default`). */
function toScope(audience: string): string {
  return audience.endsWith('/.default') ? audience : `${audience.replace(/\/+$/, '')}/.default`;
}

/** Gets a token into `entry`, one request at a time per entry (callers meanwhile share the one in flight). */
function fetchOnce(
  entry: CacheEntry,
  credential: () => TokenCredential,
  scope: string,
  signal: AbortSignal | undefined,
): Promise<AccessToken> {
  entry.inflight ??= (async () => {
    try {
      const token = await credential().getToken(scope, signal === undefined ? {} : { abortSignal: signal });
      if (token === null) throw new Error(`No token for scope ${scope}`);
      entry.token = token;
      return token;
    } finally {
      entry.inflight = undefined;
    }
  })();
  return entry.inflight;
}
