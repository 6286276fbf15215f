import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * Finds the configured key whose hash equals the SHA-256 of `presented`, comparing in constant time and
 * always against every entry, so that neither the match nor its position shows in the timing.
 *
 * @example
 * findKeyByHash(index.apiKeys, headers.get('api-key') ?? '')?.profile
 */
export function findKeyByHash<T extends { readonly hash: Buffer }>(
  keys: readonly T[],
  presented: string,
): T | undefined {
  const digest = createHash('sha256').update(presented, 'utf8').digest();
  let found: T | undefined;
  for (const key of keys) {
    const equal = key.hash.length === digest.length && timingSafeEqual(key.hash, digest);
    if (equal && found === undefined) found = key;
  }
  return found;
}
