import type { HeaderRuleConfig } from '../../config/governance-schema.js';
import { GatewayError } from '../errors/gateway-error.js';
import { matchNamePattern } from './match-name-pattern.js';
import type { HeaderReader } from '../http/header-map.js';

/**
 * Applies required headers and header value rules (the seed's `RequiredHeaders` and
 * `ValidateHeaders` `Source=Allowed`), in that order; the first failure wins.
 *
 * - a required header that is missing or blank → 417 `GW_ERR_POLICY_REQUIRED_HEADER`;
 * - a rule's header that is missing → 417 `GW_ERR_POLICY_REQUIRED_HEADER` (the seed auto-required it);
 * - a value that matches no allowed entry (exact, case-insensitive, or prefix `entry*`) → 417
 *   `GW_ERR_POLICY_HEADER_RULE`.
 *
 * The pseudo header `:path` (alias `S7Path`) is the request path with its query. Unlike the seed, the
 * allowed values come from configuration, not from another request header, so a caller cannot
 * influence them.
 *
 * @example
 * checkHeaderRules(headers, '/openai/deployments/gpt-4o/chat/completions', ['x-team'],
 *   [{ header: ':path', allowed: ['/openai/*'] }]);
 */
export function checkHeaderRules(
  headers: HeaderReader,
  path: string,
  required: readonly string[],
  rules: readonly HeaderRuleConfig[],
): void {
  const read = (name: string): string | null =>
    name === ':path' || name.toLowerCase() === 's7path' ? path : headers.get(name);
  for (const name of required) {
    const value = read(name);
    if (value === null || value.trim() === '') {
      throw new GatewayError('GW_ERR_POLICY_REQUIRED_HEADER', {
        message: `Required header is missing: ${name}`,
        param: name,
      });
    }
  }
  for (const rule of rules) {
    const value = read(rule.header);
    if (value === null || value.trim() === '') {
      throw new GatewayError('GW_ERR_POLICY_REQUIRED_HEADER', {
        message: `Required header is missing: ${rule.header}`,
        param: rule.header,
      });
    }
    if (!matchNamePattern(rule.allowed, value.trim())) {
      const shown = value.trim().slice(0, 128);
      throw new GatewayError('GW_ERR_POLICY_HEADER_RULE', {
        message: `Validation check failed for ${rule.header}: "${shown}" is not an allowed value.`,
        param: rule.header,
      });
    }
  }
}
