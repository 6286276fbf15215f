import { ManagedIdentityCredential, type TokenCredential } from '@azure/identity';

/**
 * The Entra ID credential named by `APPLICATIONINSIGHTS_AUTHENTICATION_STRING`, the setting the Functions
 * host reads for its own telemetry: `Authorization=AAD;ClientId=<client id>` → that user-assigned managed
 * identity; `Authorization=AAD` → the system-assigned one; anything else (or unset) → `undefined`
 * (instrumentation key only). The same parsing as the `applicationinsights` agent's, which the
 * `TelemetryClient` the gateway uses does not apply by itself — without this, an Application Insights
 * resource with local authentication disabled rejects every custom event and metric the gateway sends.
 *
 * @example
 * // a ManagedIdentityCredential for that client id:
 * appInsightsCredential('Authorization=AAD;ClientId=00000000-0000-0000-0000-000000000001');
 */
export function appInsightsCredential(authenticationString: string | undefined): TokenCredential | undefined {
  const fields = parseAuthenticationString(authenticationString);
  if (fields.get('authorization') !== 'AAD') return undefined;
  const clientId = fields.get('clientid');
  return clientId === undefined || clientId === ''
    ? new ManagedIdentityCredential()
    : new ManagedIdentityCredential({ clientId });
}

/** `key=value;key=value` → lower-cased keys; malformed pairs are skipped. */
export function parseAuthenticationString(value: string | undefined): ReadonlyMap<string, string> {
  const fields = new Map<string, string>();
  for (const pair of (value ?? '').split(';')) {
    const parts = pair.split('=');
    if (parts.length === 2) fields.set(parts[0]!.trim().toLowerCase(), parts[1]!.trim());
  }
  return fields;
}
