import type { BackendConfig } from '../config/schema.js';

/**
 * Supplies the gateway's own credentials for a backend (API key header, bearer token, managed-identity
 * token). Hosts pick the adapter: `StaticCredentialProvider` resolves keys from the environment,
 * `AzureIdentityCredentialProvider` adds managed-identity tokens with a per-audience cache.
 */
export interface CredentialProvider {
  /** The auth headers to send to this backend (empty for `none` and `passthrough`). */
  headersFor(backend: BackendConfig, signal?: AbortSignal): Promise<Record<string, string>> | Record<string, string>;
}
