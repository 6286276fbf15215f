import type { HeaderReader } from '../http/header-map.js';
/** The header an admin key is presented in; never forwarded upstream. */
export const ADMIN_KEY_HEADER = 'x-gateway-admin-key';

/** Three base64url segments: what a bearer token must look like to be read as a JWT. */
export const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/**
 * The token of an `Authorization: Bearer <token>` header, if there is one.
 *
 * @example
 * bearerToken(new Headers({ authorization: 'Bearer abc' })) // 'abc'
 */
export function bearerToken(headers: HeaderReader): string | undefined {
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(headers.get('authorization') ?? '');
  return match?.[1];
}

/**
 * A header value trimmed, or undefined when it is missing or blank.
 *
 * @example
 * nonEmpty(headers.get('api-key'))
 */
export function nonEmpty(value: string | null): string | undefined {
  const trimmed = value?.trim();
  return trimmed === undefined || trimmed === '' ? undefined : trimmed;
}

/**
 * A token claim as a string, or undefined when it is not a non-empty string.
 *
 * @example
 * claimString(claims.oid) ?? claimString(claims.sub)
 */
export function claimString(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}
