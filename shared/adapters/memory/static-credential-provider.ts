import type { BackendAuthConfig, BackendConfig } from '../../config/schema.js';
import type { CredentialProvider } from '../../ports/credential-provider.js';

/**
 * Resolves API keys and static bearer tokens from config (`value`) or the environment (`env`).
 * Managed-identity backends need `AzureIdentityCredentialProvider`; here they are refused with a clear
 * error at first use.
 *
 * @example
 * const credentials = createStaticCredentialProvider(process.env);
 */
export function createStaticCredentialProvider(env: Readonly<Record<string, string | undefined>>): CredentialProvider {
  const cache = new WeakMap<BackendAuthConfig, Record<string, string>>();
  return {
    headersFor(backend: BackendConfig): Record<string, string> {
      const auth = backend.auth;
      const cached = cache.get(auth);
      if (cached) return cached;
      let headers: Record<string, string>;
      switch (auth.type) {
        case 'none':
        case 'passthrough':
          headers = {};
          break;
        case 'api-key':
          headers = { [auth.header.toLowerCase()]: resolveSecret(auth.key, env, backend.id) };
          break;
        case 'bearer':
          headers = { authorization: `Bearer ${resolveSecret(auth.token, env, backend.id)}` };
          break;
        case 'managed-identity':
          throw new Error(
            `backend "${backend.id}" uses managed-identity auth, which needs the Azure credential provider`,
          );
      }
      cache.set(auth, headers);
      return headers;
    },
  };
}

function resolveSecret(
  ref: { value?: string | undefined; env?: string | undefined },
  env: Readonly<Record<string, string | undefined>>,
  backendId: string,
): string {
  if (ref.value !== undefined) return ref.value;
  const value = ref.env === undefined ? undefined : env[ref.env];
  if (value === undefined || value === '')
    throw new Error(`backend "${backendId}": environment variable ${ref.env ?? '(none)'} is not set`);
  return value;
}
