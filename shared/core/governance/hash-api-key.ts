import { createHash } from 'node:crypto';

/**
 * The SHA-256 of a key's UTF-8 bytes as lower-case hex — the only form in which API keys and admin keys
 * appear in configuration.
 *
 * @example
 * hashApiKey('sk-team-a-secret') // → '3c1e…' (64 hex characters) to put in identity.apiKeys.keys[].sha256
 * // from a shell:
 * // node -e "console.log(require('crypto').createHash('sha256').update(process.argv[1]).digest('hex'))" \
 * //   'sk-team-a-secret'
 */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}
