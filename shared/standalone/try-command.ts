import type { GatewayConfig } from '../config/gateway-schema.js';

/**
 * The start-up `try:` lines: a `curl` that works with the configuration in force. Anonymous access → the
 * call as is. API keys on → the call with an `api-key` header holding a placeholder, and which keys are
 * configured (by id — the gateway holds only their SHA-256, never the key) or how to make one with
 * `npm run key`. Entra only → a placeholder bearer token and the audience to ask for. Never prints a secret.
 *
 * @example
 * log(tryCommand('http://127.0.0.1:8000', config).join('\n'));
 */
export function tryCommand(url: string, config: GatewayConfig): string[] {
  const hello = JSON.stringify({ model: modelToTry(config), messages: [{ role: 'user', content: 'Hello' }] });
  const curl = `curl -s ${url}/v1/chat/completions -H 'content-type: application/json'`;
  const { identity } = config.governance;
  if (identity.anonymous.allowed) return ['try:', `  ${curl} -d '${hello}'`];
  if (identity.apiKeys.enabled) {
    const active = identity.apiKeys.keys.filter((k) => !k.suspended).map((k) => k.id);
    const which =
      active.length === 0
        ? 'no key is active: make one with `npm run key` and add its entry to governance.identity.apiKeys.keys'
        : `with one of the configured keys (${listed(active)}); ` +
          'a new one: `npm run key` prints a key and its entry for governance.identity.apiKeys.keys';
    return [
      `try (API keys are on: replace $GATEWAY_KEY ${which}):`,
      `  ${curl} -H "api-key: $GATEWAY_KEY" -d '${hello}'`,
    ];
  }
  if (identity.entra.enabled) {
    const audience = [identity.entra.audience ?? []].flat()[0] ?? '<the gateway app id URI>';
    return [
      `try (Entra ID is on: an access token for ${audience}, e.g. az account get-access-token --resource ${audience}):`,
      `  ${curl} -H "authorization: Bearer $TOKEN" -d '${hello}'`,
    ];
  }
  return [
    'try: callers come from a trusted upstream (governance.identity.trustedUpstream); call through it:',
    `  ${curl} -d '${hello}'`,
  ];
}

/** A model name the routes serve: the first exact name, else one a wildcard route takes. */
function modelToTry(config: GatewayConfig): string {
  for (const route of config.routes) {
    const exact = route.match.models?.find((m) => !m.includes('*'));
    if (exact !== undefined) return exact;
  }
  for (const route of config.routes) {
    const wildcard = route.match.models?.find((m) => m.includes('*'));
    if (wildcard === undefined) continue;
    const prefix = wildcard.slice(0, wildcard.indexOf('*'));
    return 'gpt-4o-mini'.startsWith(prefix) ? 'gpt-4o-mini' : `${prefix}example`;
  }
  return 'gpt-4o-mini';
}

function listed(ids: readonly string[]): string {
  return ids.length <= 3 ? ids.join(', ') : `${ids.slice(0, 3).join(', ')} and ${ids.length - 3} more`;
}
